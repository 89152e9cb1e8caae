/**
 * Issue 17, message-id exhaustion on the MQTT feed: a persistent session has 65,535 packet
 * identifiers [MQTT-2.3.1-2]. With more unacknowledged deliveries than that, the journal
 * threw "every message id of the session is in use", aedes closed the subscriber's
 * connection and resent the whole queue on the reconnect (≈120 s of broker CPU in the
 * 10-readings/message bench). Now a delivery waits for a PUBACK to free an id
 * (broker/journal.id-flow.ts).
 *
 * Real broker (journal on disk), a device publishing QoS 1 over a raw socket (fast enough for
 * 66,000+ messages), and a raw-socket subscriber that withholds its PUBACKs until told.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { afterAll, describe, expect, it } from 'vitest';
import { createBrokerApp, type BrokerApp } from '../broker/app.ts';
import { JournalPersistence } from '../broker/journal.persistence.ts';
import { deviceSecret, seedRegistry, serviceSecret, silentLogger } from '../broker/testing.fixture.ts';
import { topics } from '../domain/topics.ts';
import { waitFor } from './harness/ports.ts';
import { rawSubscriber, type RawSubscriber } from './harness/raw-subscriber.ts';

const IDS = 65_535;
const registry = seedRegistry();
const dirs: string[] = [];
afterAll(() => {
  registry.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function start(): Promise<{ app: BrokerApp; port: number; journal: () => ReturnType<JournalPersistence['stats']> }> {
  const dir = mkdtempSync(join(tmpdir(), 'broker-idflow-'));
  dirs.push(dir);
  // The device's publish rate limit is not what is tested here.
  const app = await createBrokerApp({
    registry,
    logger: silentLogger,
    persistenceDir: dir,
    options: { publishRatePerSec: 1e6, publishBurst: 1e6, publishFloodCutoff: 1e6 },
  });
  const { mqttPort } = await app.listen({ mqttPort: 0, wsPort: 0, host: '127.0.0.1' });
  const persistence = (app.aedes as unknown as { persistence: unknown }).persistence;
  if (!(persistence instanceof JournalPersistence)) throw new Error('expected the journal');
  return { app, port: mqttPort, journal: () => persistence.stats() };
}

const CLIENT = 'svc-ingest-flow';
const subscriber = (port: number) =>
  rawSubscriber({ port, clientId: CLIENT, username: 'svc-ingest', password: serviceSecret('svc-ingest') });

/** dev-b publishes `n` QoS 1 readings `{"i":k}` over a raw socket; resolves with its PUBACK count once all came. */
async function publishAll(port: number, n: number): Promise<number> {
  const s = connect(port, '127.0.0.1');
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let acked = 0;
  let connacked: () => void = () => {};
  let done: () => void = () => {};
  parser.on('packet', (p: Packet) => {
    if (p.cmd === 'connack') connacked();
    else if (p.cmd === 'puback' && ++acked === n) done();
  });
  s.on('data', (b: Buffer) => parser.parse(b));
  await new Promise<void>((resolve) => {
    connacked = resolve;
    s.once('connect', () =>
      s.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          keepalive: 0,
          clientId: 'dev-b',
          username: 'dev-b',
          password: Buffer.from(deviceSecret('dev-b')),
        }),
      ),
    );
  });
  const all = new Promise<void>((resolve) => (done = resolve));
  const topic = topics.telemetry('dev-b');
  // The device's own ids: at most 65,535 in flight, so publish in windows.
  for (let k = 0; k < n; k++) {
    if (k - acked >= 30_000) await new Promise<void>((r) => setTimeout(r, 20));
    s.write(
      mqttPacket.generate({ cmd: 'publish', topic, payload: `{"i":${k}}`, qos: 1, messageId: (k % IDS) + 1, retain: false, dup: false }),
    );
  }
  await all;
  s.destroy();
  return acked;
}

const payloads = (s: RawSubscriber) => s.received.map((p) => (JSON.parse(String(p.payload)) as { i: number }).i);

/**
 * Acknowledge everything received, in order, as it arrives, until `n` messages came. Counts
 * the messages past the first 65,535 whose id was not freed by our PUBACK before they arrived.
 */
async function ackUntil(s: RawSubscriber, n: number): Promise<{ reusedBeforeFreed: number }> {
  const ackedAt = new Map<number, number>(); // messageId → received count when its last holder was acked
  let reusedBeforeFreed = 0;
  let next = 0;
  const deadline = Date.now() + 120_000;
  while (next < n) {
    if (Date.now() > deadline) throw new Error(`${s.received.length}/${n} after acking ${next}`);
    if (next === s.received.length) {
      await s.waitFor(next + 1, 60_000);
      continue;
    }
    const p = s.received[next]!;
    const freedAt = ackedAt.get(p.messageId!);
    // A reused id must belong to a message acknowledged before this one arrived; until the
    // first round of acks every id is held.
    if (next >= IDS && (freedAt === undefined || next < freedAt)) reusedBeforeFreed++;
    s.puback(p.messageId!);
    ackedAt.set(p.messageId!, s.received.length);
    next++;
  }
  return { reusedBeforeFreed };
}

describe('broker: more than 65,535 unacknowledged deliveries on one session (message-id flow control)', () => {
  it('waits for PUBACKs instead of closing the connection; every message once, in order', async () => {
    const { app, port, journal } = await start();
    try {
      const s = await subscriber(port);
      await s.subscribe(topics.telemetry('dev-b'), 1);
      const N = IDS + 1_500;
      // Every device PUBACK comes although the subscriber acknowledges nothing: the waiting
      // deliveries do not hold the broker's emitter (or the publisher) up.
      expect(await publishAll(port, N)).toBe(N);
      await s.waitFor(IDS, 60_000);
      await waitFor(() => journal().waitingForId === N - IDS, { what: `waiting ${journal().waitingForId}` });
      await new Promise((r) => setTimeout(r, 300));
      expect(s.received.length).toBe(IDS);
      expect(new Set(s.received.map((p) => p.messageId)).size).toBe(IDS);
      expect(s.closed).toBe(false);

      const { reusedBeforeFreed } = await ackUntil(s, N);
      expect(reusedBeforeFreed).toBe(0);
      expect(payloads(s)).toEqual(Array.from({ length: N }, (_, i) => i));
      await waitFor(() => app.metrics().queueDepth === 0, { what: `queue depth ${app.metrics().queueDepth}` });
      await new Promise((r) => setTimeout(r, 300));
      expect(s.received.length).toBe(N);
      expect(s.closed).toBe(false);
      expect(journal()).toMatchObject({ idWaits: N - IDS, waitingForId: 0 });
      await s.destroy();
    } finally {
      await app.close();
    }
  }, 240_000);

  it('drops the waiting deliveries of a connection that closed; the next connection gets each message once', async () => {
    const { app, port, journal } = await start();
    try {
      const s1 = await subscriber(port);
      await s1.subscribe(topics.telemetry('dev-b'), 1);
      const N = IDS + 400;
      await publishAll(port, N);
      await s1.waitFor(IDS, 60_000);
      await waitFor(() => journal().waitingForId === N - IDS, { what: `waiting ${journal().waitingForId}` });
      await s1.destroy();
      await waitFor(() => journal().waitingForId === 0, { what: `waiting after close ${journal().waitingForId}` });

      // The resumed session: the 65,535 sent ones again (their ids), then the 400 that waited.
      const s2 = await subscriber(port);
      expect(s2.sessionPresent).toBe(true);
      const { reusedBeforeFreed } = await ackUntil(s2, N);
      expect(reusedBeforeFreed).toBe(0);
      expect(payloads(s2)).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(s2.received.slice(0, IDS).map((p) => p.messageId)).toEqual(s1.received.map((p) => p.messageId));
      await waitFor(() => app.metrics().queueDepth === 0, { what: `queue depth ${app.metrics().queueDepth}` });
      await new Promise((r) => setTimeout(r, 300));
      expect(s2.received.length).toBe(N);
      expect(s1.received.length).toBe(IDS); // nothing written to the closed connection
      expect(s2.closed).toBe(false);
      await s2.destroy();
    } finally {
      await app.close();
    }
  }, 240_000);
});
