/**
 * The rules snapshot is read by name and by version (snapshot.codec.ts): a version-1 file
 * written by the positional engine is migrated and gives the same incidents as never having
 * stopped; a station field added or removed since a snapshot was written is a missing or
 * extra column, read as "never reported" or ignored; anything that does not line up is
 * refused with an error naming the column — never read shifted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IncidentEvent } from '../incident.schema.ts';
import { defaultPolicy as policy } from '../policy.ts';
import { STATION_FIELDS } from '../telemetry.schema.ts';
import { busyCity as city, busyDay, replay } from './busy-day.fixture.ts';
import { RulesEngine } from './engine.ts';
import { decodeSnapshot } from './snapshot.codec.ts';
import type { EngineSnapshot } from './snapshot.schema.ts';

/** Written by the version-1 engine (before this codec, commit 0f36413) after `cut` readings of the busy day. */
const v1 = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', 'busy-day.v1.snapshot.json'), 'utf8')) as {
  cut: number;
  engine: {
    version: 1;
    stations: { ids: string[]; values: (number | null)[] };
    sensors: Record<string, unknown>;
    meters: Record<string, unknown>;
    resolvedChildren?: unknown;
  };
};
const { readings, ticks } = busyDay();
/**
 * N2 per room added `coldestRoomC` to an apartment_cold's evidence at its opening; incidents the
 * version-1 engine had already opened before the cut never got it, so it is compared only on
 * incidents opened after the cut. Everything else must match exactly.
 */
const cutTs = readings[v1.cut - 1]!.ts;
const sameAsV1 = (events: readonly IncidentEvent[]): string =>
  JSON.stringify(
    events.map((e) => {
      if (e.incident.startTs > cutTs || !('coldestRoomC' in e.incident.evidence)) return e;
      const { coldestRoomC: _c, ...evidence } = e.incident.evidence;
      return { ...e, incident: { ...e.incident, evidence } };
    }),
  );
const whole = sameAsV1(replay(readings, ticks).out);
const copy = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

describe('version-1 snapshots (positional) are migrated', () => {
  it('the busy day continued from a version-1 snapshot gives exactly the events of an uninterrupted day', () => {
    const first = replay(readings, ticks, 0, v1.cut);
    const second = replay(readings, ticks, v1.cut, readings.length, RulesEngine.restore(copy(v1.engine), { city, policy }));
    expect(sameAsV1([...first.out, ...second.out])).toBe(whole);
    expect(second.out.length).toBeGreaterThan(10);
  });

  it("each station's values land under their own field names (pump stopped on st1, healthy st2)", () => {
    const s = decodeSnapshot(copy(v1.engine));
    expect(s.version).toBe(2);
    for (const stationId of ['st1', 'st2']) {
      const last = readings.slice(0, v1.cut).findLast((r) => r.deviceId === `m-${stationId}`)!;
      const i = s.stations.ids.indexOf(stationId);
      const named = Object.fromEntries(STATION_FIELDS.map((f) => [f, s.stations.values[f]![i]]));
      const expected = Object.fromEntries(STATION_FIELDS.map((f) => [f, (last.fields as Record<string, number | undefined>)[f] ?? null]));
      expect(named, stationId).toEqual(expected);
    }
    const st1 = s.stations.ids.indexOf('st1');
    expect([s.stations.values.pumpHz![st1], s.stations.values.secondarySupplyTemp![st1]]).toEqual([0, 30]);
    expect(s.stations.confirmed.pump_stopped![st1]).toBe(1);
  });

  it('an older version-1 snapshot (before heard times and resolved children) restores too', () => {
    const older = copy(v1.engine);
    delete older.sensors.heard;
    delete older.meters.heard;
    delete older.resolvedChildren;
    const first = replay(readings, ticks, 0, v1.cut);
    const second = replay(readings, ticks, v1.cut, readings.length, RulesEngine.restore(older, { city, policy }));
    expect(sameAsV1([...first.out, ...second.out])).toBe(whole);
  });

  it('a "version 1" whose stations carry one more field than version 1 had is refused, not read shifted', () => {
    const wider = copy(v1.engine);
    const n = STATION_FIELDS.length;
    // As a build with a 17th station field would have written it: every station's row one slot longer.
    wider.stations.values = wider.stations.ids.flatMap((_id, i) => [...wider.stations.values.slice(i * n, (i + 1) * n), 1.5]);
    expect(() => RulesEngine.restore(wider, { city, policy })).toThrow(
      /rules snapshot refused: stations\.values has 51 entries for 3 ids × 16/,
    );
  });
});

describe('version-2 snapshots name their columns', () => {
  const mid = (): EngineSnapshot => copy(replay(readings, ticks, 0, v1.cut).engine.snapshot());

  it('a snapshot written before a station field existed restores that field as never reported and everything else as it was', () => {
    const before = mid();
    const st1 = before.stations.ids.indexOf('st1');
    expect(before.stations.values.pumpHz![st1]).toBe(0);
    // The field "added" since: this snapshot has no column for it.
    const old = copy(before);
    delete old.stations.values.pumpHz;
    const after = RulesEngine.restore(old, { city, policy }).snapshot();
    expect(after.stations.values.pumpHz).toEqual(before.stations.ids.map(() => null));
    const { pumpHz: _a, ...restAfter } = after.stations.values;
    const { pumpHz: _b, ...restBefore } = before.stations.values;
    expect(restAfter).toEqual(restBefore);
    expect({ ...after, stations: null }).toEqual({ ...before, stations: null });
  });

  it('a column for a field this build does not have (written by a newer build) is ignored, the rest read by name', () => {
    const before = mid();
    const newer = copy(before);
    newer.stations.values = { returnPressureDelta: before.stations.ids.map(() => 0.12), ...newer.stations.values };
    expect(RulesEngine.restore(newer, { city, policy }).snapshot()).toEqual(before);
  });

  it('refuses a column that does not line up with its ids, naming it', () => {
    const bad = mid();
    bad.stations.values.heatPower!.pop();
    expect(() => RulesEngine.restore(bad, { city, policy })).toThrow(/stations\.values\.heatPower has 2 entries for 3 ids/);
    const bad2 = mid();
    bad2.sensors.flags.window!.push(1);
    expect(() => RulesEngine.restore(bad2, { city, policy })).toThrow(/sensors\.flags\.window has/);
  });

  it('refuses what does not match the schema, and versions it does not know', () => {
    const bad = mid() as unknown as { stations: { ids: unknown } };
    bad.stations.ids = 'st1';
    expect(() => RulesEngine.restore(bad, { city, policy })).toThrow(
      /rules snapshot refused: version 2 does not match its schema: \/stations\/ids/,
    );
    expect(() => RulesEngine.restore({ ...mid(), version: 3 }, { city, policy })).toThrow(/unsupported rules snapshot version 3/);
    expect(() => RulesEngine.restore('{}', { city, policy })).toThrow(/unsupported rules snapshot version undefined/);
  });

  it('names every station field and fault rather than positions', () => {
    const s = mid();
    expect(Object.keys(s.stations.values)).toEqual([...STATION_FIELDS]);
    expect(Object.keys(s.stations.faultSince)).toEqual(['pump_stopped', 'below_curve', 'low_primary_dt', 'leak']);
    expect(Object.keys(s.sensors.flags)).toEqual(['offline', 'lowBattery', 'stuck', 'implausible', 'window', 'seen']);
    for (const col of Object.values(s.stations.values)) expect(col).toHaveLength(s.stations.ids.length);
  });
});
