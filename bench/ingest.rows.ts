/**
 * The ingest bench's helpers that are not the run itself (bench/ingest.bench.ts): the stream
 * of readings the raw /write ceiling writes, the /proc CPU figure and percentile, and the
 * end-to-end rows built from the runs' results, and the storage rows (embedded store write,
 * spool durable append).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { topics } from '../domain/topics.ts';
import { defaultIngestOptions } from '../ingest/app.ts';
import { SpoolRepository } from '../ingest/spool.repository.ts';
import { EmbeddedStore } from '../storage/readings/embedded.store.ts';
import type { Reading } from '../domain/reading.ts';
import { fixtureReading, sensorId } from '../ingest/testing.fixture.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import type { BenchOptions, BenchRow } from './types.ts';

export const pct = (xs: number[], p: number) => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** CPU seconds (user + system) a process has used, from /proc. */
export const cpuSecs = (pid: number | undefined): number => {
  if (pid === undefined) return Number.NaN;
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
};

/** The stream's readings as the ingest locates them: device i, reading k, for every (i, k). */
export function streamReadings(registry: RegistryRepository, series: number, perDevice: number, baseTs: number): Reading[] {
  const locs = new Map(registry.allLocations().map((l) => [l.deviceId, l]));
  const out: Reading[] = [];
  for (let k = 0; k < perDevice; k++) {
    for (let i = 0; i < series; i++) {
      const l = locs.get(sensorId(i))!;
      const r = fixtureReading(i, k, baseTs);
      out.push({
        deviceId: l.deviceId,
        kind: 'room_sensor',
        ts: r.ts,
        fields: { temp: r.temp },
        roomId: l.roomId,
        apartmentId: l.apartmentId,
        buildingId: l.buildingId,
        stationId: l.stationId,
        officeId: l.officeId,
      });
    }
  }
  return out;
}

/** 'redis': REDIS_URL, two broker processes sharing Redis and one ingest on the MQTT feed (the scale-out path). */
export type Feed = 'mqtt' | 'spool' | 'redis';

export interface E2eResult {
  readonly feed: Feed;
  readonly what: string;
  readonly perMessage: number;
  readonly ratePerSec?: number;
  readonly total: number;
  readonly rate: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuNote: string;
  readonly brokerUs: number;
  readonly ingestUs: number;
  readonly storeUs: number;
  /** Redis' CPU per point ('redis' feed only). */
  readonly redisUs?: number;
}

/**
 * The end-to-end rows: the deployed feed (spool) against the raw /write ceiling and, as the
 * in-run "before", the MQTT feed under the same load; the platform's CPU per reading
 * (broker + ingest, + influxd) as rows of their own (issue 19's targets).
 */
export function e2eRows(results: readonly E2eResult[], ceiling: number, series: number): BenchRow[] {
  const rows: BenchRow[] = [];
  const main = results.some((r) => r.feed === 'spool') ? 'spool' : 'mqtt';
  // (redis results are rows of their own, below)
  const before = (r: E2eResult) => (main === 'spool' ? results.find((x) => x.feed === 'mqtt' && x.what === r.what) : undefined);
  const vs = (r: E2eResult, pick: (x: E2eResult) => number, name = 'MQTT feed, same run') => {
    const b = before(r);
    return b ? { baseline: { name, value: pick(b) } } : {};
  };
  for (const r of results) {
    const note = `${series.toLocaleString('en-US')} series, ${r.total.toLocaleString('en-US')} points, 4 raw publisher connections, INGEST_FEED=${r.feed}`;
    if (r.feed === 'redis') {
      // Issue 19: the scale-out path, same row — devices on two brokers sharing Redis, one ingest.
      const what = `REDIS_URL, 2 brokers + 1 ingest (MQTT feed), ${r.what}`;
      rows.push(
        {
          name: `ingest: end-to-end, ${what}`,
          value: r.rate,
          unit: 'points/s',
          note: `lag p50 ${Math.round(r.p50)} ms p99 ${Math.round(r.p99)} ms; ${note}; ${r.cpuNote}`,
        },
        {
          name: `platform: broker + ingest CPU per reading, ${what}`,
          value: r.brokerUs + r.ingestUs,
          unit: 'µs',
          note: `both brokers; Redis ${(r.redisUs ?? 0).toFixed(1)} µs not included`,
        },
        {
          name: `platform: broker + ingest + store CPU per reading, ${what}`,
          value: r.brokerUs + r.ingestUs + r.storeUs + (r.redisUs ?? 0),
          unit: 'µs',
          note: 'both brokers, Redis, ingest, influxd',
        },
      );
      continue;
    }
    if (r.feed !== main) {
      rows.push({
        name: `ingest (MQTT feed, before): end-to-end, ${r.what}`,
        value: r.rate,
        unit: 'points/s',
        note: `lag p50 ${Math.round(r.p50)} ms p99 ${Math.round(r.p99)} ms; ${note}; ${r.cpuNote}`,
      });
      continue;
    }
    if (r.ratePerSec) {
      rows.push({
        name: `ingest: lag publish→stored p99, ${r.what}`,
        value: r.p99,
        unit: 'ms',
        ...vs(r, (x) => x.p99),
        target: { kind: 'max', value: 1000 },
        note: `p50 ${Math.round(r.p50)} ms; ${note}; ${r.cpuNote}`,
      });
      continue;
    }
    rows.push(
      {
        name: `ingest: end-to-end, ${r.what}`,
        value: r.rate,
        unit: 'points/s',
        baseline: { name: 'raw /write, same batches', value: ceiling },
        target: { kind: 'ratio', value: 0.75 },
        note: `${note}; ${r.cpuNote}`,
      },
      // Issue 19: 15,000 points/s at 1 reading/message, 40,000 at 10, with influxd on the same machine.
      {
        name: `ingest: end-to-end vs before, ${r.what}`,
        value: r.rate,
        unit: 'points/s',
        ...vs(r, (x) => x.rate),
        target: { kind: 'min', value: r.perMessage === 1 ? 15_000 : 40_000 },
      },
      { name: `ingest: lag publish→stored p50, ${r.what}`, value: r.p50, unit: 'ms' },
      { name: `ingest: lag publish→stored p99, ${r.what}`, value: r.p99, unit: 'ms' },
      // What a reading costs the platform itself (the publishers are not it).
      { name: `platform: broker CPU per reading, ${r.what}`, value: r.brokerUs, unit: 'µs', ...vs(r, (x) => x.brokerUs) },
      { name: `platform: ingest CPU per reading, ${r.what}`, value: r.ingestUs, unit: 'µs', ...vs(r, (x) => x.ingestUs) },
      { name: `platform: influxd CPU per reading, ${r.what}`, value: r.storeUs, unit: 'µs', ...vs(r, (x) => x.storeUs) },
      {
        name: `platform: broker + ingest CPU per reading, ${r.what}`,
        value: r.brokerUs + r.ingestUs,
        unit: 'µs',
        ...vs(r, (x) => x.brokerUs + x.ingestUs),
        target: r.perMessage === 1 ? { kind: 'max', value: 30 } : undefined,
        note: r.cpuNote,
      },
      {
        name: `platform: broker + ingest + store CPU per reading, ${r.what}`,
        value: r.brokerUs + r.ingestUs + r.storeUs,
        unit: 'µs',
        ...vs(r, (x) => x.brokerUs + x.ingestUs + x.storeUs),
      },
    );
  }
  return rows;
}

/** 4. the embedded store's write throughput (batches of the ingest's size); 5. the spool's durable append beside the same without fdatasync. */
export async function storageRows(dir: string, readings: readonly Reading[], baseTs: number, opts: BenchOptions): Promise<BenchRow[]> {
  const BATCH = defaultIngestOptions.batchSize;
  const emb = EmbeddedStore.open(join(dir, 'embedded'));
  const e0 = performance.now();
  for (let i = 0; i < readings.length; i += BATCH) await emb.write(readings.slice(i, i + BATCH));
  const embRate = readings.length / ((performance.now() - e0) / 1000);
  await emb.close();
  opts.log(`embedded store: ${Math.round(embRate)} readings/s`);
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
  return [
    { name: 'embedded store: write throughput', value: embRate, unit: 'readings/s', target: { kind: 'min', value: 20_000 } },
    {
      name: 'spool: durable append (fdatasync per 1,000)',
      value: full,
      unit: 'msgs/s',
      baseline: { name: 'same, no fdatasync', value: normal },
    },
  ];
}
