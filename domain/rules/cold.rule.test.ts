/**
 * Cold-apartment rules on a driven clock (event time): N2 threshold and duration, hysteresis,
 * N1 season, N3 exemption, N32 area-weighted value with partial coverage, §E.3/§E.4 cause.
 * Times in the summaries are minutes since T0 (local midnight, 2026-12-10, Beijing).
 */
import { describe, expect, it } from 'vitest';
import { defaultPolicy as policy } from '../policy.ts';
import { HEALTHY_METER, MIN, Scenario, T0, fixtureCity, type FixtureOptions } from './city.fixture.ts';
import { RulesEngine } from './engine.ts';

const COLD = 17.5; // below N2 18.0
const WARM = 21;
const std = policy.comfort.standardC; // N2
const openAfter = policy.comfort.coldOpenAfterMin; // 60 min
const resolveAfter = policy.comfort.resolveAfterMin; // 30 min

function scenario(o: FixtureOptions = {}) {
  const city = fixtureCity(o);
  return new Scenario(new RulesEngine({ city, policy }), city);
}
const meter = () => ({ ...HEALTHY_METER });
/** Temperature by apartment: `cold` apartments follow fn, everyone else warm (runs stay far below the N-stuck 12 h). */
const rooms =
  (cold: Record<string, (m: number) => number>) =>
  (sensorId: string, m: number): number => {
    for (const [apt, fn] of Object.entries(cold)) if (sensorId.startsWith(`s-${apt}-`)) return fn(m);
    return WARM;
  };

describe('cold apartment (N2)', () => {
  it('59 minutes below the standard opens nothing', () => {
    const s = scenario().run(0, 120, 1, { meter, room: rooms({ 'b1-1-101': (m) => (m <= 59 ? COLD : 18.5) }) });
    expect(openAfter).toBe(60);
    expect(s.summary()).toEqual([]);
    expect(s.engine.openIncidents()).toEqual([]);
  });

  it('61 minutes below opens exactly one incident, starting when the value first fell below', () => {
    const s = scenario().run(0, 61, 1, { meter, room: rooms({ 'b1-1-101': () => COLD }) });
    expect(s.summary()).toEqual(['opened apartment_cold b1-1-101 cause=in_home start=0 at=60']);
    const [inc] = s.engine.openIncidents();
    expect(inc).toMatchObject({
      id: `apartment_cold:b1-1-101:${T0}`,
      subjectType: 'apartment',
      status: 'open',
      severity: 'major',
      apartmentId: 'b1-1-101',
      buildingId: 'b1',
      stationId: 'st1',
    });
    expect(inc!.parentId).toBeUndefined();
    expect(inc!.evidence).toMatchObject({ apartmentC: COLD, standardC: std, coverage: 'full', aboveApartmentId: 'b1-1-201', aboveC: WARM });
  });

  it('a value flapping around 18.0 opens one incident and never resolves or reopens (hysteresis)', () => {
    const s = scenario().run(0, 300, 10, { meter, room: rooms({ 'b1-1-101': (m) => ((m / 10) % 2 === 0 ? 17.9 : 18.1) }) });
    expect(s.summary()).toEqual(['opened apartment_cold b1-1-101 cause=in_home start=0 at=60']);
  });

  it('resolves after 30 minutes at or above 18.3; the end is when the value recovered', () => {
    const s = scenario().run(0, 200, 10, { meter, room: rooms({ 'b1-1-101': (m) => (m <= 90 ? COLD : 18.5) }) });
    expect(resolveAfter).toBe(30);
    expect(s.summary()).toEqual([
      'opened apartment_cold b1-1-101 cause=in_home start=0 at=60',
      'resolved apartment_cold b1-1-101 cause=in_home start=0 end=100 at=130',
    ]);
    expect(s.events[1]!.incident.evidence.resolvedAtC).toBe(18.5);
  });

  it('a value between 18.0 and 18.3 keeps the incident open', () => {
    const s = scenario().run(0, 300, 10, { meter, room: rooms({ 'b1-1-101': (m) => (m <= 90 ? COLD : 18.2) }) });
    expect(s.summary()).toEqual(['opened apartment_cold b1-1-101 cause=in_home start=0 at=60']);
  });
});

describe('root cause of a single cold apartment (§E.3, §E.4)', () => {
  it('one cold apartment among warm neighbours, warm apartment above → in_home', () => {
    const s = scenario().run(0, 60, 10, { meter, room: rooms({ 'b1-1-101': () => COLD }) });
    const inc = s.engine.openIncidents()[0]!;
    expect(inc.cause).toBe('in_home');
    expect(inc.evidence).toMatchObject({ coldNeighbourShare: 0, monitoredNeighbours: 5, aboveC: WARM, stationState: 'ok' });
  });

  it('the apartment above cold too → building (riser) for the lower one, in_home for the upper one', () => {
    // 10 apartments, 2 cold: 20 % stays under the 30 % building/station share (grouping).
    const s = scenario({ floors: 5 }).run(0, 60, 10, { meter, room: rooms({ 'b1-1-101': () => COLD, 'b1-1-201': () => COLD }) });
    expect(s.summary()).toEqual([
      'opened apartment_cold b1-1-101 cause=building start=0 at=60',
      'opened apartment_cold b1-1-201 cause=in_home start=0 at=60',
    ]);
    expect(s.engine.openIncidents()[0]!.evidence).toMatchObject({ aboveApartmentId: 'b1-1-201', aboveC: COLD });
  });
});

describe('season (N1) and weather (N3)', () => {
  it('out of season nothing opens', () => {
    const city = fixtureCity();
    const s = new Scenario(new RulesEngine({ city, policy }), city);
    const july = Date.parse('2026-07-09T16:00:00Z');
    s.run(
      0,
      600,
      10,
      {
        meter: () => ({ ...HEALTHY_METER, pumpHz: 0 }),
        room: (id, m) => (id.includes('b1-1-101') ? COLD : m < 100 || !id.includes('102') ? WARM : undefined),
      },
      july,
    );
    s.advance(2000, july);
    expect(s.events).toEqual([]);
    expect(s.engine.dailyCompliance()).toEqual([]);
  });

  it('a one-off extension (decree) opens the season early', () => {
    const city = fixtureCity();
    const decree = { ...policy, season: { ...policy.season, extensions: [{ from: '2026-11-08', to: '2026-11-14', reason: 'cold snap' }] } };
    const s = new Scenario(new RulesEngine({ city, policy: decree }), city);
    const nov8 = Date.parse('2026-11-07T16:00:00Z');
    s.run(0, 60, 10, { meter, room: rooms({ 'b1-1-101': () => COLD }) }, nov8);
    expect(s.events.map((e) => [e.type, e.incident.id])).toEqual([['opened', `apartment_cold:b1-1-101:${nov8}`]]);
  });

  it('a day colder than the design outdoor temperature marks the shortfall exempt (N3)', () => {
    const design = policy.comfort.designOutdoorC; // N3: −7.6 °C Beijing
    const cold = { ...HEALTHY_METER, outdoorTemp: design - 4, secondarySupplyTemp: 62 };
    const s = scenario().run(0, 70, 10, { meter: () => cold, room: rooms({ 'b1-1-101': () => COLD }) });
    expect(s.summary()).toEqual(['opened apartment_cold b1-1-101 cause=in_home start=0 at=60']);
    const inc = s.engine.openIncidents()[0]!;
    expect(inc.exempt).toBe(true);
    expect(inc.severity).toBe('minor');
    expect(inc.evidence.outdoorDayMeanC).toBe(design - 4);
    expect(s.engine.dailyCompliance()).toEqual([{ apartmentId: 'b1-1-101', date: '2026-12-10', minutesBelow: 70, minutesExempt: 70 }]);
  });
});

describe('apartment value (N32) and compliance evidence (N2)', () => {
  it('area-weighted mean over counted rooms that have sensors; partial coverage is said; the kitchen does not count', () => {
    const s = scenario({
      floors: 1,
      unitsPerFloor: 1,
      rooms: [
        { suffix: 'living', type: 'living', areaM2: 20, sensor: true },
        { suffix: 'bed1', type: 'bedroom', areaM2: 10, sensor: true },
        { suffix: 'bed2', type: 'bedroom', areaM2: 10, sensor: false },
        { suffix: 'kitchen', type: 'kitchen', areaM2: 8, sensor: true },
      ],
    });
    const temps: Record<string, number> = { living: 17, bed1: 19.5, kitchen: 10 };
    s.run(0, 60, 10, { meter, room: (id) => temps[id.split('-').at(-1)!] });
    // (20 × 17 + 10 × 19.5) / 30 = 17.83 °C < 18
    expect(s.engine.apartmentValue('b1-1-101')).toBeCloseTo((20 * 17 + 10 * 19.5) / 30, 10);
    expect(s.summary()).toEqual(['opened apartment_cold b1-1-101 cause=unknown start=0 at=60']);
    expect(s.engine.openIncidents()[0]!.evidence).toMatchObject({
      apartmentC: 17.83,
      coverage: 'partial',
      roomsCounted: 3,
      roomsMeasured: 2,
      areaMeasuredM2: 30,
    });
  });

  it('accumulates minutes below the standard per apartment per local day, split at local midnight', () => {
    const start = 23 * 60; // 23:00 local on 2026-12-10
    const s = scenario().run(start, start + 200, 10, { meter, room: rooms({ 'b1-1-101': (m) => (m <= start + 120 ? COLD : WARM) }) });
    expect(s.engine.dailyCompliance()).toEqual([
      { apartmentId: 'b1-1-101', date: '2026-12-10', minutesBelow: 60, minutesExempt: 0 },
      { apartmentId: 'b1-1-101', date: '2026-12-11', minutesBelow: 70, minutesExempt: 0 },
    ]);
    expect(s.engine.dailyCompliance({ apartmentId: 'b1-1-102' })).toEqual([]);
    // The host stores past days and drops them from the engine.
    expect(s.engine.dropComplianceBefore('2026-12-11')).toBe(1);
    expect(s.engine.dailyCompliance().map((d) => d.date)).toEqual(['2026-12-11']);
    expect(() => s.engine.dropComplianceBefore('yesterday')).toThrow(RangeError);
    expect(MIN).toBe(60_000);
  });
});
