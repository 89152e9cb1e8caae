/**
 * "Not a heating fault" (heating-norms §E.5) on a driven clock: window-open pattern, dead,
 * low-battery, stuck and implausible sensors. Minutes in summaries are since T0.
 */
import { describe, expect, it } from 'vitest';
import { defaultPolicy as policy } from '../policy.ts';
import { HEALTHY_METER, Scenario, T0, MIN, fixtureCity, type FixtureOptions } from './city.fixture.ts';
import { RulesEngine } from './engine.ts';

const WARM = 21;
const meter = () => ({ ...HEALTHY_METER });
function scenario(o: FixtureOptions = {}) {
  const city = fixtureCity(o);
  return new Scenario(new RulesEngine({ city, policy }), city);
}
const LIVING_ONLY: FixtureOptions = {
  rooms: [
    { suffix: 'living', type: 'living', areaM2: 20, sensor: true },
    { suffix: 'bed1', type: 'bedroom', areaM2: 12, sensor: false },
  ],
};
const LIVING = 's-b1-1-101-living';

describe('window-open pattern (§E.5)', () => {
  const drop = policy.sensors.windowDropC; // 3 °C …
  const recoverWithin = policy.sensors.windowRecoverWithinMin; // … recovered within 120 min

  it('a sharp drop in one room, then recovery, opens nothing (even though the drop lasted over an hour)', () => {
    const s = scenario(LIVING_ONLY).run(0, 240, 5, {
      meter,
      room: (id, m) => (id === LIVING && m >= 60 && m < 155 ? WARM - drop - 6 : WARM),
    });
    expect(155 - 60).toBeLessThan(recoverWithin);
    expect(s.summary()).toEqual([]);
  });

  it('a drop that does not recover in time is a real shortfall, counted from when the drop began', () => {
    const s = scenario(LIVING_ONLY).run(0, 240, 5, { meter, room: (id, m) => (id === LIVING && m >= 60 ? 12 : WARM) });
    // Pre-drop maximum at minute 55; the window hold ends once 120 min have passed (minute 180).
    expect(s.summary()).toEqual(['opened apartment_cold b1-1-101 cause=in_home start=55 at=180']);
  });

  it('a slow cooling (no sharp drop) is not mistaken for a window', () => {
    // 0.25 °C per 10 min: a failing radiator, not an open window.
    const s = scenario(LIVING_ONLY).run(0, 300, 10, { meter, room: (id, m) => (id === LIVING ? WARM - (m / 10) * 0.25 : WARM) });
    // 21 − 0.25·k < 18 from k = 13 (minute 130); open 60 min later.
    expect(s.summary()).toEqual(['opened apartment_cold b1-1-101 cause=in_home start=130 at=190']);
  });
});

describe('sensor health', () => {
  it('a dead sensor (silent for 3× its interval) opens sensor_offline only, never a cold incident', () => {
    const off = policy.sensors.offlineAfterIntervals * 10; // N: 3 × 10 min
    const s = scenario(LIVING_ONLY).run(0, 600, 10, { meter, room: (id, m) => (id === LIVING ? (m <= 30 ? 17 : undefined) : WARM) });
    expect(s.summary()).toEqual([`opened sensor_offline ${LIVING} cause=not_a_fault start=30 at=${30 + off}`]);
    expect(s.engine.openIncidents()[0]).toMatchObject({ subjectType: 'device', apartmentId: 'b1-1-101', severity: 'minor' });
    // It comes back: resolved at its first reading.
    s.send(LIVING, 610, { temp: WARM });
    expect(s.summary().at(-1)).toBe(`resolved sensor_offline ${LIVING} cause=not_a_fault start=30 end=610 at=610`);
  });

  it('low battery opens once, ignores a wobble under the clear level, resolves on a new battery', () => {
    const s = scenario();
    const id = 's-b1-1-101-bed1';
    s.send(id, 0, { temp: WARM, bat: 3.0 })
      .send(id, 10, { temp: WARM, bat: policy.sensors.lowBatteryV - 0.1 })
      .send(id, 20, { temp: WARM, bat: policy.sensors.lowBatteryV - 0.2 })
      .send(id, 30, { temp: WARM, bat: policy.sensors.lowBatteryClearV - 0.1 })
      .send(id, 40, { temp: WARM, bat: policy.sensors.lowBatteryClearV + 0.3 });
    expect(s.summary()).toEqual([
      `opened sensor_low_battery ${id} cause=not_a_fault start=10 at=10`,
      `resolved sensor_low_battery ${id} cause=not_a_fault start=10 end=40 at=40`,
    ]);
    expect(s.events[0]!.incident.evidence).toEqual({ batteryV: 2.5, lowBatteryV: policy.sensors.lowBatteryV });
  });

  it('a value identical for 12 h is stuck, and the stuck room no longer counts', () => {
    const hours = policy.sensors.stuckAfterHours; // 12
    const s = scenario(LIVING_ONLY).run(0, hours * 60 + 30, 10, {
      meter,
      room: (id, m) => (id === LIVING ? 19 : WARM + ((m / 10) % 5) / 10),
    });
    expect(s.summary()).toEqual([`opened sensor_stuck ${LIVING} cause=not_a_fault start=0 at=${hours * 60}`]);
    expect(s.engine.apartmentValue('b1-1-101')).toBeNaN();
    s.send(LIVING, hours * 60 + 40, { temp: 19.1 });
    expect(s.summary().at(-1)).toBe(
      `resolved sensor_stuck ${LIVING} cause=not_a_fault start=0 end=${hours * 60 + 40} at=${hours * 60 + 40}`,
    );
    expect(s.engine.apartmentValue('b1-1-101')).toBe(19.1);
  });

  it('an implausibly warm room (heat source, sun) opens sensor_implausible and cannot mask a cold apartment', () => {
    const hot = policy.sensors.implausibleHighC + 3;
    const s = scenario().run(0, 70, 10, {
      meter,
      room: (id) => (id === 's-b1-1-101-living' ? hot : id === 's-b1-1-101-bed1' ? 16 : WARM),
    });
    // Without the rule the apartment would read (20·35 + 12·16)/32 = 27.9 °C.
    expect(s.summary()).toEqual([
      'opened sensor_implausible s-b1-1-101-living cause=not_a_fault start=0 at=0',
      'opened apartment_cold b1-1-101 cause=in_home start=0 at=60',
    ]);
    expect(s.engine.openIncidents()[1]!.evidence).toMatchObject({ apartmentC: 16, roomsMeasured: 1, coverage: 'partial' });
    s.send('s-b1-1-101-living', 80, { temp: 22 });
    expect(s.summary().at(-1)).toBe('resolved sensor_implausible s-b1-1-101-living cause=not_a_fault start=0 end=80 at=80');
  });

  it('a redelivered (duplicate or older) reading changes nothing', () => {
    const s = scenario().run(0, 30, 10, { meter, room: () => WARM });
    const before = JSON.stringify(s.engine.snapshot());
    expect(s.engine.ingest({ deviceId: LIVING, kind: 'room_sensor', ts: T0 + 20 * MIN, fields: { temp: 5 } })).toEqual([]);
    expect(JSON.stringify(s.engine.snapshot())).toBe(before);
  });
});
