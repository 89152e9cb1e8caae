/**
 * Ingest bench (issue 4), all measured in the same run on the same machine:
 * 1. raw InfluxDB /write ceiling: the stream's readings as line protocol (same Point
 *    encoding, same 5,000-point batches the ingest writes), POSTed back to back;
 * 2. end-to-end: simulated devices → broker (in this process) → ingest (`ingest/server.ts`,
 *    child process, durable spool with fdatasync) → influxd, one reading per message over
 *    100,000 distinct series (quick: 5,000), throughput from first publish to last point
 *    counted in influxd, and publish→stored lag (p50/p99) from the live fan-out, which the
 *    ingest publishes right after each durable store write;
 * 3. the same with each device's readings in one message (backlog style): shows how much
 *    of the gap is per-message MQTT handling rather than the store;
 * 4. embedded store write throughput (SQLite, batches of 5,000);
 * 5. the spool's durable append (write + fdatasync per batch of 1,000) beside the same
 *    appends without fdatasync.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { createBrokerApp } from '../broker/app.ts';
import { DAY_MS } from '../domain/clock.ts';
import type { LiveReading } from '../domain/events.ts';
import type { Reading } from '../domain/reading.ts';
import { topics } from '../domain/topics.ts';
import { SpoolRepository } from '../ingest/spool.repository.ts';
import { FIX_SERVICE_SECRET, fixtureReading, publishStream, seedFixtureRegistry, sensorId } from '../ingest/testing.fixture.ts';
import { EmbeddedStore } from '../storage/readings/embedded.store.ts';
import { InfluxStore, toLine } from '../storage/readings/influx.store.ts';
import { startInfluxd, type InfluxdHandle } from '../tests/harness/influxd.ts';
import { freePort, waitFor } from '../tests/harness/ports.ts';
import type { BenchOptions, BenchRow } from './types.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BATCH = 5000; // = defaultIngestOptions.batchSize

const pct = (xs: number[], p: number) => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const series = opts.quick ? 5_000 : 100_000;
  const perDevice = 2;
  const total = series * perDevice;
  const dir = mkdtempSync(join(tmpdir(), 'ingest-bench-'));
  const logger = pino({ level: 'silent' });
  const rows: BenchRow[] = [];
  let influxd: InfluxdHandle | undefined;
  let child: ChildProcess | undefined;
  const registry = seedFixtureRegistry(dir, series);
  try {
    opts.log(`registry: ${series} room sensors`);
    influxd = await startInfluxd();
    const baseTs = Date.now() - 2 * DAY_MS;

    // The stream's readings, located like the ingest locates them.
    const locs = new Map(registry.allLocations().map((l) => [l.deviceId, l]));
    const readings: Reading[] = [];
    for (let k = 0; k < perDevice; k++) {
      for (let i = 0; i < series; i++) {
        const l = locs.get(sensorId(i))!;
        const r = fixtureReading(i, k, baseTs);
        readings.push({ deviceId: l.deviceId, kind: 'room_sensor', ts: r.ts, fields: { temp: r.temp }, roomId: l.roomId, apartmentId: l.apartmentId, buildingId: l.buildingId, stationId: l.stationId, officeId: l.officeId });
      }
    }

    // 1. Raw /write ceiling, same encoding and batches, into its own database.
    const raw = await InfluxStore.open({ url: influxd.url, db: 'ceiling' });
    const t0 = performance.now();
    for (let i = 0; i < readings.length; i += BATCH) await raw.writeLines(readings.slice(i, i + BATCH).map((r) => toLine(r)!).join('\n'));
    const ceiling = readings.length / ((performance.now() - t0) / 1000);
    opts.log(`raw /write ceiling: ${Math.round(ceiling)} points/s`);

    // 2./3. End to end through broker and ingest.
    const mqttPort = await freePort();
    const broker = await createBrokerApp({ registry, logger, options: { publishRatePerSec: 1e9, publishBurst: 1e9, publishFloodCutoff: 1e9 } });
    await broker.listen({ mqttPort, wsPort: 0, host: '127.0.0.1' });
    const url = `mqtt://127.0.0.1:${mqttPort}`;
    const e2e = async (db: string, perMessage: number) => {
      child = spawn(process.execPath, ['--import', 'tsx', 'ingest/server.ts'], {
        cwd: root,
        env: { PATH: process.env.PATH, DATA_DIR: dir, INFLUX_URL: influxd!.url, INFLUX_DB: db, MQTT_URL: url, SERVICE_SECRET: FIX_SERVICE_SECRET, INGEST_RULES: '0', LOG_LEVEL: 'warn', INGEST_CLIENT_ID: `svc-ingest-${db}` },
        stdio: 'ignore',
      });
      // Same DATA_DIR as the broker's registry: the ingest locates devices in that records.db.
      await waitFor(() => broker.metrics().connectedServices >= 1, { timeoutMs: 180_000, what: 'ingest connected' });
      const api = await mqtt.connectAsync(url, { clientId: `svc-api-bench-${db}`, username: 'svc-api', password: FIX_SERVICE_SECRET, protocolVersion: 4 });
      await api.subscribeAsync(topics.live, { qos: 0 });
      const sentAt = new Map<string, number>();
      const lags: number[] = [];
      let lastLive = 0;
      api.on('message', (_t, payload) => {
        const now = performance.now();
        lastLive = now;
        for (const l of JSON.parse(payload.toString()) as LiveReading[]) {
          const s = sentAt.get(`${l.deviceId}/${l.ts}`);
          if (s !== undefined) lags.push(now - s);
        }
      });
      const store = await InfluxStore.open({ url: influxd!.url, db });
      const start = performance.now();
      await publishStream({ url, devices: series, perDevice, perMessage, baseTs, connections: 4, window: 1000, onPublish: (i, k, ts) => sentAt.set(`${sensorId(i)}/${ts}`, performance.now()) });
      // Done when the live fan-out (sent right after each durable write) has covered every
      // reading; influxd's own count confirms it (COUNT over all series is too slow to poll).
      await waitFor(() => lags.length >= total, { timeoutMs: 600_000, intervalMs: 20, what: 'live fan-out of every reading' }).catch(() => undefined);
      const end = lags.length >= total ? lastLive : performance.now();
      await waitFor(async () => (await store.count({ kind: 'room_sensor' })) >= total, { timeoutMs: 600_000, intervalMs: 500, what: 'all points stored' });
      const secs = ((lags.length >= total ? end : performance.now()) - start) / 1000;
      await api.endAsync(true);
      await new Promise<void>((res) => {
        child!.once('exit', () => res());
        child!.kill('SIGTERM');
      });
      child = undefined;
      await waitFor(() => broker.metrics().connectedServices === 0, { timeoutMs: 10_000 });
      return { rate: total / secs, p50: pct(lags, 50), p99: pct(lags, 99), samples: lags.length };
    };
    const single = await e2e('heat', 1);
    opts.log(`end-to-end, 1 reading/message: ${Math.round(single.rate)} points/s, lag p50 ${Math.round(single.p50)} ms p99 ${Math.round(single.p99)} ms (${single.samples} samples)`);
    // Each device's readings in one message (a backlog): fewer MQTT messages, same points.
    const batched = await e2e('heatbatch', perDevice);
    opts.log(`end-to-end, ${perDevice} readings/message: ${Math.round(batched.rate)} points/s`);
    await broker.close();

    const note = `${series.toLocaleString('en-US')} series, ${total.toLocaleString('en-US')} points, 4 publisher connections`;
    rows.push(
      { name: 'ingest: end-to-end, 1 reading/message', value: single.rate, unit: 'points/s', baseline: { name: 'raw /write, same batches', value: ceiling }, target: { kind: 'ratio', value: 0.75 }, note },
      { name: `ingest: end-to-end, ${perDevice} readings/message`, value: batched.rate, unit: 'points/s', baseline: { name: 'raw /write, same batches', value: ceiling }, target: { kind: 'ratio', value: 0.75 }, note },
      { name: 'ingest: lag publish→stored p50', value: single.p50, unit: 'ms' },
      { name: 'ingest: lag publish→stored p99', value: single.p99, unit: 'ms' },
    );

    // 4. Embedded store.
    const emb = EmbeddedStore.open(join(dir, 'embedded'));
    const e0 = performance.now();
    for (let i = 0; i < readings.length; i += BATCH) await emb.write(readings.slice(i, i + BATCH));
    const embRate = readings.length / ((performance.now() - e0) / 1000);
    await emb.close();
    opts.log(`embedded store: ${Math.round(embRate)} readings/s`);
    rows.push({ name: 'embedded store: write throughput', value: embRate, unit: 'readings/s', target: { kind: 'min', value: 20_000 } });

    // 5. Spool durable append.
    const spoolRate = async (sync: 'full' | 'normal') => {
      const s = SpoolRepository.open(join(dir, `spool-${sync}`), sync);
      const payload = Buffer.from(JSON.stringify(fixtureReading(1, 1, baseTs)));
      const batch = Array.from({ length: 1000 }, () => ({ topic: topics.telemetry(sensorId(1)), payload, at: Date.now() }));
      const n = opts.quick ? 20 : 100;
      const s0 = performance.now();
      for (let i = 0; i < n; i++) await s.append(batch);
      const rate = (n * batch.length) / ((performance.now() - s0) / 1000);
      await s.close();
      return rate;
    };
    const full = await spoolRate('full');
    const normal = await spoolRate('normal');
    rows.push({ name: 'spool: durable append (fdatasync per 1,000)', value: full, unit: 'msgs/s', baseline: { name: 'same, no fdatasync', value: normal } });
    return rows;
  } finally {
    child?.kill('SIGKILL');
    await influxd?.stop();
    registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
