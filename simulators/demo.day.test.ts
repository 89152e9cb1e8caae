import { describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../domain/clock.ts';
import { policyForCity } from '../domain/policy.ts';
import { demoCity } from './city.generator.ts';
import { DemoClock } from './demo.clock.ts';
import { DEMO_DAY, demoDayFaults, demoDayOutage, pickDemoTargets } from './demo.day.ts';
import { demoFaultsThrough, loadDemoDayState } from './demo.runner.ts';

const policy = policyForCity('beijing');
const { city } = demoCity();

describe('demo day targets', () => {
  const picks = pickDemoTargets(city, policy);
  const apt = (id: string) => city.apartments.find((a) => a.id === id)!;
  const building = (id: string) => city.buildings.find((b) => b.id === id)!;
  const sensed = new Set(
    city.devices.filter((d) => d.kind === 'room_sensor').map((d) => city.rooms.find((r) => r.id === d.roomId)!.apartmentId),
  );

  it('puts every demo resident in an apartment with sensors, resident1 in the air-locked one', () => {
    expect(picks.residentApartments[0]).toBe(picks.airLockApartmentId);
    for (const a of picks.residentApartments) expect(sensed.has(a)).toBe(true);
    expect(new Set(picks.residentApartments).size).toBe(picks.residentApartments.length);
  });

  it('keeps the faults apart: the riser building, the air lock and the window sit off the failed pump', () => {
    const riserStation = building(picks.riserBuildingId).stationId;
    expect(riserStation).not.toBe(picks.pumpStationId);
    expect(building(apt(picks.airLockApartmentId).buildingId).stationId).not.toBe(picks.pumpStationId);
    expect(apt(picks.airLockApartmentId).buildingId).not.toBe(picks.riserBuildingId);
    expect(building(apt(picks.windowApartmentId).buildingId).stationId).not.toBe(picks.pumpStationId);
  });

  it('chooses riser entrances that make a building group but not a station group (grouping shares)', () => {
    const monitored = [...sensed];
    const inBuilding = monitored.filter((a) => apt(a).buildingId === picks.riserBuildingId);
    const riserApts = inBuilding.filter((a) => picks.riserEntrances.includes(apt(a).entrance));
    const onStation = monitored.filter((a) => building(apt(a).buildingId).stationId === building(picks.riserBuildingId).stationId);
    expect(riserApts.length / inBuilding.length).toBeGreaterThan(policy.grouping.buildingColdShare);
    expect(riserApts.length / onStation.length).toBeLessThan(policy.grouping.stationColdShare);
  });

  it('repeats the same faults every day, shifted by the cycle', () => {
    const anchor = Date.UTC(2026, 11, 1, 0, 0);
    const day0 = demoDayFaults(picks, anchor, 0);
    const day1 = demoDayFaults(picks, anchor, 1);
    expect(day1.map((f) => f.kind)).toEqual(day0.map((f) => f.kind));
    day1.forEach((f, i) => expect(Number(f.at) - Number(day0[i]!.at)).toBe(DEMO_DAY.cycleMs));
    expect(day0.map((f) => f.kind).sort()).toEqual(
      ['air_lock', 'pump_failure', 'sensor_offline', 'window_open', ...picks.riserEntrances.map(() => 'riser_imbalance')].sort(),
    );
    // Every fault but the short window has begun early enough to be seen by the end of the pre-roll.
    for (const f of day0) if (f.kind !== 'window_open') expect(Number(f.at) - anchor).toBeLessThanOrEqual(HOUR_MS);
    expect(demoFaultsThrough(picks, anchor, anchor + 2.5 * DEMO_DAY.cycleMs)).toMatchObject({ lastCycle: 2 });
  });

  it('announces the planned outage with N9 notice, at the local morning hour', () => {
    const announcedAt = Date.UTC(2026, 11, 1, 5, 30); // 13:30 Beijing
    const o = demoDayOutage(picks, announcedAt, policy);
    expect(o.startsAt - announcedAt).toBeGreaterThanOrEqual(policy.service.outageNoticeHours * HOUR_MS); // N9
    expect(o.startsAt - announcedAt).toBeLessThan((policy.service.outageNoticeHours + 24) * HOUR_MS);
    expect(new Date(o.startsAt + policy.utcOffsetMinutes * MINUTE_MS).getUTCHours()).toBe(DEMO_DAY.outage.localHour);
    expect(o).toMatchObject({ scopeType: 'building', scopeId: picks.outageBuildingId });
  });
});

describe('demo clock', () => {
  it('is driven from the past, never backwards, and reads the wall clock once it catches up', () => {
    let wall = 1_000_000;
    const c = new DemoClock(400_000, () => wall);
    expect(c.driven).toBe(true);
    c.set(700_000);
    expect(c.now()).toBe(700_000);
    expect(() => c.set(600_000)).toThrow(RangeError);
    c.set(1_200_000); // past the wall: released
    expect(c.driven).toBe(false);
    expect(c.now()).toBe(1_000_000);
    wall = 1_500_000;
    expect(c.now()).toBe(1_500_000);
    wall = 1_400_000; // wall clock stepped back: the demo clock does not
    expect(c.now()).toBe(1_500_000);
  });

  it('a fresh demo day is anchored one pre-roll back; an existing data dir starts its day now', () => {
    const now = Date.UTC(2026, 11, 1, 12);
    expect(loadDemoDayState('/nonexistent/demo-day.json', true, now).anchorTs).toBe(now - DEMO_DAY.prerollMs);
    expect(loadDemoDayState('/nonexistent/demo-day.json', false, now).anchorTs).toBe(now);
  });
});
