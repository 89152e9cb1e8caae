/**
 * Determinism and state: snapshot/restore mid-way, and replaying the same input twice gives
 * byte-identical incident output (issue 5 "Done when").
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Compile } from 'typebox/compile';
import { IncidentEventSchema, type IncidentEvent } from '../incident.schema.ts';
import { defaultPolicy as policy } from '../policy.ts';
import type { Reading } from '../reading.ts';
import { HEALTHY_METER, MIN, Scenario, T0, fixtureCity } from './city.fixture.ts';
import { RulesEngine, type EngineSnapshot } from './engine.ts';

const city = fixtureCity({ stationsPerSource: 3, buildingsPerStation: 2, floors: 4, unitsPerFloor: 2 });

/** A busy day: a pump failure on st1, a window, a dead sensor, a low battery, flapping, and interleaved devices. */
function stream(): { readings: Reading[]; ticks: number[] } {
  const readings: Reading[] = [];
  const ticks: number[] = [];
  const sensors = city.devices.filter((d) => d.kind === 'room_sensor');
  const meters = city.devices.filter((d) => d.kind === 'station_meter');
  for (let m = 0; m <= 24 * 60; m += 10) {
    const ts = T0 + m * MIN;
    for (const d of meters) {
      const failed = d.stationId === 'st1' && m >= 120 && m < 600;
      const fields = failed ? { ...HEALTHY_METER, pumpHz: 0, secondarySupplyTemp: 30 } : { ...HEALTHY_METER, outdoorTemp: -3 + Math.sin(m / 200) };
      if (d.stationId === 'st3' && m > 900 && m < 1000) continue; // silent for a while
      readings.push({ deviceId: d.id, kind: 'station_meter', ts: ts + 7_000, fields, stationId: d.stationId });
    }
    // Sensors report at staggered offsets within the tick, reversed every other tick, so devices interleave.
    const order = (m / 10) % 2 === 0 ? sensors : [...sensors].reverse();
    order.forEach((d, i) => {
      const id = d.id;
      if (id === 's-b3-1-101-living' && m > 300 && m < 700) return; // dead for a while
      const inSt1 = id.startsWith('s-b1-') || id.startsWith('s-b2-');
      let temp = 21 + ((i % 5) - 2) / 10 + ((m / 10) % 3) / 100;
      if (inSt1 && m >= 120) temp = Math.max(14, 21 - (1.5 * (Math.min(m, 600) - 120)) / 60 + Math.max(0, (m - 600) / 40));
      if (id === 's-b4-1-201-living' && m >= 400 && m < 450) temp = 14; // window
      if (id.startsWith('s-b5-1-101-')) temp = (m / 10) % 2 === 0 ? 17.9 : 18.1; // flapping
      const bat = id === 's-b6-1-101-bed1' && m > 500 ? 2.4 : 3.1;
      readings.push({ deviceId: id, kind: 'room_sensor', ts: ts + (i % 9) * 1000, fields: { temp, bat }, roomId: d.roomId });
    });
    ticks.push(readings.length, ts);
  }
  return { readings, ticks };
}

function replay(readings: Reading[], ticks: number[], from = 0, to = readings.length, engine = new RulesEngine({ city, policy })) {
  const out: IncidentEvent[] = [];
  let t = 0;
  while (t < ticks.length && ticks[t]! <= from) t += 2;
  for (let i = from; i < to; i++) {
    out.push(...engine.ingest(readings[i]!));
    while (t < ticks.length && ticks[t] === i + 1) {
      out.push(...engine.advanceTo(ticks[t + 1]!));
      t += 2;
    }
  }
  return { out, engine };
}

describe('snapshot and restore', () => {
  it('an apartment cold for 50 min, snapshotted and restored, opens after 11 more minutes', () => {
    const s = new Scenario(new RulesEngine({ city, policy }), city);
    const room = (id: string) => (id.startsWith('s-b1-1-101-') ? 17 : 21);
    s.run(0, 50, 1, { meter: () => ({ ...HEALTHY_METER }), room });
    expect(s.events).toEqual([]);
    const snap = JSON.parse(JSON.stringify(s.engine.snapshot())) as EngineSnapshot;
    const restored = new Scenario(RulesEngine.restore(snap, { city, policy }), city);
    restored.run(51, 61, 1, { meter: () => ({ ...HEALTHY_METER }), room });
    expect(restored.summary()).toEqual(['opened apartment_cold b1-1-101 cause=in_home start=0 at=60']);
    // Continuing the original engine gives the same events.
    s.run(51, 61, 1, { meter: () => ({ ...HEALTHY_METER }), room });
    expect(JSON.stringify(restored.events)).toBe(JSON.stringify(s.events));
  });

  it('rejects an unknown snapshot version', () => {
    const snap = { ...new RulesEngine({ city, policy }).snapshot(), version: 2 } as unknown as EngineSnapshot;
    expect(() => RulesEngine.restore(snap, { city, policy })).toThrow(/version/);
  });
});

describe('determinism', () => {
  const { readings, ticks } = stream();

  it('the engine reads no clock and draws no random numbers (pure: input stream + policy only)', () => {
    const dir = import.meta.dirname;
    const files = [...readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts')).map((f) => join(dir, f)), join(dir, '..', 'season.ts')];
    for (const f of files) {
      const src = readFileSync(f, 'utf8');
      expect(src, f).not.toMatch(/Date\.now\(|Math\.random\(|performance\.now\(|new Date\(\)|process\.|setTimeout|setInterval/);
    }
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it('replaying the same input twice gives byte-identical incident output (and a busy day does produce incidents)', () => {
    const a = replay(readings, ticks);
    const b = replay(readings, ticks);
    const ja = JSON.stringify(a.out);
    expect(ja).toBe(JSON.stringify(b.out));
    expect(JSON.stringify(a.engine.snapshot())).toBe(JSON.stringify(b.engine.snapshot()));
    expect(JSON.stringify(a.engine.dailyCompliance())).toBe(JSON.stringify(b.engine.dailyCompliance()));
    const kinds = new Set(a.out.map((e) => e.incident.kind));
    expect([...kinds].sort()).toEqual(['apartment_cold', 'sensor_low_battery', 'sensor_offline', 'station_fault', 'station_silent']);
  });

  it('every event is valid against the published IncidentEvent schema (what the API validates)', () => {
    const check = Compile(IncidentEventSchema);
    const { out } = replay(readings, ticks);
    for (const e of out) expect(check.Check(JSON.parse(JSON.stringify(e))), JSON.stringify(e)).toBe(true);
    expect(out.length).toBeGreaterThan(40);
  });

  it('a snapshot/restore at any point mid-replay changes nothing', () => {
    const whole = JSON.stringify(replay(readings, ticks).out);
    for (const cut of [1, Math.floor(readings.length / 3), Math.floor((readings.length * 2) / 3)]) {
      const first = replay(readings, ticks, 0, cut);
      const snap = JSON.parse(JSON.stringify(first.engine.snapshot())) as EngineSnapshot;
      const second = replay(readings, ticks, cut, readings.length, RulesEngine.restore(snap, { city, policy }));
      expect(JSON.stringify([...first.out, ...second.out])).toBe(whole);
    }
  });

  it('the pump failure in the busy day attaches st1 apartments to one station incident', () => {
    const { out, engine } = replay(readings, ticks);
    const opened = out.filter((e) => e.type === 'opened' && e.incident.kind === 'station_fault');
    expect(opened.map((e) => [e.incident.subjectId, (e.incident.startTs - T0) / MIN])).toEqual([['st1', 120 + 7 / 60]]);
    const st1Apts = out.filter((e) => e.type === 'opened' && e.incident.kind === 'apartment_cold' && e.incident.stationId === 'st1');
    expect(st1Apts).toHaveLength(16);
    for (const e of st1Apts) expect(e.incident).toMatchObject({ cause: 'station', parentId: opened[0]!.incident.id });
    expect(engine.openIncidents().filter((i) => i.kind === 'apartment_cold').map((i) => i.subjectId)).toEqual(['b5-1-101']);
  });
});
