/**
 * The demo city's heating day: which faults happen where and when, so that a newcomer who
 * runs `npm start` sees the platform do its job — a station whose pump stops, a building
 * whose riser is out of balance, an air-locked apartment (a demo resident's), an open window
 * that must not become an order, a sensor that dies, and a planned outage announced under N9.
 *
 * Targets are picked from the city by rule (most monitored apartments, warm neighbours), not
 * by hard-coded ids, so a different demo city still gets a sensible day. The day repeats
 * every `cycleMs` from its anchor (the start of the first demo day).
 *
 * The durations the rules need are the policy's (N2 cold after `coldOpenAfterMin`, station
 * faults after `faultConfirmMin`, …); nothing here shortens them. The offsets are chosen so
 * that by the end of the pre-rolled morning (demo.runner.ts) each fault has matured.
 */
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../domain/clock.ts';
import type { OutageBody } from '../domain/api.schema.ts';
import type { HeatingPolicy } from '../domain/policy.ts';
import type { City } from '../domain/topology.schema.ts';
import type { FaultSpec } from './thermal.model.ts';

export interface DemoPicks {
  /** Its circulation pump fails: a station fault, then its apartments cold (cause station). */
  readonly pumpStationId: string;
  /**
   * Risers of these entrances are out of balance: their apartments go cold together, more
   * than `grouping.buildingColdShare` of the building's monitored ones, so the rules group
   * them into one building incident (cause building, §E.3).
   */
  readonly riserBuildingId: string;
  readonly riserEntrances: readonly number[];
  /** Air-locked radiators: the one cold apartment among warm neighbours (cause in_home); resident1 lives here. */
  readonly airLockApartmentId: string;
  /** A window opened for a while: the rules recognise the pattern and open nothing; resident2 lives here. */
  readonly windowApartmentId: string;
  readonly windowRoomId: string;
  /** A sensor that dies (no backlog): a sensor_offline incident, not an order. */
  readonly deadSensorId: string;
  /** A warm apartment with sensors in the building of the planned outage; resident3 lives here. */
  readonly warmApartmentId: string;
  /** Where the planned outage is announced. */
  readonly outageBuildingId: string;
  /** Demo residents' apartments, resident1 first: every one has room sensors. */
  readonly residentApartments: readonly string[];
}

/** Offsets within a demo day, from the day's anchor. */
export const DEMO_DAY = Object.freeze({
  cycleMs: DAY_MS,
  /** The pre-roll of a fresh demo: the morning the platform has already lived when it opens. */
  prerollMs: 6 * HOUR_MS,
  riser: { atMs: 5 * MINUTE_MS, durationMin: 20 * 60, factor: 0.2 },
  pump: { atMs: 30 * MINUTE_MS, durationMin: 8 * 60 },
  airLock: { atMs: 45 * MINUTE_MS, durationMin: 22 * 60 },
  deadSensor: { atMs: 60 * MINUTE_MS, durationMin: 20 * 60 },
  /** The window opens an hour before the pre-roll ends: recent enough to be seen in the day chart. */
  window: { atMs: 5 * HOUR_MS, durationMin: 20 },
  /** Planned outage: announced at the start of the day for the first local 08:00 that N9's notice allows. */
  outage: { localHour: 8, durationHours: 6 },
});

/** Pick the day's targets from the city. Throws when the city cannot host a demo day (too few sensors). */
export function pickDemoTargets(city: City, policy: HeatingPolicy): DemoPicks {
  const roomApt = new Map(city.rooms.map((r) => [r.id, r.apartmentId]));
  const aptSensors = new Map<string, string[]>();
  for (const d of city.devices) {
    if (d.kind !== 'room_sensor' || !d.roomId || !d.enabled) continue;
    const apt = roomApt.get(d.roomId);
    if (apt) aptSensors.set(apt, [...(aptSensors.get(apt) ?? []), d.id]);
  }
  const aptById = new Map(city.apartments.map((a) => [a.id, a]));
  const buildingById = new Map(city.buildings.map((b) => [b.id, b]));
  const monitored = [...aptSensors.keys()].sort();
  const stationOf = (b: string) => buildingById.get(b)!.stationId;
  const aptsOf = (b: string, entrance?: number) =>
    monitored.filter((a) => aptById.get(a)!.buildingId === b && (entrance === undefined || aptById.get(a)!.entrance === entrance));
  const perStation = (st: string) => monitored.filter((a) => stationOf(aptById.get(a)!.buildingId) === st).length;
  const byCount = <K>(keys: Iterable<K>, count: (k: K) => number): K[] =>
    [...keys].sort((a, b) => count(b) - count(a) || String(a).localeCompare(String(b)));

  const pumpStationId = byCount(
    city.stations.map((s) => s.id),
    perStation,
  )[0];
  if (!pumpStationId) throw new Error('demo day needs a station');

  // Riser: entrances whose apartments make a building group (share ≥ buildingColdShare) but
  // not a station group (share < stationColdShare); the widest margin on both sides wins.
  const g = policy.grouping;
  let riser: { building: string; entrances: number[]; margin: number } | undefined;
  for (const b of city.buildings) {
    if (b.stationId === pumpStationId || aptsOf(b.id).length < g.minMonitored) continue;
    const entrances = byCount(new Set(aptsOf(b.id).map((a) => aptById.get(a)!.entrance)), (e) => aptsOf(b.id, e).length);
    let n = 0;
    for (let k = 0; k < entrances.length; k++) {
      n += aptsOf(b.id, entrances[k]).length;
      const margin = Math.min(n / aptsOf(b.id).length - g.buildingColdShare, g.stationColdShare - n / perStation(b.stationId));
      if (n >= g.minMonitored && margin > 0 && (!riser || margin > riser.margin))
        riser = { building: b.id, entrances: entrances.slice(0, k + 1), margin };
    }
  }
  if (!riser) throw new Error('demo day needs a building whose riser can go cold without the whole station');
  const riserStation = stationOf(riser.building);

  // The other targets: buildings with two-sensor apartments, most monitored first.
  const twoSensor = (b: string) => aptsOf(b).filter((a) => (aptSensors.get(a)?.length ?? 0) >= 2);
  const rest = byCount(
    city.buildings.map((b) => b.id).filter((b) => b !== riser.building && stationOf(b) !== pumpStationId && twoSensor(b).length > 0),
    (b) => aptsOf(b).length,
  );
  // Air lock: among warm neighbours, on a station the riser does not already bring near its group share.
  const airBuilding = rest.find((b) => stationOf(b) !== riserStation && aptsOf(b).length >= g.minMonitored) ?? rest[0];
  const windowBuilding = rest.find((b) => b !== airBuilding);
  const warmBuilding = rest.find((b) => b !== airBuilding && b !== windowBuilding) ?? windowBuilding;
  if (!airBuilding || !windowBuilding || !warmBuilding) throw new Error('demo day needs three monitored buildings off the pump station');
  const airLockApartmentId = twoSensor(airBuilding)[0]!;
  const windowApartmentId = twoSensor(windowBuilding)[0]!;
  const warmApartmentId = twoSensor(warmBuilding).find((a) => a !== windowApartmentId);
  const windowRoomId = city.rooms.find(
    (r) => r.apartmentId === windowApartmentId && r.type === 'living' && aptSensors.get(windowApartmentId)!.includes(`rs-${r.id}`),
  )?.id;
  if (!warmApartmentId || !windowRoomId) throw new Error('demo day needs apartments with living-room and bedroom sensors');

  // The dead sensor sits where no demo resident lives and nothing else goes wrong.
  const taken = new Set([airLockApartmentId, windowApartmentId, warmApartmentId]);
  const deadApt = monitored.find((a) => {
    const b = aptById.get(a)!.buildingId;
    return !taken.has(a) && stationOf(b) !== pumpStationId && b !== riser.building && b !== airBuilding;
  });
  if (!deadApt) throw new Error('demo day needs a spare monitored apartment');

  return {
    pumpStationId,
    riserBuildingId: riser.building,
    riserEntrances: riser.entrances,
    airLockApartmentId,
    windowApartmentId,
    windowRoomId,
    deadSensorId: aptSensors.get(deadApt)![0]!,
    warmApartmentId,
    outageBuildingId: warmBuilding,
    residentApartments: [airLockApartmentId, windowApartmentId, warmApartmentId],
  };
}

/** The faults of demo day `cycle` (0 = the first) for a day anchored at `anchorTs`. */
export function demoDayFaults(picks: DemoPicks, anchorTs: number, cycle: number): FaultSpec[] {
  const d = DEMO_DAY;
  const t0 = anchorTs + cycle * d.cycleMs;
  return [
    ...picks.riserEntrances.map((entrance): FaultSpec => ({
      kind: 'riser_imbalance',
      buildingId: picks.riserBuildingId,
      entrance,
      factor: d.riser.factor,
      at: t0 + d.riser.atMs,
      durationMin: d.riser.durationMin,
    })),
    { kind: 'pump_failure', stationId: picks.pumpStationId, at: t0 + d.pump.atMs, durationMin: d.pump.durationMin },
    { kind: 'air_lock', apartmentId: picks.airLockApartmentId, at: t0 + d.airLock.atMs, durationMin: d.airLock.durationMin },
    {
      kind: 'sensor_offline',
      deviceId: picks.deadSensorId,
      backlog: false,
      at: t0 + d.deadSensor.atMs,
      durationMin: d.deadSensor.durationMin,
    },
    { kind: 'window_open', roomId: picks.windowRoomId, at: t0 + d.window.atMs, durationMin: d.window.durationMin },
  ];
}

/**
 * The planned outage announced on demo day `cycle`: N9 wants `outageNoticeHours` of notice,
 * so it starts at the first local `localHour` that far after the announcement.
 */
export function demoDayOutage(picks: DemoPicks, announcedAt: number, policy: HeatingPolicy): OutageBody {
  const offset = policy.utcOffsetMinutes * MINUTE_MS;
  const earliest = announcedAt + policy.service.outageNoticeHours * HOUR_MS; // N9
  const localMidnight = Math.floor((earliest + offset) / DAY_MS) * DAY_MS - offset;
  let startsAt = localMidnight + DEMO_DAY.outage.localHour * HOUR_MS;
  if (startsAt < earliest) startsAt += DAY_MS;
  return {
    scopeType: 'building',
    scopeId: picks.outageBuildingId,
    startsAt,
    endsAt: startsAt + DEMO_DAY.outage.durationHours * HOUR_MS,
    reason: '二次管网阀门检修（演示）', // a dispatcher's text, in the company's language
  };
}
