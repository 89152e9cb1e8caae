/**
 * Simulator figures:
 *  - the city generator at real size: 2 million apartments / 5,000 stations in < 60 s
 *    (baseline: allocating the same number of plain apartment and room objects, i.e. the floor);
 *  - a heating season (15 Nov–20 Mar, N1) of a 10,000-apartment city replayed through the
 *    rules engine in a few minutes, twice, with identical incidents.
 * Quick mode: 200,000 apartments and two weeks of the season.
 */
import { DAY_MS } from '../domain/clock.ts';
import { policyForCity } from '../domain/policy.ts';
import { generateCity } from '../simulators/city.generator.ts';
import { runReplay, type ReplayResult } from '../simulators/replay.ts';
import { ThermalModel } from '../simulators/thermal.model.ts';
import type { BenchOptions, BenchRow } from './types.ts';

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];

  // 1. City generation. ~400 households per station (heating-norms §F: ~470 in Beijing).
  const stations = opts.quick ? 100 : 5000;
  const perStation = 380;
  // Each measurement in its own function so the big city is garbage before the next one.
  const gen = () => {
    const t0 = performance.now();
    const g = generateCity({ seed: 2026, stations, apartmentsPerStation: perStation });
    return {
      s: (performance.now() - t0) / 1000,
      apartments: g.city.apartments.length,
      rooms: g.city.rooms.length,
      sensors: g.city.devices.length,
    };
  };
  const { s: genS, apartments, rooms, sensors } = gen();
  const allocate = () => {
    const t0 = performance.now();
    const floor: object[] = [];
    for (let i = 0; i < apartments; i++)
      floor.push({ id: `a${i}`, buildingId: 'b', entrance: 1, floor: 1, unit: 1, number: `1-${i}`, areaM2: 80.5 });
    for (let i = 0; i < rooms; i++) floor.push({ id: `r${i}`, apartmentId: 'a', name: 'x', type: 'bedroom', areaM2: 12.5 });
    return floor.length ? (performance.now() - t0) / 1000 : 0;
  };
  const floorS = allocate();
  opts.log(
    `city: ${apartments.toLocaleString('en-US')} apartments, ${rooms.toLocaleString('en-US')} rooms, ${sensors.toLocaleString('en-US')} devices in ${genS.toFixed(1)} s`,
  );
  rows.push({
    name: `citygen: ${apartments.toLocaleString('en-US')} apartments, ${stations} stations`,
    value: genS,
    unit: 's',
    baseline: { name: 'allocate same objects', value: floorS },
    target: { kind: 'max', value: opts.quick ? 6 : 60 }, // 60 s for the full city; quick is 1/50 of it
    note: `${rooms} rooms, ${sensors} devices`,
  });

  // 2. A season through the rules engine, twice.
  const city = generateCity({ seed: 10_000, stations: 25, apartmentsPerStation: 400, sensorShare: 0.1 });
  const policy = policyForCity('beijing');
  const from = Date.parse('2026-11-15T00:00:00+08:00'); // N1
  const to = opts.quick ? from + 3 * DAY_MS : Date.parse('2027-03-21T00:00:00+08:00'); // N1: through 20 Mar
  const faults = [
    { kind: 'pump_failure' as const, stationId: 'st-0007', at: from + (opts.quick ? 1 : 10) * DAY_MS, durationMin: 360 },
    { kind: 'cold_snap' as const, depthC: 8, at: from + (opts.quick ? 2 : 12) * DAY_MS, durationMin: (opts.quick ? 12 : 48) * 60 },
    { kind: 'leak' as const, stationId: 'st-0012', at: from + (opts.quick ? 0.5 : 5) * DAY_MS, durationMin: 240 },
  ];
  const once = async (label: string): Promise<ReplayResult> => {
    let last = 0;
    return runReplay(
      {
        source: { kind: 'simulation', model: new ThermalModel({ city: city.city, policy, start: from, faults }), from, to },
        city: city.city,
        policy,
        progressEveryMs: 2000,
      },
      (p) => {
        if (Date.now() - last > 15_000 || p.done) {
          last = Date.now();
          opts.log(
            `${label}: ${(p.fraction * 100).toFixed(0)}% ${p.readings.toLocaleString('en-US')} readings, ${p.readingsPerSec.toLocaleString('en-US')}/s, ETA ${p.etaSec ?? '--'} s, ${p.incidents} incidents`,
          );
        }
      },
    );
  };
  const a = await once('season run 1');
  const b = await once('season run 2');
  const days = Math.round((to - from) / DAY_MS);
  rows.push({
    name: `replay: ${days}-day season, ${city.city.apartments.length.toLocaleString('en-US')} apartments, through the rules`,
    value: a.wallMs / 1000,
    unit: 's',
    target: { kind: 'max', value: opts.quick ? 15 : 300 },
    note: `${a.readings} readings (model + rules), ${a.incidents.length} incidents`,
  });
  rows.push({ name: 'replay: readings per second (model + rules)', value: Math.round(a.readings / (a.wallMs / 1000)), unit: 'readings/s' });
  rows.push({
    name: 'replay: second run identical (digest)',
    value: a.digest === b.digest ? 1 : 0,
    unit: 'bool',
    target: { kind: 'min', value: 1 },
  });
  return rows;
}
