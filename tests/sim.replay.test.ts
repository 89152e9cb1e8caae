/**
 * Replay through the rules engine: from a real influxd (written by the platform's InfluxStore),
 * from CSV and line-protocol files, and straight from a simulation — all give the same
 * incident events, and a multi-week replay twice gives identical output.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS } from '../domain/clock.ts';
import { policyForCity } from '../domain/policy.ts';
import { generateCity } from '../simulators/city.generator.ts';
import { runReplay, simulatedReadings, writeReadings, type ReplayProgress } from '../simulators/replay.ts';
import { loadScenario } from '../simulators/scenario.ts';
import { scenarioCity, scenarioPolicy } from '../simulators/scenario.runner.ts';
import { ThermalModel } from '../simulators/thermal.model.ts';
import { InfluxStore } from '../storage/readings/influx.store.ts';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.ts';

const s = loadScenario(join(import.meta.dirname, '..', 'scenarios', 'pump-failure.json'));
const g = scenarioCity(s);
const policy = scenarioPolicy(s);
const model = () =>
  new ThermalModel({ city: g.city, policy, start: s.start, faults: s.faults, ...(s.weather ? { weather: s.weather } : {}) });

describe('replay', () => {
  let dir: string;
  let influxd: InfluxdHandle;
  let reference: Awaited<ReturnType<typeof runReplay>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sim-replay-'));
    influxd = await startInfluxd();
    reference = await runReplay({ source: { kind: 'simulation', model: model(), from: s.start, to: s.end }, city: g.city, policy });
  });
  afterAll(async () => {
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the scenario incidents when replaying a simulation', () => {
    expect(reference.readings).toBeGreaterThan(10_000);
    expect(reference.incidents.some((i) => i.kind === 'station_fault' && i.subjectId === 'st-0002')).toBe(true);
    expect(reference.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same output from line-protocol and CSV files', async () => {
    const lp = join(dir, 'r.lp');
    const csv = join(dir, 'r.csv');
    await writeReadings(lp, 'lp', simulatedReadings(model(), s.start, s.end));
    await writeReadings(csv, 'csv', simulatedReadings(model(), s.start, s.end));
    const progress: ReplayProgress[] = [];
    const a = await runReplay({ source: { kind: 'lp', path: lp }, city: g.city, policy, progressEveryMs: 0 }, (p) => progress.push(p));
    const b = await runReplay({ source: { kind: 'csv', path: csv }, city: g.city, policy });
    expect(a.digest).toBe(reference.digest);
    expect(b.digest).toBe(reference.digest);
    expect(a.unknown).toBe(0);
    expect(progress.at(-1)).toMatchObject({ done: true, fraction: 1, readings: reference.readings });
    const fractions = progress.map((p) => p.fraction);
    expect([...fractions].sort((x, y) => x - y)).toEqual(fractions);
  });

  it('replays a time range from InfluxDB written by the platform store', async () => {
    const store = await InfluxStore.open({ url: influxd.url, db: 'heat' });
    try {
      // Write in time order, in batches, as the ingest would.
      const all = [...simulatedReadings(model(), s.start, s.end)].sort((x, y) => x.ts - y.ts || (x.deviceId < y.deviceId ? -1 : 1));
      for (let i = 0; i < all.length; i += 5000) await store.write(all.slice(i, i + 5000));
      const r = await runReplay({
        source: { kind: 'influx', url: influxd.url, db: 'heat', from: s.start, to: s.end },
        city: g.city,
        policy,
      });
      expect(r.readings).toBe(reference.readings);
      // InfluxDB returns time order; the incidents are those of the simulation.
      expect(r.incidents.map((i) => `${i.kind}:${i.subjectId}:${i.cause}`).sort()).toEqual(
        reference.incidents.map((i) => `${i.kind}:${i.subjectId}:${i.cause}`).sort(),
      );
      const again = await runReplay({
        source: { kind: 'influx', url: influxd.url, db: 'heat', from: s.start, to: s.end },
        city: g.city,
        policy,
      });
      expect(again.digest).toBe(r.digest);
    } finally {
      await store.close();
    }
  });

  it('paces event time at ×speed (driven pace, no sleeping)', async () => {
    let now = 0;
    const slept: number[] = [];
    const pace = {
      now: () => now,
      sleep: (ms: number) => {
        slept.push(ms);
        now += ms;
        return Promise.resolve();
      },
    };
    const r = await runReplay({
      source: { kind: 'simulation', model: model(), from: s.start, to: s.start + DAY_MS / 4 },
      city: g.city,
      policy,
      speed: 1000,
      pace,
    });
    // 6 h of event time at ×1000 = 21.6 s of (driven) wall time.
    expect(now).toBeGreaterThanOrEqual((DAY_MS / 4 - 10 * 60_000) / 1000);
    expect(now).toBeLessThanOrEqual(DAY_MS / 4 / 1000 + 50);
    expect(slept.length).toBeGreaterThan(10);
    expect(r.readings).toBeGreaterThan(1000);
  });

  it('a month of a small city replays twice to identical incidents', async () => {
    const city = generateCity({ seed: 77, stations: 4, apartmentsPerStation: 120, sensorShare: 0.15 });
    const p = policyForCity('beijing');
    const from = Date.parse('2026-12-01T00:00:00+08:00');
    const to = from + 30 * DAY_MS;
    const faults = [
      { kind: 'pump_failure' as const, stationId: 'st-0003', at: from + 9 * DAY_MS, durationMin: 300 },
      { kind: 'cold_snap' as const, depthC: 9, at: from + 20 * DAY_MS, durationMin: 36 * 60 },
      { kind: 'sensor_offline' as const, deviceId: city.city.devices.find((d) => d.kind === 'room_sensor')!.id, at: from + 3 * DAY_MS },
    ];
    const run = () =>
      runReplay({
        source: { kind: 'simulation', model: new ThermalModel({ city: city.city, policy: p, start: from, faults }), from, to },
        city: city.city,
        policy: p,
      });
    const a = await run();
    const b = await run();
    expect(a.incidents.length).toBeGreaterThan(3);
    expect(b.digest).toBe(a.digest);
    expect(JSON.stringify(b.incidents)).toBe(JSON.stringify(a.incidents));
  });
});
