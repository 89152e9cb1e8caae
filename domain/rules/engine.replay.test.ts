/**
 * Determinism and state: snapshot/restore mid-way, and replaying the same input twice gives
 * byte-identical incident output (issue 5 "Done when").
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Compile } from 'typebox/compile';
import { IncidentEventSchema } from '../incident.schema.ts';
import { defaultPolicy as policy } from '../policy.ts';
import { HEALTHY_METER, MIN, Scenario, T0 } from './city.fixture.ts';
import { busyCity as city, busyDay as stream, replay } from './busy-day.fixture.ts';
import { RulesEngine, type EngineSnapshot } from './engine.ts';

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
    const snap = { ...new RulesEngine({ city, policy }).snapshot(), version: 3 };
    expect(() => RulesEngine.restore(snap, { city, policy })).toThrow(/unsupported rules snapshot version 3/);
  });
});

describe('determinism', () => {
  const { readings, ticks } = stream();

  it('the engine reads no clock and draws no random numbers (pure: input stream + policy only)', () => {
    const dir = import.meta.dirname;
    const files = [
      ...readdirSync(dir)
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
        .map((f) => join(dir, f)),
      join(dir, '..', 'season.ts'),
    ];
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
    expect(
      engine
        .openIncidents()
        .filter((i) => i.kind === 'apartment_cold')
        .map((i) => i.subjectId),
    ).toEqual(['b5-1-101']);
  });
});
