/**
 * Issue 15: one contract test per aedes / mqtt-packet internal the broker patches
 * (broker/patches/*.patch.ts). Each runs against a real aedes instance (its default in-memory
 * persistence, no platform hooks unless the patch needs one) over real sockets, and fails when
 * the internal the patch relies on moves or changes shape — the signal to re-check the patch
 * before upgrading aedes (pinned in package.json).
 */
import { createServer, connect, type Server } from 'node:net';
import { Aedes, type Client } from 'aedes';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { clientsById } from '../broker/patches/clients-map.patch.ts';
import { dedupeExactly } from '../broker/patches/dedupe.patch.ts';
import { limitPacketSize } from '../broker/patches/packet-size.patch.ts';
import { moveNextIdPast } from '../broker/patches/next-id.patch.ts';
import { patchPublishOnce } from '../broker/patches/publish-once.patch.ts';
import { releaseWriteCallback } from '../broker/patches/qos-write-callback.patch.ts';
import { readWhileParked } from '../broker/patches/read-while-parked.patch.ts';
import { waitFor } from './harness/ports.ts';
import { rawSubscriber } from './harness/raw-subscriber.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function broker(
  opts: Parameters<typeof Aedes.createBroker>[0] = {},
  onClient: (c: Client) => void = () => {},
): Promise<{ aedes: Aedes; port: number }> {
  const aedes = await Aedes.createBroker(opts);
  const server: Server = createServer((s) => onClient(aedes.handle(s)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { aedes, port: (server.address() as { port: number }).port };
}

const url = (port: number) => `mqtt://127.0.0.1:${port}`;
const sub = (port: number, clientId: string, clean = true) => rawSubscriber({ port, clientId, username: 'u', password: 'p', clean });

/** The next aedes client to register (the 'client' event's object). */
const nextClient = (aedes: Aedes) => new Promise<Client>((r) => aedes.once('client', r));

describe('aedes internals the broker patches (aedes 1.2.0, mqtt-packet 9.0.2)', () => {
  it('publish-once: the hook and broker.publish get the same packet object, looked up on the instance', async () => {
    let hooked: object | undefined;
    const { aedes, port } = await broker({
      authorizePublish: (_c, packet, cb) => {
        hooked = packet;
        cb(null);
      },
    });
    expect(typeof Aedes.prototype.publish).toBe('function');
    expect(Aedes.prototype.publish.length).toBe(3); // publish(packet, client, done)
    const once = patchPublishOnce(aedes);
    const published: object[] = [];
    aedes.on('publish', (p, c) => void (c && published.push(p)));
    // The hook's packet is skipped by the instance's publish: nothing reaches 'publish'.
    const dev = await mqtt.connectAsync(url(port), { clientId: 'dev-1', reconnectPeriod: 0 });
    cleanups.push(() => dev.endAsync());
    const first = new Promise<void>((r) => {
      const onPub = (_p: unknown, c: Client | null) => c && r();
      aedes.once('publish', onPub);
    });
    await dev.publishAsync('t/1', 'a', { qos: 1 });
    await first;
    expect(published).toHaveLength(1);
    expect(published[0]).toBe(hooked); // same object: so skip() of the hook's packet works
    once.skip(hooked!);
    // A second publish of that packet object through the instance is answered as done.
    await new Promise<void>((r) => aedes.publish(hooked as never, () => r()));
    expect(published).toHaveLength(1);
  });

  it('packet-size: the parser runs _parseLength by name on the instance, with packet.length and _emitError', async () => {
    const seen: number[] = [];
    const { aedes, port } = await broker({}, (c) => {
      const parser = (c as unknown as { _parser: { _states: string[]; _parseLength: unknown; _emitError: unknown } })._parser;
      expect(parser._states).toEqual(['_parseHeader', '_parseLength', '_parsePayload', '_newPacket']);
      expect(typeof parser._parseLength).toBe('function');
      expect(typeof parser._emitError).toBe('function');
      limitPacketSize(c, 1024, (bytes) => seen.push(bytes));
    });
    aedes.on('connectionError', () => undefined);
    const s = connect(port, '127.0.0.1');
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    s.on('error', () => undefined);
    await new Promise<void>((r) => s.once('connect', () => r()));
    // A CONNECT header announcing 100,000 bytes, then only a few: cut before the payload.
    s.write(Buffer.from([0x10, 0xa0, 0x8d, 0x06, 0, 4]));
    await closed;
    expect(seen).toEqual([100_000]);
  });

  it('clients-map: aedes.clients holds each connected client by id, and drops it on close', async () => {
    const { aedes, port } = await broker();
    const registered = nextClient(aedes);
    const c = await mqtt.connectAsync(url(port), { clientId: 'dev-2', reconnectPeriod: 0 });
    const client = await registered;
    expect(clientsById(aedes)['dev-2']).toBe(client);
    const gone = new Promise<void>((r) => aedes.once('clientDisconnect', () => r()));
    await c.endAsync();
    await gone;
    expect(clientsById(aedes)['dev-2']).toBeUndefined();
  });

  it('coalesce-writes: mqtt-packet writeToStream corks the stream and uncorks it on the next tick', async () => {
    const server = createServer((b) => b.resume());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const a = connect((server.address() as { port: number }).port, '127.0.0.1');
    await new Promise<void>((r) => a.once('connect', () => r()));
    cleanups.push(async () => {
      a.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    mqttPacket.writeToStream({ cmd: 'pingreq' }, a);
    expect(a.writableCorked).toBe(1);
    await new Promise((r) => process.nextTick(r));
    expect(a.writableCorked).toBe(0);
  });

  it('next-id: a new QoS 1 delivery takes client._nextId and increments it', async () => {
    const { aedes, port } = await broker();
    const registered = nextClient(aedes);
    const s = await sub(port, 'sub-3');
    cleanups.push(() => s.destroy());
    const client = (await registered) as unknown as { _nextId: unknown };
    expect(typeof client._nextId).toBe('number');
    expect(client._nextId).toBeGreaterThanOrEqual(1);
    expect(client._nextId).toBeLessThanOrEqual(65_535);
    await s.subscribe('t/3', 1);
    moveNextIdPast(client, 4241);
    expect(client._nextId).toBe(4242);
    await new Promise<void>((r) =>
      aedes.publish({ cmd: 'publish', topic: 't/3', payload: Buffer.from('x'), qos: 1, retain: false, dup: false }, () => r()),
    );
    await s.waitFor(1);
    expect(s.received[0]!.messageId).toBe(4242);
    expect(client._nextId).toBe(4243);
    moveNextIdPast(client, 65_535);
    expect(client._nextId).toBe(1);
  });

  it('qos-write-callback: deliveries and queue resends carry writeCallback into outgoingUpdate; releasing it frees the publish', async () => {
    const { aedes, port } = await broker();
    const p = (aedes as unknown as { persistence: unknown }).persistence as {
      outgoingUpdate(c: unknown, packet: { writeCallback?: unknown }): Promise<void>;
    };
    const update = p.outgoingUpdate.bind(p);
    const held: (() => void)[] = [];
    const callbacks: string[] = [];
    p.outgoingUpdate = (c, packet) => {
      callbacks.push(typeof packet.writeCallback);
      releaseWriteCallback(packet);
      // Held until the test lets it go, as a delivery waiting for a free id is.
      return new Promise<void>((r) => void held.push(() => void update(c, packet).then(r)));
    };
    const s1 = await sub(port, 'sub-4', false);
    await s1.subscribe('t/4', 1);
    // Live delivery (lib/client.js deliverQoS): the publish completes although the update waits.
    await new Promise<void>((r) =>
      aedes.publish({ cmd: 'publish', topic: 't/4', payload: Buffer.from('1'), qos: 1, retain: false, dup: false }, () => r()),
    );
    expect(callbacks).toEqual(['function']);
    expect(s1.received).toHaveLength(0);
    held.shift()!();
    await s1.waitFor(1);
    await s1.destroy();
    // Resend on reconnect (handlers/connect.js emptyQueue): the unacknowledged message again.
    const s2 = await sub(port, 'sub-4', false);
    cleanups.push(() => s2.destroy());
    await waitFor(() => callbacks.length === 2, { what: 'the resend reaches outgoingUpdate' });
    expect(callbacks).toEqual(['function', 'function']);
    held.shift()!();
    await s2.waitFor(1);
    expect(String(s2.received[0]!.payload)).toBe('1');
  });

  it('dedupe: a connection drops a delivery numbered below the last one it got (unpatched), and only a repeat with the patch', async () => {
    let n = 0;
    // The second connection gets the patch (before its CONNECT is read, as app.ts does).
    const { aedes, port } = await broker({}, (c) => void (n++ === 1 && dedupeExactly(c)));
    const plain = await sub(port, 'sub-5a');
    const patched = await sub(port, 'sub-5b');
    cleanups.push(
      () => plain.destroy(),
      () => patched.destroy(),
    );
    for (const s of [plain, patched]) {
      await s.subscribe('t/5/#', 0);
      await s.subscribe('t/5/a', 0); // overlapping: two subscriptions match t/5/a
    }
    const client = (clientsById(aedes)['sub-5b'] ?? {}) as { duplicates?: unknown; deliverQoS?: unknown; deliver0?: unknown };
    expect(typeof client.duplicates).toBe('object');
    expect(typeof client.deliverQoS).toBe('function');
    expect(typeof client.deliver0).toBe('function');
    // Straight to the emitter, numbered out of order, as a QoS 0 message overtaking a QoS 1 one
    // still being stored reaches it; then the overlapping topic (one copy each).
    const emit = (counter: number, topic: string) =>
      new Promise<void>((r) =>
        (aedes as unknown as { mq: { emit(p: object, cb: () => void): void } }).mq.emit(
          {
            cmd: 'publish',
            topic,
            payload: Buffer.from(String(counter)),
            qos: 0,
            retain: false,
            brokerId: aedes.id,
            brokerCounter: counter,
          },
          r,
        ),
      );
    await emit(1_000_010, 't/5/b');
    await emit(1_000_005, 't/5/b');
    await emit(1_000_011, 't/5/a');
    await patched.waitFor(3);
    await plain.waitFor(2);
    await new Promise((r) => setTimeout(r, 100)); // nothing more comes
    expect(plain.received.map((p) => String(p.payload))).toEqual(['1000010', '1000011']);
    expect(patched.received.map((p) => String(p.payload))).toEqual(['1000010', '1000005', '1000011']);
  });

  it('read-while-parked: one packet listener on client._parser, conn.read/readable, _keepaliveTimer; a parked publish no longer blocks PINGREQ', async () => {
    const rw = readWhileParked({ maxBytes: 64 * 1024 });
    const parked: (() => void)[] = [];
    let internals: { listeners: number; read: unknown; refresh: unknown } | undefined;
    const { port } = await broker({
      authorizePublish: (client, packet, cb) => {
        if (!packet.topic.startsWith('park/') || !client) return cb(null);
        const c = client as unknown as {
          _parser: { listeners(e: string): unknown[] };
          conn: { read: unknown };
          _keepaliveTimer: { refresh: unknown } | null;
        };
        internals = { listeners: c._parser.listeners('packet').length, read: c.conn.read, refresh: c._keepaliveTimer?.refresh };
        rw.parked(client);
        parked.push(() => {
          cb(null); // the PUBACK is written, then the packets read after it go on
          rw.unparked(client);
        });
      },
    });
    const dev = await mqtt.connectAsync(url(port), { clientId: 'dev-ping', keepalive: 30, reconnectPeriod: 0 });
    cleanups.push(() => dev.endAsync(true));
    const acks: string[] = [];
    const first = dev.publishAsync('park/1', 'a', { qos: 1 }).then(() => acks.push('park/1'));
    await waitFor(() => parked.length === 1, { what: 'publish parked' });
    expect(internals).toEqual({ listeners: 1, read: expect.any(Function), refresh: expect.any(Function) });
    const second = dev.publishAsync('t/2', 'b', { qos: 1 }).then(() => acks.push('t/2'));
    await new Promise((r) => setTimeout(r, 100));
    // The PINGREQ is read and answered while the publish before it waits.
    const pong = new Promise<void>((r) => dev.on('packetreceive', (p) => p.cmd === 'pingresp' && r()));
    (dev as unknown as { sendPing(): void }).sendPing();
    await pong;
    expect(rw.holding).toBe(1);
    expect(acks).toEqual([]); // the later publish waits behind the parked one
    parked[0]!();
    await Promise.all([first, second]);
    expect(acks).toEqual(['park/1', 't/2']);
    expect(rw.holding).toBe(0);
  });
});
