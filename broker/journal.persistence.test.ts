import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JournalPersistence, type StoredPacket } from './journal.persistence.ts';

const here = dirname(fileURLToPath(import.meta.url));
const broker = { id: 'broker-a' };
const ingest = { id: 'svc-ingest' };
let counter = 0;
const publish = (topic: string, body: string): StoredPacket => ({
  cmd: 'publish',
  brokerId: broker.id,
  brokerCounter: ++counter,
  topic,
  payload: Buffer.from(body),
  qos: 1,
  retain: false,
  dup: false,
});
const all = async (s: Readable): Promise<StoredPacket[]> => (await s.toArray()) as StoredPacket[];

async function open(dir: string, compactBytes?: number): Promise<JournalPersistence> {
  const p = new JournalPersistence(dir, { compactBytes });
  await p.setup(broker);
  return p;
}

describe('JournalPersistence', () => {
  it("passes aedes-persistence's own conformance suite", () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', join(here, 'journal.conformance.mts')], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stdout).toMatch(/# pass 50/);
    expect(r.stdout).toMatch(/# fail 0/);
    expect(r.status).toBe(0);
  });

  it('restores sessions, queues, retained messages and wills after a crash (no destroy)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const a = await open(dir);
    await a.addSubscriptions(ingest, [{ topic: 'heat/v1/devices/+/telemetry', qos: 1 }]);
    const subs = await a.subscriptionsByTopic('heat/v1/devices/d1/telemetry');
    expect(subs.map((s) => s.clientId)).toEqual(['svc-ingest']);
    const p1 = publish('heat/v1/devices/d1/telemetry', 'one');
    const p2 = publish('heat/v1/devices/d2/telemetry', 'two');
    const p3 = publish('heat/v1/devices/d3/telemetry', 'three');
    for (const p of [p1, p2, p3]) await a.outgoingEnqueueCombi(subs, p);
    // p1 delivered with messageId 7 and acknowledged; p2 delivered (id 8), not acknowledged.
    await a.outgoingUpdate(ingest, { ...p1, messageId: 7 });
    await a.outgoingUpdate(ingest, { ...p2, messageId: 8 });
    expect((await a.outgoingClearMessageId(ingest, { messageId: 7 }))?.payload?.toString()).toBe('one');
    await a.storeRetained({ cmd: 'publish', topic: 'heat/v1/devices/d1/status', payload: Buffer.from('online'), qos: 1, retain: true });
    await a.putWill(
      { id: 'd1' },
      { cmd: 'publish', topic: 'heat/v1/devices/d1/status', payload: Buffer.from('offline'), qos: 1, retain: true },
    );
    // Crash: the process dies without destroy(); everything resolved above reached the file.

    const b = await open(dir);
    const q = await all(b.outgoingStream(ingest));
    expect(q.map((p) => p.payload?.toString())).toEqual(['two', 'three']);
    expect(q.map((p) => p.messageId)).toEqual([8, undefined]);
    expect((await b.subscriptionsByClient(ingest)).map((s) => s.topic)).toEqual(['heat/v1/devices/+/telemetry']);
    expect((await all(b.createRetainedStream('heat/v1/devices/+/status'))).map((p) => p.payload?.toString())).toEqual(['online']);
    // The will belongs to the dead broker: aedes publishes it after the restart.
    const wills = await all(b.streamWill({ [broker.id + '-new']: true }));
    expect(wills.map((w) => [w.clientId, w.payload?.toString()])).toEqual([['d1', 'offline']]);
    expect(await b.countOffline()).toEqual({ subsCount: 1, clientsCount: 1 });
    await b.destroy();
  });

  it('skips a torn last line (a crash mid-write) and keeps every complete record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const a = await open(dir);
    const subs = [{ clientId: 'svc-ingest' }];
    await a.outgoingEnqueueCombi(subs, publish('t/1', 'kept'));
    const file = readdirSync(dir).find((f) => f.endsWith('.log'))!;
    appendFileSync(join(dir, file), '["e",["svc-ingest"],{"c":"publ');
    const b = await open(dir);
    expect((await all(b.outgoingStream(ingest))).map((p) => p.payload?.toString())).toEqual(['kept']);
    expect(b.stats().skippedOnLoad).toBe(1);
    await b.destroy();
  });

  it('compacts past its bound: the file shrinks to the live state, and a restart still sees it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const a = await open(dir, 64 * 1024);
    const subs = [{ clientId: 'svc-ingest' }];
    let id = 0;
    // 5,000 messages through the session, each delivered and acknowledged; the last 10 stay queued.
    for (let i = 0; i < 5000; i++) {
      const p = publish('t/x', `m${i}`);
      await a.outgoingEnqueueCombi(subs, p);
      if (i < 4990) {
        id = (id % 65535) + 1;
        await a.outgoingUpdate(ingest, { ...p, messageId: id });
        await a.outgoingClearMessageId(ingest, { messageId: id });
      }
    }
    expect(a.stats().compactions).toBeGreaterThan(1);
    expect(a.stats().queued).toBe(10);
    const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
    expect(files).toHaveLength(1); // older generations removed
    expect(statSync(join(dir, files[0]!)).size).toBeLessThan(64 * 1024 + 8192);
    const b = await open(dir);
    expect((await all(b.outgoingStream(ingest))).map((p) => p.payload?.toString())).toEqual(
      Array.from({ length: 10 }, (_, k) => `m${4990 + k}`),
    );
    await b.destroy();
  });

  it("does not rewrite a large live state after every few appends (an offline subscriber's queue)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const a = await open(dir, 64 * 1024);
    const subs = [{ clientId: 'svc-ingest' }];
    // 4,000 queued, never acknowledged: the live state grows to ~10× the bound.
    for (let i = 0; i < 4000; i++) await a.outgoingEnqueueCombi(subs, publish('t/x', `message ${i} `.padEnd(100, '.')));
    // Compacting whenever the file passes the bound would rewrite the whole queue on nearly
    // every append once it is larger than the bound (thousands of times); doubling keeps it few.
    expect(a.stats().compactions).toBeLessThan(10);
    expect(a.stats().queued).toBe(4000);
    await a.destroy();
    const b = await open(dir);
    expect(b.stats().queued).toBe(4000);
    await b.destroy();
  });

  it('answers calls in call order (aedes drops a publish that overtakes a later one)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const a = await open(dir);
    await a.addSubscriptions(ingest, [{ topic: 't/#', qos: 1 }]);
    const order: number[] = [];
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      // Alternate between topics with and without persistent subscribers.
      const topic = i % 3 === 0 ? 'other/x' : 't/x';
      const subs = await a.subscriptionsByTopic(topic);
      calls.push(a.outgoingEnqueueCombi(subs, publish(topic, String(i))).then(() => void order.push(i)));
    }
    await Promise.all(calls);
    expect(order).toEqual(Array.from({ length: 200 }, (_, i) => i));
    await a.destroy();
  });

  it('drains a deep queue (100,000 packets, messageIds wrapping past 65,535) acknowledged in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const a = await open(dir);
    const subs = [{ clientId: 'svc-ingest' }];
    const n = 100_000;
    const window = 20_000; // deliveries unacknowledged at a time (MQTT allows up to 65,535)
    for (let i = 0; i < n; i++) void a.outgoingEnqueueCombi(subs, publish('t/x', 'x'));
    const q = await all(a.outgoingStream(ingest));
    expect(q).toHaveLength(n);
    const id = (i: number) => (i % 65535) + 1;
    for (let i = 0; i < n + window; i++) {
      if (i < n) void a.outgoingUpdate(ingest, { ...q[i]!, messageId: id(i) });
      if (i >= window) void a.outgoingClearMessageId(ingest, { messageId: id(i - window) });
    }
    await a.outgoingClearMessageId(ingest, { messageId: 1 });
    expect(a.stats().queued).toBe(0);
    expect(a.stats().renumbered).toBe(0);
    await a.destroy();
  });

  it('never gives a delivery a messageId an unacknowledged packet of the session still holds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journal-'));
    const a = await open(dir);
    const subs = [{ clientId: 'svc-ingest' }];
    const [p1, p2, p3] = ['one', 'two', 'three'].map((b) => publish('t/x', b));
    for (const p of [p1!, p2!, p3!]) await a.outgoingEnqueueCombi(subs, p);
    // One and two were delivered on the previous connection as 7 and 8 and are resent with
    // those ids ([MQTT-4.4.0-1]); the new connection's counter happens to start at 7.
    await a.outgoingUpdate(ingest, { ...p1!, messageId: 7 });
    await a.outgoingUpdate(ingest, { ...p2!, messageId: 8 });
    const client = { id: ingest.id, _nextId: 7 };
    const third = { ...p3!, messageId: 7 };
    await a.outgoingUpdate(client, third);
    expect(third.messageId).toBe(9); // the next free id, written into the packet aedes sends
    expect(client._nextId).toBe(10); // and the connection numbers on from there
    expect(a.stats().renumbered).toBe(1);
    // Its PUBACK clears it, not the older 7.
    expect((await a.outgoingClearMessageId(ingest, { messageId: 9 }))?.payload?.toString()).toBe('three');
    // A resend keeps its own id.
    const again = { ...p1!, messageId: 7 };
    await a.outgoingUpdate(client, again);
    expect(again.messageId).toBe(7);
    // And after a restart the journal holds the ids as they were given.
    const b = await open(dir);
    expect((await all(b.outgoingStream(ingest))).map((p) => [p.payload?.toString(), p.messageId])).toEqual([
      ['one', 7],
      ['two', 8],
    ]);
    await b.destroy();
    await a.destroy();
  });
});
