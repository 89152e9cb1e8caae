/**
 * Station and heat-source rules (heating-norms §D, §E.1, §E.2) and grouping of apartment
 * incidents under them, on a driven clock. Minutes in summaries are since T0.
 */
import { describe, expect, it } from 'vitest';
import { defaultPolicy as policy } from '../policy.ts';
import { HEALTHY_METER, Scenario, fixtureCity, type FixtureOptions } from './city.fixture.ts';
import { RulesEngine } from './engine.ts';
import { heatingCurveSetpointC } from './station.rule.ts';

const WARM = 21;
function scenario(o: FixtureOptions = {}) {
  const city = fixtureCity(o);
  return new Scenario(new RulesEngine({ city, policy }), city);
}
const confirm = policy.station.faultConfirmMin; // 10 min
const warmRooms = () => WARM;
/** `stationsPerSource` stations on src1, run to minute `to`; the `low` ones lose primary supply (down to `primaryC`) from minute `from`. */
function lowSupply(stationsPerSource: number, low: readonly string[], from: number, to: number, primaryC: number) {
  const s = scenario({ stationsPerSource, floors: 1, unitsPerFloor: 1 });
  const lows = new Set(low);
  const lowMeter = { ...HEALTHY_METER, primarySupplyTemp: primaryC, secondarySupplyTemp: 40 };
  return s.run(0, to, 10, { meter: (st, m) => ({ ...(m >= from && lows.has(st) ? lowMeter : HEALTHY_METER) }), room: warmRooms });
}
const fault = (s: Scenario) => s.summary().filter((l) => !l.includes('apartment_cold'));

describe('heating curve', () => {
  it('interpolates between +5 °C and the N3 design temperature, clamped', () => {
    expect(heatingCurveSetpointC(10, policy)).toBe(policy.station.curveSupplyAtPlus5C);
    expect(heatingCurveSetpointC(-20, policy)).toBe(policy.station.curveSupplyAtDesignC);
    expect(heatingCurveSetpointC(0, policy)).toBeCloseTo(45 + (15 * 5) / 12.6, 10);
  });
});

describe('station fault rules (§E.2)', () => {
  it('secondary supply below the heating curve for the current outdoor temperature', () => {
    // Outdoor 0 °C → setpoint ≈ 50.95 °C; 45 °C is more than 3 °C under it.
    const s = scenario().run(0, 120, 10, {
      meter: (_id, m) => ({ ...HEALTHY_METER, secondarySupplyTemp: m >= 30 && m < 100 ? 45 : 53 }),
      room: warmRooms,
    });
    expect(s.summary()).toEqual([
      `opened station_fault st1 cause=station start=30 at=${30 + confirm}`,
      'resolved station_fault st1 cause=station start=30 end=100 at=100',
    ]);
    expect(s.events[0]!.incident).toMatchObject({
      subjectType: 'station',
      severity: 'major',
      evidence: { faults: 'below_curve', secondarySupplyC: 45, curveSetpointC: 50.95, outdoorC: 0 },
    });
  });

  it('the same supply is fine on a mild day (the curve follows the weather)', () => {
    const s = scenario().run(0, 120, 10, { meter: () => ({ ...HEALTHY_METER, outdoorTemp: 8, secondarySupplyTemp: 45 }), room: warmRooms });
    expect(s.summary()).toEqual([]);
  });

  it('a floor-heating station is held to its own, lower curve (§D: 35–45 °C)', () => {
    const supply = (v: number) => () => ({ ...HEALTHY_METER, secondarySupplyTemp: v });
    expect(heatingCurveSetpointC(0, policy, 'floor')).toBeCloseTo(35 + (10 * 5) / 12.6, 10);
    expect(
      scenario({ system: 'floor' })
        .run(0, 60, 10, { meter: supply(40), room: warmRooms })
        .summary(),
    ).toEqual([]);
    const low = scenario({ system: 'floor' }).run(0, 60, 10, { meter: supply(34), room: warmRooms });
    expect(low.summary()).toEqual([`opened station_fault st1 cause=station start=0 at=${confirm}`]);
    expect(low.events[0]!.incident.evidence).toMatchObject({ faults: 'below_curve', curveSetpointC: 38.97 });
  });

  it('low primary ΔT counts only with the valve fully open', () => {
    const lowDt = { ...HEALTHY_METER, primarySupplyTemp: 80, primaryReturnTemp: 70 };
    const half = scenario().run(0, 60, 10, { meter: () => ({ ...lowDt, valvePct: 60 }), room: warmRooms });
    expect(half.summary()).toEqual([]);
    const open = scenario().run(0, 60, 10, { meter: () => ({ ...lowDt, valvePct: 100 }), room: warmRooms });
    expect(open.summary()).toEqual([`opened station_fault st1 cause=station start=0 at=${confirm}`]);
    expect(open.events[0]!.incident.evidence).toMatchObject({ faults: 'low_primary_dt', primaryDeltaC: 10, valvePct: 100 });
  });

  it('pressure drop with a make-up surge is a leak; either alone is not', () => {
    const meter = (_id: string, m: number) => ({
      ...HEALTHY_METER,
      secondarySupplyPressure: m >= 20 ? 0.1 : 0.45,
      makeupFlow: m >= 40 ? 6 : 0.2,
    });
    const s = scenario().run(0, 80, 10, { meter, room: warmRooms });
    expect(s.summary()).toEqual([`opened station_fault st1 cause=station start=40 at=${40 + confirm}`]);
    expect(s.events[0]!.incident).toMatchObject({
      severity: 'critical',
      evidence: { faults: 'leak', makeupFlowM3h: 6, secondarySupplyPressureMPa: 0.1 },
    });
  });

  it('a silent station meter opens station_silent, resolved by its next reading', () => {
    const silent = policy.station.silentAfterMin; // 30 min
    const s = scenario().run(0, 200, 10, { meter: (_id, m) => (m <= 60 ? { ...HEALTHY_METER } : undefined), room: warmRooms });
    expect(s.summary()).toEqual([`opened station_silent st1 cause=unknown start=60 at=${60 + silent}`]);
    s.send('m-st1', 210, { ...HEALTHY_METER });
    expect(s.summary().at(-1)).toBe('resolved station_silent st1 cause=unknown start=60 end=210 at=210');
  });
});

describe('station pump failure with 40 cold apartments', () => {
  // 2 buildings × 5 floors × 4 units = 40 apartments on station st1.
  const opts: FixtureOptions = { buildingsPerStation: 2, floors: 5, unitsPerFloor: 4 };
  const failAt = 60;
  const meter = (_id: string, m: number) =>
    m < failAt ? { ...HEALTHY_METER } : { ...HEALTHY_METER, pumpHz: 0, secondarySupplyTemp: Math.max(25, 53 - 0.2 * (m - failAt)) };
  // Rooms cool ~1.5 °C/h after the pump stops (heating-norms §E: 16 °C after 2.5–4 h).
  const room = (_id: string, m: number) => (m < failAt ? WARM : WARM - (1.5 * (m - failAt)) / 60);

  it('opens one station incident with 40 children, cause station, and no building or station_cold groups', () => {
    const s = scenario(opts).run(0, 300, 10, { meter, room });
    const events = fault(s);
    // Pump stop confirmed at 70; the supply falls under the curve at 90 (confirmed 100).
    expect(events.slice(0, 2)).toEqual([
      'opened station_fault st1 cause=station start=60 at=70',
      'updated station_fault st1 cause=station start=60 at=100',
    ]);
    // The rest are the fault incident's children list growing as apartments open.
    expect(events.slice(2)).toEqual(Array(40).fill('updated station_fault st1 cause=station start=60 at=250'));
    expect(s.events.some((e) => e.incident.kind === 'building_cold' || e.incident.kind === 'station_cold')).toBe(false);

    const open = s.engine.openIncidents();
    const station = open.filter((i) => i.kind === 'station_fault');
    expect(station).toHaveLength(1);
    const apts = open.filter((i) => i.kind === 'apartment_cold');
    expect(apts).toHaveLength(40);
    expect(station[0]!.children).toEqual(s.city.apartments.map((a) => a.id));
    expect(station[0]!.evidence.faults).toBe('pump_stopped,below_curve');
    expect(station[0]!.severity).toBe('critical');
    for (const a of apts) {
      expect(a).toMatchObject({
        cause: 'station',
        parentId: station[0]!.id,
        startTs: s.events.find((e) => e.incident.id === a.id)!.incident.startTs,
      });
      // Below 18 from minute 190 (first reading under the standard).
      expect(a.id.endsWith(`:${a.startTs}`)).toBe(true);
    }
    expect(new Set(apts.map((a) => a.startTs)).size).toBe(1);
    expect(apts[0]!.evidence.stationState).toBe('fault:pump_stopped,below_curve');
  });

  it('after the pump restarts the fault resolves; its children keep their cause and no new group forms', () => {
    const restart = 300;
    const s = scenario(opts).run(0, 500, 10, {
      meter: (id, m) => (m < restart ? meter(id, m) : { ...HEALTHY_METER }),
      room: (id, m) => (m < restart ? room(id, m) : Math.min(WARM, room(id, restart) + (2 * (m - restart)) / 60)),
    });
    const tail = fault(s).slice(42);
    expect(tail).toEqual(['resolved station_fault st1 cause=station start=60 end=300 at=300']);
    const resolved = s.events.filter((e) => e.type === 'resolved' && e.incident.kind === 'apartment_cold');
    expect(resolved).toHaveLength(40);
    for (const e of resolved)
      expect(e.incident).toMatchObject({ cause: 'station', parentId: `station_fault:st1:${s.events[0]!.incident.startTs}` });
    expect(s.engine.openIncidents()).toEqual([]);
  });
});

describe('a fault explains only what began after it', () => {
  it('an apartment already cold before the pump stopped keeps its own cause and is not a child', () => {
    const opts: FixtureOptions = { buildingsPerStation: 2, floors: 5, unitsPerFloor: 4 };
    const failAt = 60;
    const s = scenario(opts).run(0, 300, 10, {
      meter: (_id, m) => (m < failAt ? { ...HEALTHY_METER } : { ...HEALTHY_METER, pumpHz: 0 }),
      room: (id, m) => (id.startsWith('s-b1-1-101-') ? 16 : m < failAt ? WARM : WARM - (1.5 * (m - failAt)) / 60),
    });
    expect(s.summary().slice(0, 2)).toEqual([
      'opened apartment_cold b1-1-101 cause=in_home start=0 at=60',
      'opened station_fault st1 cause=station start=60 at=70',
    ]);
    const open = s.engine.openIncidents();
    const station = open.find((i) => i.kind === 'station_fault')!;
    expect(station.children).toHaveLength(39);
    expect(station.children).not.toContain('b1-1-101');
    expect(open.find((i) => i.subjectId === 'b1-1-101')).toMatchObject({ cause: 'in_home' });
    expect(open.find((i) => i.subjectId === 'b1-1-101')!.parentId).toBeUndefined();
  });
});

describe('share-based groups (§E.3)', () => {
  it('when 30 % of a building is cold one building incident opens and the apartments attach to it', () => {
    // 2 buildings × 10 apartments; 3 cold in b1 = 30 % of b1, 15 % of the station.
    const s = scenario({ buildingsPerStation: 2, floors: 5, unitsPerFloor: 2 });
    const cold = new Set(['b1-1-101', 'b1-1-102', 'b1-1-202']);
    s.run(0, 70, 10, { meter: () => ({ ...HEALTHY_METER }), room: (id) => ([...cold].some((a) => id.startsWith(`s-${a}-`)) ? 17 : WARM) });
    expect(s.summary()).toEqual([
      'opened apartment_cold b1-1-101 cause=in_home start=0 at=60',
      // b1-1-102 has the cold b1-1-202 above it: a riser (§E.3) before the group forms.
      'opened apartment_cold b1-1-102 cause=building start=0 at=60',
      'opened apartment_cold b1-1-202 cause=in_home start=0 at=60',
      'opened building_cold b1 cause=building start=60 at=60',
      'updated apartment_cold b1-1-101 cause=building start=0 at=60',
      'updated apartment_cold b1-1-102 cause=building start=0 at=60',
      'updated apartment_cold b1-1-202 cause=building start=0 at=60',
    ]);
    const b = s.engine.openIncidents().find((i) => i.kind === 'building_cold')!;
    expect(b).toMatchObject({ children: [...cold], evidence: { coldShare: 0.3, monitored: 10 } });
    for (const i of s.engine.openIncidents().filter((x) => x.kind === 'apartment_cold')) expect(i.parentId).toBe(b.id);
  });
});

describe('share-based station group swallowing a building group (§E.3)', () => {
  it('30 % of the station cold → one station_cold; the building group formed first merges into it', () => {
    // 2 buildings × 10 apartments: 3 cold in b1 (30 % of b1) then 3 in b2 (30 % of the station).
    const s = scenario({ buildingsPerStation: 2, floors: 5, unitsPerFloor: 2 });
    const cold = ['b1-1-101', 'b1-1-301', 'b1-1-501', 'b2-1-101', 'b2-1-301', 'b2-1-501'];
    s.run(0, 70, 10, { meter: () => ({ ...HEALTHY_METER }), room: (id) => (cold.some((a) => id.startsWith(`s-${a}-`)) ? 17 : WARM) });
    const groups = s.summary().filter((l) => !l.includes('apartment_cold'));
    expect(groups).toEqual([
      'opened building_cold b1 cause=building start=60 at=60',
      'resolved building_cold b1 cause=building start=60 end=60 at=60',
      'opened station_cold st1 cause=station start=60 at=60',
    ]);
    const open = s.engine.openIncidents();
    const st = open.find((i) => i.kind === 'station_cold')!;
    expect(st).toMatchObject({ children: cold, evidence: { coldShare: 0.3, monitored: 20 }, severity: 'critical' });
    expect(open.filter((i) => i.kind === 'building_cold')).toEqual([]);
    expect(s.events.find((e) => e.type === 'resolved')!.incident.evidence.mergedInto).toBe(st.id);
    for (const i of open.filter((x) => x.kind === 'apartment_cold')) expect(i).toMatchObject({ cause: 'station', parentId: st.id });
  });
});

describe('heat source (§E.1)', () => {
  it('many stations of one source low at once → one source incident, cause heat_source, stations attach', () => {
    // 4 metered stations on src1; 3 lose supply temperature (primary low) at minute 30.
    const s = lowSupply(4, ['st1', 'st2', 'st3'], 30, 80, 70);
    expect(s.summary()).toEqual([
      'opened station_fault st1 cause=station start=30 at=40',
      'opened station_fault st2 cause=station start=30 at=40',
      'opened source_cold src1 cause=heat_source start=40 at=40',
      'updated station_fault st1 cause=heat_source start=30 at=40',
      'updated station_fault st2 cause=heat_source start=30 at=40',
      'opened station_fault st3 cause=station start=30 at=40',
      'updated source_cold src1 cause=heat_source start=40 at=40',
      'updated station_fault st3 cause=heat_source start=30 at=40',
    ]);
    const open = s.engine.openIncidents();
    const src = open.find((i) => i.kind === 'source_cold')!;
    expect(src).toMatchObject({
      subjectType: 'source',
      children: ['st1', 'st2', 'st3'],
      evidence: { lowStationShare: 0.75, meteredStations: 4 },
    });
    for (const st of open.filter((i) => i.kind === 'station_fault')) expect(st).toMatchObject({ cause: 'heat_source', parentId: src.id });
  });
});

describe('primary branch (§E.1)', () => {
  it('stations of one branch low while the rest of the source is fine → a branch-scoped source incident', () => {
    // 8 stations on src1, alternating between branches src1-br1 (st1, st3, st5, st7) and src1-br2.
    // 2 of 8 for the source (25 %), 2 of 4 for the branch (50 %).
    const s = lowSupply(8, ['st1', 'st3'], 20, 60, 72);
    expect(s.summary()).toEqual([
      'opened station_fault st1 cause=station start=20 at=30',
      'opened station_fault st3 cause=station start=20 at=30',
      'opened source_cold src1-br1 cause=heat_source start=30 at=30',
      'updated station_fault st1 cause=heat_source start=20 at=30',
      'updated station_fault st3 cause=heat_source start=20 at=30',
    ]);
    const br = s.engine.openIncidents().find((i) => i.kind === 'source_cold')!;
    expect(br).toMatchObject({
      subjectType: 'source',
      children: ['st1', 'st3'],
      evidence: { scope: 'branch', sourceId: 'src1', lowStationShare: 0.5, meteredStations: 4, lowStationsPrimarySupplyC: 72 },
    });
  });
});
