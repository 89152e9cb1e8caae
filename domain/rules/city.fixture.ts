/**
 * A small, regular synthetic city for rules-engine specs and the bench (no dependency on
 * simulators/). Ids are readable so tests can name subjects:
 *   source `src1`, station `st1`, meter `m-st1`, building `b1`,
 *   apartment `b1-E-FUU` (entrance E, floor F, unit UU, e.g. `b1-1-302`),
 *   rooms `<apt>-living`, `<apt>-bed1`, `<apt>-bed2`, `<apt>-kitchen`, sensor `s-<room>`.
 */
import type { HeatingPolicy, RoomTypeName } from '../policy.ts';
import type { Apartment, Building, City, Device, Room, Station } from '../topology.schema.ts';
import { defaultPolicy } from '../policy.ts';

export interface FixtureRoom {
  readonly suffix: string;
  readonly type: RoomTypeName;
  readonly areaM2: number;
  /** Whether the room has a sensor (N32: partial coverage when some counted rooms do not). */
  readonly sensor: boolean;
}

export interface FixtureOptions {
  readonly sources?: number;
  readonly stationsPerSource?: number;
  readonly buildingsPerStation?: number;
  readonly entrances?: number;
  readonly floors?: number;
  readonly unitsPerFloor?: number;
  readonly rooms?: readonly FixtureRoom[];
  /** Station meters on every station. */
  readonly meters?: boolean;
  readonly sensorIntervalMin?: number;
  readonly meterIntervalMin?: number;
  /** Secondary system of every station (heating curve). */
  readonly system?: 'radiator' | 'floor';
}

export const DEFAULT_ROOMS: readonly FixtureRoom[] = [
  { suffix: 'living', type: 'living', areaM2: 20, sensor: true },
  { suffix: 'bed1', type: 'bedroom', areaM2: 12, sensor: true },
];

export function fixtureCity(o: FixtureOptions = {}): City {
  const nSrc = o.sources ?? 1;
  const nSt = o.stationsPerSource ?? 1;
  const nB = o.buildingsPerStation ?? 1;
  const entrances = o.entrances ?? 1;
  const floors = o.floors ?? 3;
  const units = o.unitsPerFloor ?? 2;
  const roomsDef = o.rooms ?? DEFAULT_ROOMS;
  const interval = o.sensorIntervalMin ?? 10;
  const meters = o.meters ?? true;

  const sources = [];
  const stations: Station[] = [];
  const buildings: Building[] = [];
  const apartments: Apartment[] = [];
  const rooms: Room[] = [];
  const devices: Device[] = [];
  const loc = { lat: 39.9, lon: 116.4 };
  for (let si = 1; si <= nSrc; si++) {
    const srcId = `src${si}`;
    sources.push({ id: srcId, name: `Source ${si}`, location: loc });
    for (let k = 1; k <= nSt; k++) {
      const stId = `st${stations.length + 1}`;
      stations.push({
        id: stId,
        name: stId,
        officeId: 'o1',
        sourceId: srcId,
        branchId: `${srcId}-br${((k - 1) % 2) + 1}`,
        location: loc,
        system: o.system ?? 'radiator',
      });
      if (meters)
        devices.push({ id: `m-${stId}`, kind: 'station_meter', stationId: stId, intervalMin: o.meterIntervalMin ?? 5, enabled: true });
      for (let bi = 0; bi < nB; bi++) {
        const bId = `b${buildings.length + 1}`;
        buildings.push({
          id: bId,
          name: bId,
          stationId: stId,
          address: `${bId} Road`,
          location: loc,
          floors,
          entrances,
          unitsPerFloor: units,
        });
        for (let e = 1; e <= entrances; e++)
          for (let f = 1; f <= floors; f++)
            for (let u = 1; u <= units; u++) {
              const number = `${e}-${f}${String(u).padStart(2, '0')}`;
              const aId = `${bId}-${number}`;
              apartments.push({
                id: aId,
                buildingId: bId,
                entrance: e,
                floor: f,
                unit: u,
                number,
                areaM2: roomsDef.reduce((x, r) => x + r.areaM2, 20),
              });
              for (const r of roomsDef) {
                const rId = `${aId}-${r.suffix}`;
                rooms.push({ id: rId, apartmentId: aId, name: r.suffix, type: r.type, areaM2: r.areaM2 });
                if (r.sensor) devices.push({ id: `s-${rId}`, kind: 'room_sensor', roomId: rId, intervalMin: interval, enabled: true });
              }
            }
      }
    }
  }
  return {
    seed: 1,
    name: 'fixture',
    policyCity: 'beijing',
    sources,
    offices: [{ id: 'o1', name: 'Office 1' }],
    stations,
    buildings,
    apartments,
    rooms,
    devices,
  };
}

/** A policy for specs: national defaults, optionally overridden (e.g. a season extension). */
export const fixturePolicy: HeatingPolicy = defaultPolicy;

/** Local midnight 2026-12-10 in Beijing (UTC+8): a day inside the N1 season. */
export const T0 = Date.parse('2026-12-09T16:00:00Z');
export const MIN = 60_000;

/** Healthy station meter values at outdoor 0 °C (curve setpoint ≈ 51 °C). */
export const HEALTHY_METER: Readonly<Record<string, number>> = Object.freeze({
  primarySupplyTemp: 100,
  primaryReturnTemp: 55,
  secondarySupplyTemp: 53,
  secondaryReturnTemp: 42,
  secondarySupplyPressure: 0.45,
  secondaryReturnPressure: 0.3,
  makeupFlow: 0.2,
  pumpHz: 40,
  valvePct: 60,
  outdoorTemp: 0,
});

export interface TickFeed {
  /** Room temperature for a sensor at minute m since T0 (undefined = the sensor sends nothing). */
  readonly room?: (sensorId: string, m: number) => number | undefined;
  /** Meter fields for a station at minute m (undefined = nothing). */
  readonly meter?: (stationId: string, m: number) => Record<string, number> | undefined;
}

/** Feeds a fixture city tick by tick on a driven clock (event time), collecting every event. */
export class Scenario {
  readonly events: import('../incident.schema.ts').IncidentEvent[] = [];
  constructor(
    public engine: import('./engine.ts').RulesEngine,
    readonly city: City,
  ) {}

  /** Ticks from minute `from` to `to` inclusive every `step` minutes: meters first, then sensors, then advanceTo. */
  run(from: number, to: number, step: number, feed: TickFeed, t0 = T0): this {
    const sensors = this.city.devices.filter((d) => d.kind === 'room_sensor');
    const meters = this.city.devices.filter((d) => d.kind === 'station_meter');
    for (let m = from; m <= to; m += step) {
      const ts = t0 + m * MIN;
      if (feed.meter)
        for (const d of meters) {
          const f = feed.meter(d.stationId!, m);
          if (f) this.events.push(...this.engine.ingest({ deviceId: d.id, kind: 'station_meter', ts, fields: f, stationId: d.stationId }));
        }
      if (feed.room)
        for (const d of sensors) {
          const temp = feed.room(d.id, m);
          if (temp !== undefined)
            this.events.push(
              ...this.engine.ingest({ deviceId: d.id, kind: 'room_sensor', ts, fields: { temp, bat: 3.0 }, roomId: d.roomId }),
            );
        }
      this.events.push(...this.engine.advanceTo(ts));
    }
    return this;
  }

  send(deviceId: string, m: number, fields: Record<string, number>, t0 = T0): this {
    const kind = deviceId.startsWith('m-') ? 'station_meter' : 'room_sensor';
    this.events.push(...this.engine.ingest({ deviceId, kind, ts: t0 + m * MIN, fields }));
    return this;
  }

  advance(m: number, t0 = T0): this {
    this.events.push(...this.engine.advanceTo(t0 + m * MIN));
    return this;
  }

  /** Compact view of events for exact assertions. */
  summary(): string[] {
    return this.events.map(
      (e) =>
        `${e.type} ${e.incident.kind} ${e.incident.subjectId} cause=${e.incident.cause} start=${(e.incident.startTs - T0) / MIN}` +
        (e.incident.endTs !== undefined ? ` end=${(e.incident.endTs - T0) / MIN}` : '') +
        ` at=${(e.at - T0) / MIN}`,
    );
  }
}
