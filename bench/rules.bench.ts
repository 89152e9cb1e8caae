/**
 * Rules engine in replay mode (issue 5): a synthetic city of 10,000 monitored apartments
 * (one room sensor each, 10-min readings) and 20 metered stations, replayed day by day
 * through `RulesEngine.ingest` + `advanceTo` on one core. The stream is generated before
 * timing (outside the measured loop) and carries real work: an in-home cold 1 %, a pump
 * failure on one station per day, open windows, dead sensors, and days colder than N3.
 *
 * Baseline, same run: the same readings as device JSON payloads through a trivial
 * pass-through loop (JSON.parse + iterate), i.e. what the ingest pays before the rules run.
 * Target: ≥ 200,000 readings/s absolute.
 */
import { DAY_MS, MINUTE_MS } from '../domain/clock.ts';
import { defaultPolicy } from '../domain/policy.ts';
import { fixtureCity, HEALTHY_METER } from '../domain/rules/city.fixture.ts';
import { RulesEngine } from '../domain/rules/engine.ts';
import type { BenchOptions, BenchRow } from './types.ts';

/** Mutable reading for the generator (the engine keeps no reference to it). */
interface MutReading {
  deviceId: string;
  kind: 'room_sensor' | 'station_meter';
  ts: number;
  fields: Record<string, number>;
}

/** Integer hash → [0, 1): deterministic noise without Math.random. */
function noise(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 13;
  h = Math.imul(h, 0x27d4eb2d);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296;
}

// The harness expects a Promise; the engine is synchronous by design (pure, no I/O).
export function run(opts: BenchOptions): Promise<BenchRow[]> {
  return Promise.resolve(measure(opts));
}

function measure(opts: BenchOptions): BenchRow[] {
  const policy = defaultPolicy;
  // 2 sources × 10 stations × 10 buildings × (2 entrances × 5 floors × 5 units) = 10,000 apartments.
  const city = fixtureCity({
    sources: 2,
    stationsPerSource: 10,
    buildingsPerStation: 10,
    entrances: 2,
    floors: 5,
    unitsPerFloor: 5,
    rooms: [
      { suffix: 'living', type: 'living', areaM2: 20, sensor: true },
      { suffix: 'bed1', type: 'bedroom', areaM2: 12, sensor: false },
    ],
    sensorIntervalMin: 10,
    meterIntervalMin: 10,
  });
  const sensors = city.devices.filter((d) => d.kind === 'room_sensor');
  const meters = city.devices.filter((d) => d.kind === 'station_meter');
  const nS = sensors.length;
  const aptStation = sensors.map((d) => Number(/^s-b(\d+)-/.exec(d.id)![1]) - 1).map((b) => Math.floor(b / 10));
  const days = opts.quick ? 1 : 5;
  const ticksPerDay = DAY_MS / (10 * MINUTE_MS);
  const start = Date.parse('2026-12-14T16:00:00Z'); // local midnight, mid-season (N1)
  opts.log(`city: ${city.apartments.length} apartments, ${nS} sensors, ${meters.length} meters; ${days} day(s) of 10-min readings`);

  // One tick of readings (every device once), allocated once and rewritten per tick outside
  // the timed loop, so generation and GC of the stream do not count against the engine.
  const perTick = meters.length + nS;
  const tick: MutReading[] = [];
  for (const m of meters) tick.push({ deviceId: m.id, kind: 'station_meter', ts: 0, fields: { ...HEALTHY_METER } });
  for (const s of sensors) tick.push({ deviceId: s.id, kind: 'room_sensor', ts: 0, fields: { temp: 21, bat: 3.1 } });

  function fillTick(d: number, t: number): void {
    const failedStation = d % meters.length; // one pump failure per day, 02:00–08:00 local
    const coldDay = d % 3 === 2; // every third day colder than the N3 design temperature
    const tk = d * ticksPerDay + t;
    const base = start + tk * 10 * MINUTE_MS;
    const minuteOfDay = t * 10;
    const failed = minuteOfDay >= 120 && minuteOfDay < 480;
    let k = 0;
    for (let m = 0; m < meters.length; m++) {
      const r = tick[k++]!;
      r.ts = base + 30_000;
      const f = r.fields;
      const outdoor = (coldDay ? -10 : -2) + 3 * Math.sin((minuteOfDay / 1440) * 2 * Math.PI);
      f.outdoorTemp = Math.round(outdoor * 10) / 10;
      const down = failed && m === failedStation;
      f.pumpHz = down ? 0 : 40;
      f.secondarySupplyTemp = down ? 30 : 58;
    }
    for (let s = 0; s < nS; s++) {
      const r = tick[k++]!;
      r.ts = base + (s % 540) * 1000; // sensors spread over the tick: devices interleave
      const n = noise(s, tk);
      let temp = 21 + (n - 0.5) * 0.6;
      if (s % 100 === 7) temp = 17.2 + n * 0.3; // in-home cold, 1 %
      if (aptStation[s] === failedStation && minuteOfDay >= 150) {
        // ~1.5 °C/h down while the pump is off, ~2 °C/h back up once it restarts at 08:00.
        const fall = Math.min(5, (1.5 * (Math.min(minuteOfDay, 480) - 150)) / 60);
        temp -= Math.max(0, fall - (minuteOfDay > 480 ? (2 * (minuteOfDay - 480)) / 60 : 0));
      }
      if (noise(s, d) < 0.005 && minuteOfDay >= 600 && minuteOfDay < 620) temp -= 6; // window: −6 °C for 20 min
      r.fields.temp = Math.round(temp * 10) / 10;
      // 0.2 % of sensors die for three hours each day: they send nothing (ts = NaN).
      if (noise(s, d + 1000) < 0.002 && minuteOfDay >= 900 && minuteOfDay < 1080) r.ts = Number.NaN;
    }
  }

  const engine = new RulesEngine({ city, policy });
  let readings = 0;
  let events = 0;
  const kinds: Record<string, number> = {};
  let engineMs = 0;
  let baseReadings = 0;
  let baseMs = 0;
  let sink = 0;
  const payloads: string[] = new Array<string>(perTick);
  for (let d = 0; d < days; d++) {
    for (let t = 0; t < ticksPerDay; t++) {
      fillTick(d, t);
      const t0 = performance.now();
      for (let k = 0; k < perTick; k++) {
        const r = tick[k]!;
        if (r.ts !== r.ts) continue; // NaN: a dead sensor sent nothing
        const ev = engine.ingest(r);
        if (ev.length) for (const e of ev) kinds[`${e.type} ${e.incident.kind}`] = (kinds[`${e.type} ${e.incident.kind}`] ?? 0) + 1;
        events += ev.length;
        readings++;
      }
      events += engine.advanceTo(start + ((d * ticksPerDay + t) * 10 + 9) * MINUTE_MS).length;
      engineMs += performance.now() - t0;
      if (d === 0) {
        // Baseline on the first day: the same readings as device payloads, parsed and iterated.
        let n = 0;
        for (const r of tick) if (r.ts === r.ts) payloads[n++] = JSON.stringify({ ts: r.ts, ...r.fields });
        const b0 = performance.now();
        for (let i = 0; i < n; i++) {
          const o = JSON.parse(payloads[i]!) as Record<string, number>;
          for (const key in o) sink += o[key]!;
        }
        baseMs += performance.now() - b0;
        baseReadings += n;
      }
    }
  }
  const rate = readings / (engineMs / 1000);
  const baseRate = baseReadings / (baseMs / 1000);
  opts.log(
    `engine: ${readings.toLocaleString('en-US')} readings in ${(engineMs / 1000).toFixed(2)} s → ${Math.round(rate).toLocaleString('en-US')}/s, ${events} incident events, ${engine.openIncidents().length} open`,
  );
  opts.log(`events from readings: ${JSON.stringify(kinds)}`);
  opts.log(
    `baseline: JSON.parse + iterate ${baseReadings.toLocaleString('en-US')} payloads → ${Math.round(baseRate).toLocaleString('en-US')}/s (sink ${sink > 0 ? 'ok' : '0'})`,
  );

  const s0 = performance.now();
  const json = JSON.stringify(engine.snapshot());
  const restored = RulesEngine.restore(JSON.parse(json) as ReturnType<RulesEngine['snapshot']>, { city, policy });
  const snapMs = performance.now() - s0;
  if (restored.openIncidents().length !== engine.openIncidents().length) throw new Error('restore lost open incidents');

  const seasonDays = 126; // N1: 15 Nov – 20 Mar
  const perDay = readings / days;
  return [
    {
      name: 'rules: engine replay throughput (10k apartments, 10-min readings, 1 core)',
      value: rate,
      unit: 'readings/s',
      baseline: { name: 'JSON.parse + iterate, same stream', value: baseRate },
      target: { kind: 'min', value: 200_000 },
      note: `${readings} readings over ${days} day(s), ${events} incident events`,
    },
    {
      name: 'rules: full season (126 days) replay time, extrapolated',
      value: (perDay * seasonDays) / rate,
      unit: 's',
      note: `${Math.round(perDay * seasonDays).toLocaleString('en-US')} readings`,
    },
    {
      name: 'rules: snapshot + JSON + restore (10k apartments)',
      value: snapMs,
      unit: 'ms',
      note: `${(json.length / 1e6).toFixed(1)} MB JSON`,
    },
  ];
}
