/**
 * The city's topology flattened into integer indices for the rules engine's hot path: a
 * reading resolves its device to an index once, and everything after is array access.
 * Built once per engine; order follows the City arrays, so iteration is deterministic.
 */
import { MINUTE_MS } from '../clock.ts';
import type { HeatingPolicy } from '../policy.ts';
import type { City } from '../topology.schema.ts';

export interface TopologyIndex {
  /** room_sensor id → sensor index. */
  readonly sensorOf: Map<string, number>;
  /** station_meter id → meter index. */
  readonly meterOf: Map<string, number>;

  readonly sensorIds: string[];
  readonly sensorRoom: Int32Array;
  readonly sensorApt: Int32Array;
  /** 1 when the sensor's room counts towards the apartment value (N2, N32). */
  readonly sensorCounted: Uint8Array;
  readonly sensorOfflineMs: Float64Array;

  readonly roomIds: string[];
  readonly roomArea: Float64Array;
  readonly roomSensors: number[][];

  readonly aptIds: string[];
  readonly aptOf: Map<string, number>;
  readonly aptBuilding: Int32Array;
  readonly aptStation: Int32Array;
  /** N32: the apartment's counted rooms that have at least one sensor. */
  readonly aptMeasuredRooms: number[][];
  /** Counted rooms (bedrooms, living room) whatever their sensors. */
  readonly aptCountedRooms: Int32Array;
  /** heating-norms §E.4: same building, entrance and unit, one floor up; -1 when none. */
  readonly aptAbove: Int32Array;
  /** Longest offline window of the apartment's counted sensors, ms (caps compliance gaps). */
  readonly aptStaleMs: Float64Array;

  readonly buildingIds: string[];
  readonly buildingStation: Int32Array;
  readonly buildingApts: number[][];
  /** Apartments with at least one sensor in a counted room. */
  readonly buildingMonitored: Int32Array;

  readonly stationIds: string[];
  readonly stationSource: Int32Array;
  readonly stationBranch: string[];
  /** 1 for floor-heating stations (their own heating curve). */
  readonly stationFloor: Uint8Array;
  readonly stationApts: number[][];
  readonly stationBuildings: number[][];
  readonly stationMonitored: Int32Array;
  readonly stationHasMeter: Uint8Array;

  readonly sourceIds: string[];
  readonly sourceStations: number[][];

  readonly meterIds: string[];
  readonly meterStation: Int32Array;
}

export function buildTopologyIndex(city: City, policy: HeatingPolicy): TopologyIndex {
  const counted = new Set<string>(policy.comfort.countedRoomTypes); // N2, N32
  const sourceIds = city.sources.map((s) => s.id);
  const sourceIdx = new Map(sourceIds.map((id, i) => [id, i]));
  // Stations may name a source the city does not list; give it a slot so grouping still works.
  for (const st of city.stations)
    if (!sourceIdx.has(st.sourceId)) {
      sourceIdx.set(st.sourceId, sourceIds.length);
      sourceIds.push(st.sourceId);
    }
  const sourceStations: number[][] = sourceIds.map(() => []);

  const stationIds = city.stations.map((s) => s.id);
  const stationIdx = new Map(stationIds.map((id, i) => [id, i]));
  const stationSource = new Int32Array(stationIds.length);
  const stationBranch: string[] = [];
  const stationFloor = new Uint8Array(stationIds.length);
  city.stations.forEach((s, i) => {
    const src = sourceIdx.get(s.sourceId)!;
    stationSource[i] = src;
    stationBranch.push(s.branchId);
    stationFloor[i] = s.system === 'floor' ? 1 : 0;
    sourceStations[src]!.push(i);
  });

  const buildingIds = city.buildings.map((b) => b.id);
  const buildingIdx = new Map(buildingIds.map((id, i) => [id, i]));
  const buildingStation = new Int32Array(buildingIds.length).fill(-1);
  const stationBuildings: number[][] = stationIds.map(() => []);
  city.buildings.forEach((b, i) => {
    const st = stationIdx.get(b.stationId) ?? -1;
    buildingStation[i] = st;
    if (st >= 0) stationBuildings[st]!.push(i);
  });

  const nA = city.apartments.length;
  const aptIds = city.apartments.map((a) => a.id);
  const aptOf = new Map(aptIds.map((id, i) => [id, i]));
  const aptBuilding = new Int32Array(nA).fill(-1);
  const aptStation = new Int32Array(nA).fill(-1);
  const aptAbove = new Int32Array(nA).fill(-1);
  const buildingApts: number[][] = buildingIds.map(() => []);
  const stationApts: number[][] = stationIds.map(() => []);
  const pos = new Map<string, number>();
  const posKey = (b: string, e: number, f: number, u: number) => `${b}|${e}|${f}|${u}`;
  city.apartments.forEach((a, i) => {
    const b = buildingIdx.get(a.buildingId) ?? -1;
    aptBuilding[i] = b;
    if (b >= 0) {
      buildingApts[b]!.push(i);
      const st = buildingStation[b]!;
      aptStation[i] = st;
      if (st >= 0) stationApts[st]!.push(i);
    }
    pos.set(posKey(a.buildingId, a.entrance, a.floor, a.unit), i);
  });
  city.apartments.forEach((a, i) => {
    aptAbove[i] = pos.get(posKey(a.buildingId, a.entrance, a.floor + 1, a.unit)) ?? -1;
  });

  const roomIds = city.rooms.map((r) => r.id);
  const roomIdx = new Map(roomIds.map((id, i) => [id, i]));
  const roomArea = new Float64Array(roomIds.length);
  const roomApt = new Int32Array(roomIds.length).fill(-1);
  const roomCounted = new Uint8Array(roomIds.length);
  const roomSensors: number[][] = roomIds.map(() => []);
  const aptCountedRooms = new Int32Array(nA);
  city.rooms.forEach((r, i) => {
    roomArea[i] = r.areaM2;
    const a = aptOf.get(r.apartmentId) ?? -1;
    roomApt[i] = a;
    if (counted.has(r.type)) {
      roomCounted[i] = 1;
      if (a >= 0) aptCountedRooms[a]!++;
    }
  });

  const sensorOf = new Map<string, number>();
  const meterOf = new Map<string, number>();
  const sensorIds: string[] = [];
  const sensorRoomL: number[] = [];
  const sensorOfflineL: number[] = [];
  const meterIds: string[] = [];
  const meterStationL: number[] = [];
  const stationHasMeter = new Uint8Array(stationIds.length);
  for (const d of city.devices) {
    if (!d.enabled) continue;
    const intervalMin = d.intervalMin > 0 ? d.intervalMin : policy.sensors.defaultIntervalMin;
    if (d.kind === 'room_sensor' && d.roomId !== undefined) {
      const r = roomIdx.get(d.roomId);
      if (r === undefined || roomApt[r]! < 0) continue;
      const si = sensorIds.length;
      sensorOf.set(d.id, si);
      sensorIds.push(d.id);
      sensorRoomL.push(r);
      sensorOfflineL.push(intervalMin * policy.sensors.offlineAfterIntervals * MINUTE_MS);
      roomSensors[r]!.push(si);
    } else if (d.kind === 'station_meter' && d.stationId !== undefined) {
      const st = stationIdx.get(d.stationId);
      if (st === undefined) continue;
      meterOf.set(d.id, meterIds.length);
      meterIds.push(d.id);
      meterStationL.push(st);
      stationHasMeter[st] = 1;
    }
  }
  const nS = sensorIds.length;
  const sensorRoom = Int32Array.from(sensorRoomL);
  const sensorApt = new Int32Array(nS);
  const sensorCounted = new Uint8Array(nS);
  const sensorOfflineMs = Float64Array.from(sensorOfflineL);
  for (let s = 0; s < nS; s++) {
    sensorApt[s] = roomApt[sensorRoom[s]!]!;
    sensorCounted[s] = roomCounted[sensorRoom[s]!]!;
  }

  const aptMeasuredRooms: number[][] = aptIds.map(() => []);
  const aptStaleMs = new Float64Array(nA);
  for (let r = 0; r < roomIds.length; r++) {
    const a = roomApt[r]!;
    if (a < 0 || !roomCounted[r] || roomSensors[r]!.length === 0) continue;
    aptMeasuredRooms[a]!.push(r);
    for (const s of roomSensors[r]!) aptStaleMs[a] = Math.max(aptStaleMs[a]!, sensorOfflineMs[s]!);
  }

  const buildingMonitored = new Int32Array(buildingIds.length);
  const stationMonitored = new Int32Array(stationIds.length);
  for (let a = 0; a < nA; a++) {
    if (aptMeasuredRooms[a]!.length === 0) continue;
    const b = aptBuilding[a]!;
    if (b >= 0) buildingMonitored[b]!++;
    const st = aptStation[a]!;
    if (st >= 0) stationMonitored[st]!++;
  }

  return {
    sensorOf,
    meterOf,
    sensorIds,
    sensorRoom,
    sensorApt,
    sensorCounted,
    sensorOfflineMs,
    roomIds,
    roomArea,
    roomSensors,
    aptIds,
    aptOf,
    aptBuilding,
    aptStation,
    aptMeasuredRooms,
    aptCountedRooms,
    aptAbove,
    aptStaleMs,
    buildingIds,
    buildingStation,
    buildingApts,
    buildingMonitored,
    stationIds,
    stationSource,
    stationBranch,
    stationFloor,
    stationApts,
    stationBuildings,
    stationMonitored,
    stationHasMeter,
    sourceIds,
    sourceStations,
    meterIds,
    meterStation: Int32Array.from(meterStationL),
  };
}
