/**
 * The ingest's per-reading CPU in-process (issue 19), without processes, sockets or influxd,
 * so a cut to one stage can be compared before/after on a loaded machine: 1 reading/message
 * room-sensor payloads as the broker spools them, through the spool record decoding, the
 * decoder (topic, DeviceLocations.locate, TelemetryValidator), the line protocol
 * (InfluxStore.write's toLine + join) and the live fan-out (LiveFanout), batch by batch as
 * the write pipeline hands them on. CPU µs per reading per stage (process.cpuUsage), best
 * of three rounds after a warm-up round.
 *
 * Baseline, same run: JSON.parse of the same payloads (what any ingest pays to read them).
 */
import pino from 'pino';
import { systemClock } from '../domain/clock.ts';
import { defaultPolicy } from '../domain/policy.ts';
import type { Reading } from '../domain/reading.ts';
import { topics } from '../domain/topics.ts';
import type { DeviceLocation } from '../domain/topology.schema.ts';
import { defaultIngestOptions } from '../ingest/app.ts';
import { DeviceLocations } from '../ingest/device-locations.ts';
import { LiveFanout } from '../ingest/live.fanout.ts';
import { decoder, type Work } from '../ingest/telemetry.decoder.ts';
import { TelemetryValidator } from '../ingest/telemetry.validator.ts';
import { fixtureReading, sensorId } from '../ingest/testing.fixture.ts';
import { toLine } from '../storage/readings/influx.schema.ts';
import { decodeRecords, encodeRecords, type SpoolEntry } from '../storage/spool/spool.format.ts';
import type { BenchOptions, BenchRow } from './types.ts';

const STAGES = ['spool decode', 'decode+validate+locate', 'line protocol', 'live fan-out'] as const;
type Stage = (typeof STAGES)[number];

const cpuUs = (t0: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(t0);
  return u.user + u.system;
};

export function run(opts: BenchOptions): Promise<BenchRow[]> {
  return Promise.resolve(measure(opts));
}

function measure(opts: BenchOptions): BenchRow[] {
  const n = opts.quick ? 50_000 : 200_000;
  const devices = Math.min(n, 100_000);
  const batch = defaultIngestOptions.batchSize;
  const now = Date.now();
  const locs: DeviceLocation[] = [];
  for (let i = 0; i < devices; i++) {
    const a = Math.floor(i / 4);
    locs.push({
      deviceId: sensorId(i),
      kind: 'room_sensor',
      roomId: `rm-${i}`,
      apartmentId: `ap-${a}`,
      buildingId: `bd-${Math.floor(a / 60)}`,
      stationId: `st-${Math.floor(a / 3000)}`,
      officeId: 'of-1',
      intervalMin: 10,
      enabled: true,
    });
  }
  const locations = new DeviceLocations({ locate: () => undefined, allLocations: () => locs }, systemClock);
  locations.loadAll();
  const decode = decoder(new TelemetryValidator(defaultPolicy), locations, pino({ level: 'silent' }));
  const items = Array.from({ length: n }, (_, j) => ({
    topic: topics.telemetry(sensorId(j % devices)),
    payload: Buffer.from(JSON.stringify(fixtureReading(j % devices, Math.floor(j / devices), now - 3_600_000))),
    at: now,
  }));
  // The records as the broker appends them to a segment.
  const segment = encodeRecords(items);

  const best: Record<Stage, number> = {
    'spool decode': Infinity,
    'decode+validate+locate': Infinity,
    'line protocol': Infinity,
    'live fan-out': Infinity,
  };
  let baseline = Infinity;
  let stored = 0;
  const live = new LiveFanout(defaultIngestOptions.liveChunk);
  for (let round = 0; round < 4; round++) {
    const us: Record<Stage, number> = { 'spool decode': 0, 'decode+validate+locate': 0, 'line protocol': 0, 'live fan-out': 0 };
    let t0 = process.cpuUsage();
    const entries: SpoolEntry[] = [];
    decodeRecords(segment, 1, n, entries, Number.POSITIVE_INFINITY, false); // payloads as views, as the feed reads them
    us['spool decode'] += cpuUs(t0);
    stored = 0;
    for (let i = 0; i < entries.length; i += batch) {
      const part = entries.slice(i, i + batch);
      t0 = process.cpuUsage();
      const works: Work[] = part.map(decode);
      const readings: Reading[] = works.flatMap((w) => w.readings);
      us['decode+validate+locate'] += cpuUs(t0);
      t0 = process.cpuUsage();
      const lines: string[] = [];
      for (const r of readings) {
        const l = toLine(r);
        if (l) lines.push(l);
      }
      stored += lines.join('\n').length > 0 ? readings.length : 0;
      us['line protocol'] += cpuUs(t0);
      t0 = process.cpuUsage();
      live.messages(readings);
      us['live fan-out'] += cpuUs(t0);
    }
    t0 = process.cpuUsage();
    let parsed = 0;
    for (const it of items) if (JSON.parse(it.payload.toString('utf8'))) parsed++;
    const base = cpuUs(t0) / parsed;
    if (round === 0) continue; // warm-up: JIT and the first allocations
    for (const s of STAGES) best[s] = Math.min(best[s], us[s] / n);
    baseline = Math.min(baseline, base);
  }
  if (stored !== n) throw new Error(`ingest pipeline bench: ${stored} of ${n} readings made it through`);
  const total = STAGES.reduce((a, s) => a + best[s], 0);
  opts.log(`  ingest pipeline in-process, ${n} readings: ${STAGES.map((s) => `${s} ${best[s].toFixed(2)}`).join(', ')} µs/reading`);
  const base = { name: 'JSON.parse of the same payloads', value: Number(baseline.toFixed(3)) };
  return [
    {
      name: 'ingest pipeline (in-process): CPU per reading, 1 reading/message',
      value: Number(total.toFixed(2)),
      unit: 'µs',
      baseline: base,
    },
    ...STAGES.map((s) => ({ name: `ingest pipeline (in-process): ${s}`, value: Number(best[s].toFixed(2)), unit: 'µs' })),
  ];
}
