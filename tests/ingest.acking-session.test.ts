/**
 * Contract test of the ingest's MQTT session (ingest/acking-session.mqtt.ts) against the real
 * broker and the real MQTT.js: a QoS 1 PUBACK is held until release(), so a message not
 * released is redelivered on the next connection and a released one is not. It patches
 * MQTT.js' private `_sendPacket`; if that internal moves (an MQTT.js upgrade), MQTT.js acks
 * by itself and this test fails.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { generate, parser as mqttParser, type IPublishPacket, type ISubscribePacket, type Packet } from 'mqtt-packet';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import { topics } from '../domain/topics.ts';
import { AckingSession, type Delivery } from '../ingest/acking-session.mqtt.ts';
import { fixServiceSecret, seedFixtureRegistry, sensorId } from '../ingest/testing.fixture.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import { waitFor } from './harness/ports.ts';

const logger = pino({ level: 'silent' });

/**
 * A scripted MQTT broker on a raw socket, for what aedes cannot be made to do on cue: `script`
 * answers each packet of connection `conn` (1, 2, … in the order they arrive) through `send`.
 */
async function scriptedBroker(script: (pk: Packet, send: (out: Packet) => void, conn: number) => void) {
  let conns = 0;
  const sockets = new Set<Socket>();
  const server = createServer((sock) => {
    const conn = ++conns;
    sockets.add(sock);
    const p = mqttParser({ protocolVersion: 4 });
    p.on('packet', (pk) => script(pk, (out) => sock.write(generate(out)), conn));
    sock.on('data', (b) => p.parse(b));
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    connections: () => conns,
    /** Every open connection dies (no DISCONNECT). */
    dropAll: () => sockets.forEach((sock) => sock.destroy()),
    close: () => new Promise((r) => server.close(r)),
  };
}

/** The SUBACK granting every filter at QoS 1. */
const suback = (pk: ISubscribePacket): Packet => ({ cmd: 'suback', messageId: pk.messageId, granted: pk.subscriptions.map(() => 1) });
const publishQos1 = (messageId: number, topic: string, payload: string): IPublishPacket => ({
  cmd: 'publish',
  qos: 1,
  dup: false,
  retain: false,
  messageId,
  topic,
  payload,
});

describe('ingest acking session: PUBACK only on release (MQTT.js internals, real broker)', () => {
  let dir: string;
  let registry: RegistryRepository;
  let broker: BrokerApp;
  let url: string;
  let device: MqttClient;

  /**
   * The ingest's session (on the real broker unless `o.url` says otherwise), collecting its
   * deliveries in `got`; each is handed on at once, or by `o.handOn` when it calls `next`.
   */
  const session = (
    got: Delivery[],
    o: { url?: string; clientId?: string; password?: string; handOn?: (next: () => void) => void } = {},
  ) => {
    const s = new AckingSession({
      url: o.url ?? url,
      clientId: o.clientId ?? 'svc-ingest-contract',
      username: 'svc-ingest',
      password: o.password ?? fixServiceSecret('svc-ingest'),
      subscriptions: topics.allTelemetry,
      logger,
    });
    s.onDelivery((d, next) => {
      got.push(d);
      if (o.handOn) o.handOn(next);
      else next();
    });
    return s;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acking-session-'));
    registry = seedFixtureRegistry(dir, 3);
    broker = await createBrokerApp({ registry, logger, persistenceDir: join(dir, 'broker') });
    const { mqttPort } = await broker.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' });
    url = `mqtt://127.0.0.1:${mqttPort}`;
    device = await mqtt.connectAsync(url, {
      clientId: 'svc-sim-contract',
      username: 'svc-sim',
      password: fixServiceSecret('svc-sim'),
      protocolVersion: 4,
    });
  });

  afterAll(async () => {
    await device?.endAsync();
    await broker?.close();
    registry?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds the PUBACK until release(): unreleased is redelivered, released is not', async () => {
    const first: Delivery[] = [];
    const s1 = session(first);
    await s1.start();
    await device.publishAsync(topics.telemetry(sensorId(0)), '{"ts":1,"temp":20}', { qos: 1 });
    await waitFor(() => first.length === 1, { what: 'first delivery' });
    expect(first[0]!.messageId).toBeTypeOf('number');
    expect(broker.metrics().queueDepth).toBe(1); // stored for the session, not acknowledged
    await s1.end();

    const second: Delivery[] = [];
    const s2 = session(second);
    await s2.start();
    await waitFor(() => second.length === 1, { what: 'redelivery of the unreleased message' });
    expect(second[0]!.payload.toString()).toBe('{"ts":1,"temp":20}');
    s2.release(second);
    await waitFor(() => broker.metrics().queueDepth === 0, { what: `PUBACK reached the broker (depth ${broker.metrics().queueDepth})` });
    await s2.end();

    const third: Delivery[] = [];
    const s3 = session(third);
    await s3.start();
    await device.publishAsync(topics.telemetry(sensorId(1)), '{"ts":2,"temp":21}', { qos: 1 });
    await waitFor(() => third.length >= 1, { what: 'marker delivery' });
    expect(third.map((d) => d.payload.toString())).toEqual(['{"ts":2,"temp":21}']);
    s3.release(third);
    await s3.end();
  });

  it('a PUBACK held from a closed connection is never sent on the next one', async () => {
    const got: Delivery[] = [];
    const s = session(got);
    await s.start();
    await device.publishAsync(topics.telemetry(sensorId(2)), '{"ts":3,"temp":22}', { qos: 1 });
    await waitFor(() => got.length === 1, { what: 'delivery' });
    const old = got[0]!;
    s.drop(); // MQTT.js reconnects; the broker redelivers on the new connection
    await waitFor(() => got.length === 2, { what: 'redelivery after the drop' });
    expect(got[1]!.generation).toBeGreaterThan(old.generation);
    s.release([old]); // void: its messageId belonged to the closed connection
    expect(broker.metrics().queueDepth).toBe(1);
    s.release([got[1]!]);
    await waitFor(() => broker.metrics().queueDepth === 0, { what: 'acked on the new connection' });
    await s.end();
  });

  it('a refused login rejects start() with the CONNACK code, not a retry loop', async () => {
    const s = session([], { password: 'wrong-secret' });
    await expect(s.start()).rejects.toMatchObject({ code: expect.any(Number) });
    await s.end();
  });

  it('two unacknowledged messages with the same id (aedes after a restart) get a PUBACK each', async () => {
    // A scripted broker over a raw socket: aedes resends a restored queue with its stored ids
    // and numbers new deliveries from a random start, so one connection can carry two
    // messages with id 7. Each needs its own PUBACK, sent at its own release.
    const pubacks: number[] = [];
    const server = await scriptedBroker((pk, send) => {
      if (pk.cmd === 'connect') send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
      else if (pk.cmd === 'subscribe') {
        send(suback(pk));
        for (const n of [1, 2]) send(publishQos1(7, topics.telemetry(sensorId(n)), `{"n":${n}}`));
      } else if (pk.cmd === 'puback') pubacks.push(pk.messageId!);
    });
    const got: Delivery[] = [];
    const s = session(got, { url: server.url, clientId: 'dup-ids' });
    try {
      await s.start();
      await waitFor(() => got.length === 2, { what: 'both deliveries' });
      s.release([got[0]!]);
      await waitFor(() => pubacks.length === 1, { what: 'first PUBACK' });
      s.release([got[1]!]);
      await waitFor(() => pubacks.length === 2, { what: 'second PUBACK for the same id' });
      expect(pubacks).toEqual([7, 7]);
    } finally {
      await s.end();
      await server.close();
    }
  });

  it("a delivery handed on after its connection closed never PUBACKs the next connection's message with that id", async () => {
    // Scripted broker: connection 1 delivers id 5 and dies before the ingest has stored it;
    // connection 2's CONNACK comes late (the ingest is offline meanwhile), then it delivers a
    // different message, also id 5. The late store of the first must not ack the second.
    const pubacks: { conn: number; id: number }[] = [];
    const server = await scriptedBroker((pk, send, conn) => {
      const deliver = () => send(publishQos1(5, topics.telemetry(sensorId(0)), `{"conn":${conn}}`));
      if (pk.cmd === 'connect') {
        // Connection 2 resumes the session (its subscriptions are kept: no SUBSCRIBE comes).
        if (conn === 1) send({ cmd: 'connack', returnCode: 0, sessionPresent: false });
        else
          setTimeout(() => {
            send({ cmd: 'connack', returnCode: 0, sessionPresent: true });
            deliver();
          }, 400);
      } else if (pk.cmd === 'subscribe') {
        send(suback(pk));
        if (conn === 1) deliver();
      } else if (pk.cmd === 'puback') pubacks.push({ conn, id: pk.messageId! });
    });
    const got: Delivery[] = [];
    const stored: (() => void)[] = [];
    // The store is slow: each delivery is handed on later, by hand.
    const s = session(got, { url: server.url, clientId: 'late-store', handOn: (next) => stored.push(next) });
    try {
      await s.start();
      await waitFor(() => got.length === 1, { what: 'first delivery' });
      server.dropAll(); // connection 1 dies
      await waitFor(() => !s.connected && server.connections() === 2, { what: 'reconnecting' });
      stored.shift()!(); // the first message is stored while offline (MQTT.js would queue its PUBACK)
      s.release([got[0]!]);
      await waitFor(() => got.length === 2, { what: "connection 2's delivery" });
      expect(got[1]!.payload.toString()).toBe('{"conn":2}');
      stored.shift()!(); // handed on, not yet released: no PUBACK may go out for it
      await new Promise((r) => setTimeout(r, 300));
      expect(pubacks).toEqual([]);
      s.release([got[1]!]);
      await waitFor(() => pubacks.length === 1, { what: "connection 2's own PUBACK" });
      expect(pubacks).toEqual([{ conn: 2, id: 5 }]);
    } finally {
      await s.end();
      await server.close();
    }
  });
});
