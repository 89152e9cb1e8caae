/**
 * City generator: a plausible district-heating company, deterministic from a seed, from a
 * test city (a few stations) to a real one (5,000 stations, 2 million apartments;
 * heating-norms §F: ~470 households per station).
 *
 * heat sources → primary branches → 供热所 (offices) → stations → buildings → entrances →
 * floors → apartments → rooms; room sensors placed like real deployments (top and ground
 * floors and end units first, a share of the rest; living room + master bedroom), one meter per
 * station, some buildings' sensors behind a gateway. Secrets are derived from the seed
 * (HMAC) so a restarted demo fleet can reconnect with the same credentials.
 */
import { createHmac } from 'node:crypto';
import type { Apartment, Building, City, Device, HeatSource, Office, Room, Station } from '../domain/topology.schema.ts';
import { defaultPolicy } from '../domain/policy.ts';
import { Rng } from './random.ts';

export interface CityOptions {
  readonly seed: number;
  readonly stations: number;
  /** Fixed number of buildings per station; default: add buildings until apartmentsPerStation is reached. */
  readonly buildingsPerStation?: number;
  /** Target households per station (heating-norms §F: ~470 in Beijing). Default 400. */
  readonly apartmentsPerStation?: number;
  /** Largest building type allowed (floors); small test cities use walk-ups only. Default 26. */
  readonly maxFloors?: number;
  /** Policy city (domain/policy.ts cityOverrides key). Default 'beijing'. */
  readonly policyCity?: string;
  /** Share of apartments with room sensors (Weifang: 4 %). Default 0.1. */
  readonly sensorShare?: number;
  /** Share of buildings whose sensors report through a gateway. Default 0.2. */
  readonly gatewayShare?: number;
  /** Reporting intervals sensors are drawn from, minutes (heating-norms §F: 10–60). */
  readonly sensorIntervalsMin?: readonly number[];
  /** Station meter interval, minutes. Default 5 (well under the silent-station time-out). */
  readonly meterIntervalMin?: number;
  readonly name?: string;
  /** City centre; default Beijing (39.9 N, 116.4 E). */
  readonly center?: { readonly lat: number; readonly lon: number };
}

export interface GeneratedCity {
  readonly city: City;
  /** deviceId → plain secret (the registry stores only its hash). */
  readonly secrets: Map<string, string>;
}

const DISTRICTS = ['朝阳', '海淀', '东城', '西城', '丰台', '石景山', '通州', '昌平', '大兴', '顺义', '房山', '门头沟'];
const STREETS = [
  '建国路',
  '安立路',
  '学院路',
  '劲松路',
  '方庄路',
  '望京街',
  '西直门外大街',
  '广渠路',
  '左家庄街',
  '北苑路',
  '双井街',
  '和平里街',
  '芍药居路',
  '垡头路',
  '紫竹院路',
  '太阳宫路',
];
/** Building types: floors, entrances and units per floor; walk-ups and towers of a Chinese city. */
const BUILDING_TYPES = [
  { floors: 6, entrances: [2, 4], units: [2, 3], weight: 0.4 },
  { floors: 11, entrances: [1, 3], units: [2, 3], weight: 0.2 },
  { floors: 18, entrances: [1, 2], units: [2, 4], weight: 0.25 },
  { floors: 26, entrances: [1, 2], units: [2, 4], weight: 0.15 },
] as const;
const DEFAULT_INTERVALS_MIN = [10, 10, 15, 20, 30, 60];

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

/** Deterministic device secret: HMAC-SHA256(seed, deviceId), 16 bytes base64url. */
export function deviceSecret(seed: number, deviceId: string): string {
  return createHmac('sha256', `heatwatch-sim:${seed}`).update(deviceId).digest().subarray(0, 16).toString('base64url');
}

export function generateCity(opts: CityOptions): GeneratedCity {
  const seed = opts.seed >>> 0;
  const rng = new Rng(seed);
  const nStations = Math.max(1, Math.floor(opts.stations));
  const aptsPerStation = opts.apartmentsPerStation ?? 400;
  const sensorShare = opts.sensorShare ?? 0.1;
  const gatewayShare = opts.gatewayShare ?? 0.2;
  const intervals = opts.sensorIntervalsMin?.length ? opts.sensorIntervalsMin : DEFAULT_INTERVALS_MIN;
  const meterInterval = opts.meterIntervalMin ?? 5;
  const maxFloors = opts.maxFloors ?? 26;
  const center = opts.center ?? { lat: 39.9, lon: 116.4 };
  const types = BUILDING_TYPES.filter((t) => t.floors <= maxFloors);
  const buildingTypes = types.length ? types : [BUILDING_TYPES[0]];
  const typeWeight = buildingTypes.reduce((s, t) => s + t.weight, 0);
  const sw = Math.max(4, String(nStations).length);

  // Heat sources around the centre; each feeds a sector of the city over a few primary branches.
  const nSources = Math.min(12, Math.max(1, Math.round(nStations / 400)));
  const radius = Math.min(0.35, 0.01 + 0.005 * Math.sqrt(nStations)); // degrees
  const sources: HeatSource[] = [];
  for (let i = 0; i < nSources; i++) {
    const ang = ((i + 0.5) / nSources) * 2 * Math.PI;
    sources.push({
      id: `src-${pad(i + 1, 2)}`,
      name: `${DISTRICTS[i % DISTRICTS.length]}热电厂`,
      location: { lat: round6(center.lat + radius * 0.8 * Math.sin(ang)), lon: round6(center.lon + radius * 1.1 * Math.cos(ang)) },
    });
  }
  const branchesPerSource = Math.max(1, Math.min(40, Math.round(nStations / nSources / 15)));

  // Stations: positions in a disk, sorted by angle so offices own contiguous grids.
  const pos: { ang: number; r: number }[] = [];
  for (let i = 0; i < nStations; i++) pos.push({ ang: rng.next() * 2 * Math.PI, r: Math.sqrt(rng.next()) });
  pos.sort((a, b) => a.ang - b.ang);
  const stationsPerOffice = 25;
  const nOffices = Math.ceil(nStations / stationsPerOffice);
  const offices: Office[] = [];
  for (let i = 0; i < nOffices; i++) {
    offices.push({
      id: `off-${pad(i + 1, 3)}`,
      name: `${DISTRICTS[i % DISTRICTS.length]}第${i + 1}供热所`,
      phone: `010-6${pad(rng.int(0, 9999999), 7)}`,
    });
  }

  const stations: Station[] = [];
  const buildings: Building[] = [];
  const apartments: Apartment[] = [];
  const rooms: Room[] = [];
  const devices: Device[] = [];
  const secrets = new Map<string, string>();
  const hmacKey = `heatwatch-sim:${seed}`;
  const addDevice = (d: Device): void => {
    devices.push(d);
    secrets.set(d.id, createHmac('sha256', hmacKey).update(d.id).digest().subarray(0, 16).toString('base64url'));
  };

  for (let s = 0; s < nStations; s++) {
    const p = pos[s]!;
    const srcIdx = Math.min(nSources - 1, Math.floor((p.ang / (2 * Math.PI)) * nSources));
    const branchIdx = Math.min(branchesPerSource - 1, Math.floor(p.r * branchesPerSource));
    const stationId = `st-${pad(s + 1, sw)}`;
    const loc = {
      lat: round6(center.lat + radius * 0.8 * p.r * Math.sin(p.ang)),
      lon: round6(center.lon + radius * 1.1 * p.r * Math.cos(p.ang)),
    };
    const district = DISTRICTS[Math.floor((p.ang / (2 * Math.PI)) * DISTRICTS.length) % DISTRICTS.length]!;
    stations.push({
      id: stationId,
      name: `${district}${s + 1}号换热站`,
      officeId: offices[Math.floor(s / stationsPerOffice)]!.id,
      sourceId: sources[srcIdx]!.id,
      branchId: `${sources[srcIdx]!.id}-br${pad(branchIdx + 1, 2)}`,
      location: loc,
      system: rng.chance(0.15) ? 'floor' : 'radiator',
    });
    addDevice({ id: `m-${stationId}`, kind: 'station_meter', stationId, intervalMin: meterInterval, enabled: true });

    const street = STREETS[rng.int(0, STREETS.length - 1)]!;
    const courtyard = rng.int(1, 300);
    let aptCount = 0;
    for (let b = 0; opts.buildingsPerStation !== undefined ? b < opts.buildingsPerStation : aptCount < aptsPerStation; b++) {
      let t = buildingTypes[0]!;
      let pick = rng.next() * typeWeight;
      for (const bt of buildingTypes) {
        pick -= bt.weight;
        if (pick < 0) {
          t = bt;
          break;
        }
      }
      const floors = t.floors;
      const entrances = rng.int(t.entrances[0], t.entrances[1]);
      const units = rng.int(t.units[0], t.units[1]);
      const buildingId = `b${pad(s + 1, sw)}-${pad(b + 1, 2)}`;
      buildings.push({
        id: buildingId,
        name: `${b + 1}号楼`,
        stationId,
        address: `北京市${district}区${street}${courtyard}号院${b + 1}号楼`,
        location: { lat: round6(loc.lat + rng.range(-0.003, 0.003)), lon: round6(loc.lon + rng.range(-0.004, 0.004)) },
        floors,
        entrances,
        unitsPerFloor: units,
      });
      const viaGateway = rng.chance(gatewayShare);
      const gatewayId = `gw-${buildingId}`;
      let gatewayUsed = false;
      // Real deployments put sensors where complaints come from: top and ground floors and
      // end units (exposed walls) first, then a share of the rest (heating-norms §F).
      const n = floors * entrances * units;
      let weightSum = 0;
      for (let e = 1; e <= entrances; e++)
        for (let f = 1; f <= floors; f++) for (let u = 1; u <= units; u++) weightSum += placementWeight(f, floors, u, units);
      const scale = (sensorShare * n) / weightSum;
      const baseArea = rng.range(55, 120);
      for (let e = 1; e <= entrances; e++) {
        for (let f = 1; f <= floors; f++) {
          for (let u = 1; u <= units; u++) {
            const aptId = `${buildingId}-${e}-${pad(f, 2)}-${pad(u, 2)}`;
            const end = u === 1 || u === units;
            const areaM2 = round1(baseArea * (end ? 1.1 : 1) * rng.range(0.85, 1.15));
            apartments.push({ id: aptId, buildingId, entrance: e, floor: f, unit: u, number: `${e}-${f}${pad(u, 2)}`, areaM2 });
            const bedrooms = areaM2 < 65 ? 1 : areaM2 < 100 ? 2 : 3;
            const living = round1(areaM2 * 0.3);
            const master = round1(areaM2 * 0.2);
            const livingId = `${aptId}-r1`;
            const masterId = `${aptId}-r2`;
            rooms.push({ id: livingId, apartmentId: aptId, name: '客厅', type: 'living', areaM2: living });
            rooms.push({ id: masterId, apartmentId: aptId, name: '主卧', type: 'bedroom', areaM2: master });
            let r = 3;
            for (let k = 2; k <= bedrooms; k++)
              rooms.push({
                id: `${aptId}-r${r++}`,
                apartmentId: aptId,
                name: `次卧${k - 1}`,
                type: 'bedroom',
                areaM2: round1(areaM2 * 0.13),
              });
            rooms.push({ id: `${aptId}-r${r++}`, apartmentId: aptId, name: '厨房', type: 'kitchen', areaM2: round1(areaM2 * 0.08) });
            rooms.push({ id: `${aptId}-r${r}`, apartmentId: aptId, name: '卫生间', type: 'bathroom', areaM2: round1(areaM2 * 0.06) });
            aptCount++;
            if (rng.next() < scale * placementWeight(f, floors, u, units)) {
              if (viaGateway && !gatewayUsed) {
                addDevice({ id: gatewayId, kind: 'gateway', intervalMin: defaultPolicy.sensors.defaultIntervalMin, enabled: true });
                gatewayUsed = true;
              }
              for (const roomId of [livingId, masterId]) {
                const d: Device = {
                  id: `rs-${roomId}`,
                  kind: 'room_sensor',
                  roomId,
                  intervalMin: intervals[rng.int(0, intervals.length - 1)]!,
                  enabled: true,
                };
                addDevice(viaGateway ? { ...d, gatewayId } : d);
              }
            }
          }
        }
      }
    }
  }

  const city: City = {
    seed,
    name: opts.name ?? `sim-${seed}`,
    policyCity: opts.policyCity ?? 'beijing',
    sources,
    offices,
    stations,
    buildings,
    apartments,
    rooms,
    devices,
  };
  return { city, secrets };
}

/** Relative chance an apartment gets a sensor: exposed positions first. */
function placementWeight(floor: number, floors: number, unit: number, units: number): number {
  const edgeFloor = floor === 1 || floor === floors;
  const endUnit = unit === 1 || unit === units;
  return edgeFloor && endUnit ? 6 : edgeFloor ? 4 : endUnit ? 2 : 1;
}

/** The demo city of `npm start`: 4 stations, ~300 apartments, ~a third with sensors. */
export function demoCity(seed = 20261115): GeneratedCity {
  return generateCity({
    seed,
    stations: 4,
    apartmentsPerStation: 55,
    maxFloors: 6,
    sensorShare: 0.35,
    gatewayShare: 0.25,
    name: '演示城市',
  });
}

const round1 = (x: number): number => Math.round(x * 10) / 10;
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;
