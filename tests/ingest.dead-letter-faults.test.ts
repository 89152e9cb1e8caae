/**
 * Issue 17, the ingest's dead letters: a rejected telemetry message is acknowledged once it is
 * in the spool, and its dead letter goes to records.db after the store write. When records.db
 * refuses that write (an I/O error injected at better-sqlite3's Statement#run for the
 * dead-letter insert, and a real SQLITE_FULL from PRAGMA max_page_count) the process does not
 * crash (it did: an unhandled rejection from the write pipeline), the batch stays untrimmed in
 * the spool and is retried, nothing newer is written, so the spool bound (INGEST_SPOOL_MAX=5)
 * withholds the device's PUBACKs; /api/v1/health names `ingest.deadLetters` and says degraded.
 * Once the disk takes writes again the dead letter is written once, every reading is
 * acknowledged and stored, and health is ok, with no restart.
 * The platform runs as `npm start` does (spool mode), with a real MQTT.js device.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../domain/topics.ts';
import { waitFor } from './harness/ports.ts';
import { startTestPlatform, type TestPlatform } from './harness/platform.ts';
import { fillSqliteDisk, injectSqliteFault, insertsInto } from './harness/sqlite-faults.ts';

const DEVICE = 'dev-dead-letters-1';
const SECRET = 'dead-letters-device-secret-0123';
const BOUND = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Health {
  status: 'ok' | 'degraded';
  writes: { path: string; failing: string | null; errors: number }[];
}

let p: TestPlatform;
let device: MqttClient;
const crashes: unknown[] = [];
const onCrash = (e: unknown) => crashes.push(e);

beforeAll(async () => {
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  p = await startTestPlatform({ demo: false, fleetSpeed: false, env: { INGEST_SPOOL_MAX: String(BOUND) } });
  p.registry.upsertDevice({ id: DEVICE, kind: 'room_sensor', intervalMin: 5, enabled: true }, SECRET);
  device = await mqtt.connectAsync(p.mqttUrl, {
    clientId: DEVICE,
    username: DEVICE,
    password: SECRET,
    reconnectPeriod: 0,
    protocolVersion: 4,
  });
});
afterAll(async () => {
  await device?.endAsync(true);
  await p?.stop();
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
});

const health = async (): Promise<Health> => (await (await fetch(`${p.httpUrl}/api/v1/health`)).json()) as Health;
const deadLetters = async (): Promise<Health['writes'][number] | undefined> =>
  (await health()).writes.find((w) => w.path === 'ingest.deadLetters');
const letters = (marker: string) =>
  (p.registry.db.prepare('SELECT count(*) AS n FROM dead_letters WHERE raw LIKE ?').get(`%${marker}%`) as { n: number }).n;

/** One garbage message (its dead letter) then `n` readings, all QoS 1 in order; resolves the PUBACK order. */
function publishRun(marker: string, first: number, n: number): { acked: number[]; done: Promise<void> } {
  const acked: number[] = [];
  const sends = [device.publishAsync(topics.telemetry(DEVICE), `not json ${marker}`, { qos: 1 }).then(() => acked.push(-1))];
  for (let i = 0; i < n; i++) {
    const ts = Date.now() - 3_600_000 + (first + i) * 1000;
    sends.push(device.publishAsync(topics.telemetry(DEVICE), JSON.stringify({ ts, temp: 20.5 }), { qos: 1 }).then(() => acked.push(i)));
  }
  return { acked, done: Promise.all(sends).then(() => undefined) };
}

/** Checks, with records.db refusing dead letters, then with the fault cleared. */
async function refusedThenHealed(marker: string, first: number, clear: () => void): Promise<void> {
  const before = await p.store.count({ deviceId: DEVICE });
  const run = publishRun(marker, first, 20);
  await waitFor(async () => (await deadLetters())?.failing ?? false, { timeoutMs: 15_000, what: 'ingest.deadLetters failing in /health' });
  await sleep(1_500); // retries go on; PUBACKs stop at the spool bound
  expect((await health()).status).toBe('degraded');
  expect(letters(marker)).toBe(0);
  expect(run.acked.length).toBeLessThan(21);
  expect(run.acked.length).toBeLessThanOrEqual(BOUND + 1);
  expect(device.connected).toBe(true);
  clear();
  await run.done;
  expect(run.acked).toEqual([-1, ...Array.from({ length: 20 }, (_, i) => i)]); // every one, in order
  await waitFor(async () => (await health()).status === 'ok', { timeoutMs: 15_000, what: 'health ok again' });
  expect((await deadLetters())!.failing).toBeNull();
  await waitFor(async () => (await p.store.count({ deviceId: DEVICE })) === before + 20, { timeoutMs: 15_000, what: 'readings stored' });
  expect(letters(marker)).toBe(1); // written once, not once per retry
  expect(crashes).toEqual([]);
}

describe("the ingest's dead letters when records.db refuses them", () => {
  it('an I/O error: no crash, the batch waits in the spool, PUBACKs stop at the bound; then written once', async () => {
    const fault = injectSqliteFault(p.registry.db, insertsInto('dead_letters'));
    try {
      await refusedThenHealed('io-fault', 0, () => fault.off());
    } finally {
      fault.off();
    }
    expect((await deadLetters())!.errors).toBeGreaterThan(0);
  }, 60_000);

  it('a full disk (SQLITE_FULL): the same, healed by room on the disk', async () => {
    const disk = fillSqliteDisk(p.registry.db, [
      {
        insert: `INSERT INTO dead_letters (at, device_id, topic, reason, raw) VALUES (0, 'filler', 'filler', 'filler', ?)`,
        cleanup: `DELETE FROM dead_letters WHERE device_id = 'filler'`,
      },
    ]);
    try {
      await refusedThenHealed('full-disk', 100, () => disk.off());
    } finally {
      disk.off();
    }
    expect((await deadLetters())!.failing).toBeNull();
  }, 60_000);
});
