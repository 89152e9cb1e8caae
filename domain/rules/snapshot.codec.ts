/**
 * The one codec of the rules snapshot (snapshot.schema.ts): `encodeSnapshot` writes the
 * engine state as version 2, `decodeSnapshot` checks whatever was read from disk against its
 * version's schema and column lengths and migrates version 1, and `loadSnapshot` puts a
 * decoded snapshot into a fresh engine state, matching every row by id (so it survives a
 * topology that gained or lost devices). A snapshot that does not fit is refused with an
 * error naming what is wrong — never read shifted.
 */
import { Compile } from 'typebox/compile';
import { cloneIncident } from './incident.registry.ts';
import { apartmentValue } from './sensor.rule.ts';
import { NFAULT, RING, SENSOR_FLAGS, type RuleContext } from './engine.state.ts';
import {
  EngineSnapshotSchema,
  EngineSnapshotV1Schema,
  SNAPSHOT_VERSION,
  type EngineSnapshot,
  type EngineSnapshotV1,
} from './snapshot.schema.ts';
import { FIELD_COUNT, STATION_FAULTS } from './station.rule.ts';
import { STATION_FIELDS } from '../telemetry.schema.ts';

type Num = number | null;
const toJson = (a: ArrayLike<number>): Num[] => Array.from(a, (x) => (Number.isNaN(x) ? null : x));
const num = (x: Num | undefined): number => (x === null || x === undefined ? Number.NaN : x);
const nul = (x: number): Num => (Number.isNaN(x) ? null : x);

// Version 1 stored these positionally; frozen here so a later change of STATION_FIELDS or
// STATION_FAULTS cannot change how a version-1 file is read.
const V1_STATION_FIELDS = [
  'primarySupplyTemp',
  'primaryReturnTemp',
  'secondarySupplyTemp',
  'secondaryReturnTemp',
  'primarySupplyPressure',
  'primaryReturnPressure',
  'secondarySupplyPressure',
  'secondaryReturnPressure',
  'primaryFlow',
  'secondaryFlow',
  'makeupFlow',
  'heatPower',
  'heatTotal',
  'pumpHz',
  'valvePct',
  'outdoorTemp',
] as const;
const V1_FAULTS = ['pump_stopped', 'below_curve', 'low_primary_dt', 'leak'] as const;
const V1_FLAGS = { offline: 1, lowBattery: 2, stuck: 4, implausible: 8, window: 16, seen: 32 } as const;
const V1_RING = 8;

/**
 * Recent readings kept as a ring of `width` slots per row, read out oldest first (the slot
 * after the write position is the oldest); a slot without a time (NaN or null) is empty.
 */
function readRings(
  rows: number,
  width: number,
  pos: ArrayLike<number>,
  ts: ArrayLike<Num | undefined>,
  temp: ArrayLike<Num | undefined>,
): { recentTs: number[][]; recentTemp: number[][] } {
  const recentTs: number[][] = [];
  const recentTemp: number[][] = [];
  for (let i = 0; i < rows; i++) {
    const t: number[] = [];
    const v: number[] = [];
    for (let j = 0; j < width; j++) {
      const k = i * width + ((pos[i]! + j) % width);
      const at = num(ts[k]);
      if (Number.isNaN(at)) continue;
      t.push(at);
      v.push(num(temp[k]));
    }
    recentTs.push(t);
    recentTemp.push(v);
  }
  return { recentTs, recentTemp };
}

const checkV2 = Compile(EngineSnapshotSchema);
const checkV1 = Compile(EngineSnapshotV1Schema);

/** The engine state as a version-2 snapshot (plain JSON). */
export function encodeSnapshot(c: RuleContext): EngineSnapshot {
  const ix = c.ix;
  const S = c.sensors;
  const A = c.apartments;
  const St = c.stations;
  const nS = ix.sensorIds.length;
  const flags: Record<string, number[]> = {};
  for (const [name, bit] of Object.entries(SENSOR_FLAGS)) flags[name] = Array.from(S.flags, (f) => (f & bit ? 1 : 0));
  const { recentTs, recentTemp } = readRings(nS, RING, S.ringPos, S.ringTs, S.ringTemp);
  const compliance = { apartmentId: [] as string[], day: [] as number[], msBelow: [] as number[], msExempt: [] as number[] };
  A.compliance.forEach((m, a) => {
    if (m)
      for (const [day, v] of m) {
        compliance.apartmentId.push(ix.aptIds[a]!);
        compliance.day.push(day);
        compliance.msBelow.push(v[0]!);
        compliance.msExempt.push(v[1]!);
      }
  });
  const nSt = ix.stationIds.length;
  const strided = (a: Float64Array, width: number, k: number): Num[] => Array.from({ length: nSt }, (_, i) => nul(a[i * width + k]!));
  return {
    version: SNAPSHOT_VERSION,
    now: nul(c.now),
    sensors: {
      ids: [...ix.sensorIds],
      lastTs: toJson(S.lastTs),
      temp: toJson(S.temp),
      stuckSince: toJson(S.stuckSince),
      stuckValue: toJson(S.stuckValue),
      windowRef: toJson(S.windowRef),
      windowSince: toJson(S.windowSince),
      heard: toJson(S.heard),
      flags,
      recentTs,
      recentTemp,
    },
    apartments: {
      ids: [...ix.aptIds],
      belowSince: toJson(A.belowSince),
      aboveStdSince: toJson(A.aboveStdSince),
      recoverSince: toJson(A.recoverSince),
      lastEval: toJson(A.lastEval),
      lastValue: toJson(A.lastValue),
      hint: toJson(A.hint),
      compliance,
    },
    stations: {
      ids: [...ix.stationIds],
      values: Object.fromEntries(STATION_FIELDS.map((f, k) => [f, strided(St.values, FIELD_COUNT, k)])),
      faultSince: Object.fromEntries(STATION_FAULTS.map((f, k) => [f, strided(St.faultSince, NFAULT, k)])),
      confirmed: Object.fromEntries(STATION_FAULTS.map((f, k) => [f, Array.from(St.confirmed, (b) => (b & (1 << k) ? 1 : 0))])),
      outdoorDay: toJson(St.outdoorDay),
      outdoorSum: Array.from(St.outdoorSum),
      outdoorCount: Array.from(St.outdoorCount),
    },
    meters: { ids: [...ix.meterIds], lastTs: toJson(c.meters.lastTs), silent: Array.from(c.meters.silent), heard: toJson(c.meters.heard) },
    outdoor: { day: nul(c.outdoorDay), sum: c.outdoorSum, count: c.outdoorCount },
    resolvedChildren: Object.fromEntries([...c.incidents.resolvedKids].map(([k, v]) => [k, [...v]])),
    open: Array.from(c.incidents.values(), cloneIncident),
  };
}

function refuse(why: string): never {
  throw new Error(`rules snapshot refused: ${why}`);
}

function schemaErrors(check: { Errors(v: unknown): Iterable<{ instancePath: string; message: string }> }, raw: unknown): string {
  return [...check.Errors(raw)]
    .slice(0, 3)
    .map((e) => `${e.instancePath || '/'} ${e.message}`)
    .join('; ');
}

/** Every column of a table has one entry per id (a shorter or longer one would misalign rows). */
function sameLength(
  table: string,
  ids: readonly unknown[],
  columns: Record<string, readonly unknown[] | Record<string, readonly unknown[]>>,
  width = 1,
): void {
  for (const [name, col] of Object.entries(columns)) {
    if (Array.isArray(col)) {
      if (col.length !== ids.length * width)
        refuse(`${table}.${name} has ${col.length} entries for ${ids.length} ids${width > 1 ? ` × ${width}` : ''}`);
    } else sameLength(`${table}.${name}`, ids, col as Record<string, readonly unknown[]>, width);
  }
}

/**
 * Check a snapshot read from disk and bring it to the current version. Throws on an unknown
 * version, a schema mismatch or columns that do not line up with their ids.
 */
export function decodeSnapshot(raw: unknown): EngineSnapshot {
  const version = typeof raw === 'object' && raw !== null ? (raw as { version?: unknown }).version : undefined;
  if (version === SNAPSHOT_VERSION) {
    if (!checkV2.Check(raw)) refuse(`version 2 does not match its schema: ${schemaErrors(checkV2, raw)}`);
    const { ids: sIds, ...sCols } = raw.sensors;
    sameLength('sensors', sIds, sCols);
    const { ids: aIds, compliance, ...aCols } = raw.apartments;
    sameLength('apartments', aIds, aCols);
    sameLength('apartments.compliance', compliance.apartmentId, compliance);
    const { ids: stIds, ...stCols } = raw.stations;
    sameLength('stations', stIds, stCols);
    const { ids: mIds, ...mCols } = raw.meters;
    sameLength('meters', mIds, mCols);
    return raw;
  }
  if (version === 1) {
    if (!checkV1.Check(raw)) refuse(`version 1 does not match its schema: ${schemaErrors(checkV1, raw)}`);
    return migrateV1(raw);
  }
  throw new Error(`unsupported rules snapshot version ${String(version)} (this build reads 1 and ${SNAPSHOT_VERSION})`);
}

/** Version 1 → 2: positional columns become named ones, using the frozen version-1 layout. */
function migrateV1(v1: EngineSnapshotV1): EngineSnapshot {
  const S = v1.sensors;
  const n = S.ids.length;
  const { ringTs, ringTemp, ringPos, flags: bits, heard, ids: _ids, ...sCols } = S;
  sameLength('sensors', S.ids, { ...sCols, flags: bits, ringPos, ...(heard ? { heard } : {}) });
  sameLength('sensors', S.ids, { ringTs, ringTemp }, V1_RING);
  const St = v1.stations;
  sameLength('stations', St.ids, { values: St.values }, V1_STATION_FIELDS.length);
  sameLength('stations', St.ids, { faultSince: St.faultSince }, V1_FAULTS.length);
  sameLength('stations', St.ids, {
    confirmed: St.confirmed,
    outdoorDay: St.outdoorDay,
    outdoorSum: St.outdoorSum,
    outdoorCount: St.outdoorCount,
  });
  const { recentTs, recentTemp } = readRings(n, V1_RING, ringPos, ringTs, ringTemp);
  const nSt = St.ids.length;
  const strided = (a: readonly Num[], width: number, k: number): Num[] => Array.from({ length: nSt }, (_, i) => a[i * width + k] ?? null);
  const A = v1.apartments;
  return {
    version: SNAPSHOT_VERSION,
    now: v1.now,
    sensors: {
      ...sCols,
      ids: S.ids,
      heard: heard ?? S.ids.map(() => null),
      flags: Object.fromEntries(Object.entries(V1_FLAGS).map(([name, bit]) => [name, bits.map((f) => (f & bit ? 1 : 0))])),
      recentTs,
      recentTemp,
    },
    apartments: {
      ...A,
      compliance: {
        apartmentId: A.compliance.map((r) => r[0]),
        day: A.compliance.map((r) => r[1]),
        msBelow: A.compliance.map((r) => r[2]),
        msExempt: A.compliance.map((r) => r[3]),
      },
    },
    stations: {
      ids: St.ids,
      values: Object.fromEntries(V1_STATION_FIELDS.map((f, k) => [f, strided(St.values, V1_STATION_FIELDS.length, k)])),
      faultSince: Object.fromEntries(V1_FAULTS.map((f, k) => [f, strided(St.faultSince, V1_FAULTS.length, k)])),
      confirmed: Object.fromEntries(V1_FAULTS.map((f, k) => [f, St.confirmed.map((b) => (b & (1 << k) ? 1 : 0))])),
      outdoorDay: St.outdoorDay,
      outdoorSum: St.outdoorSum,
      outdoorCount: St.outdoorCount,
    },
    meters: {
      ids: v1.meters.ids,
      lastTs: v1.meters.lastTs,
      silent: v1.meters.silent,
      heard: v1.meters.heard ?? v1.meters.ids.map(() => null),
    },
    outdoor: { day: v1.outdoor[0], sum: v1.outdoor[1], count: v1.outdoor[2] },
    resolvedChildren: v1.resolvedChildren ?? {},
    open: v1.open,
  };
}

/** The plain time/value columns of each kind of row: null in the file is NaN ("never") in the state. */
const SENSOR_TIMES = ['lastTs', 'temp', 'stuckSince', 'stuckValue', 'windowRef', 'windowSince', 'heard'] as const;
const APARTMENT_TIMES = ['belowSince', 'aboveStdSince', 'recoverSince', 'lastEval', 'lastValue', 'hint'] as const;
const METER_TIMES = ['lastTs', 'heard'] as const;

/** `load(row here, row in the snapshot)` for each snapshot row whose id this topology still has; the others are dropped. */
function eachKnownRow(ids: readonly string[], here: ReadonlyMap<string, number>, load: (k: number, i: number) => void): void {
  ids.forEach((id, i) => {
    const k = here.get(id);
    if (k !== undefined) load(k, i);
  });
}

/** Snapshot row i of the named columns into state row k. */
function loadColumns<N extends string>(
  into: { readonly [C in N]: Float64Array },
  from: { readonly [C in N]: readonly Num[] },
  names: readonly N[],
  k: number,
  i: number,
): void {
  for (const n of names) into[n][k] = num(from[n][i]);
}

/** Put a decoded snapshot into a fresh engine state; rows whose id the topology lacks are dropped. */
export function loadSnapshot(c: RuleContext, s: EngineSnapshot): void {
  const ix = c.ix;
  c.now = num(s.now);
  c.nextDeadline = Number.NEGATIVE_INFINITY;
  const S = c.sensors;
  const sc = s.sensors;
  const flagCols = Object.entries(SENSOR_FLAGS).map(([name, bit]) => [sc.flags[name], bit] as const);
  eachKnownRow(sc.ids, ix.sensorOf, (k, i) => {
    loadColumns(S, sc, SENSOR_TIMES, k, i);
    let f = 0;
    for (const [col, bit] of flagCols) if (col?.[i]) f |= bit;
    S.flags[k] = f;
    // The newest RING readings, oldest first from slot 0; the write position follows them.
    const ts = sc.recentTs[i]!.slice(-RING);
    const t = sc.recentTemp[i]!.slice(-RING);
    ts.forEach((x, j) => {
      S.ringTs[k * RING + j] = x;
      S.ringTemp[k * RING + j] = t[j] ?? Number.NaN;
    });
    S.ringPos[k] = ts.length % RING;
  });
  const A = c.apartments;
  const ac = s.apartments;
  eachKnownRow(ac.ids, ix.aptOf, (a, i) => loadColumns(A, ac, APARTMENT_TIMES, a, i));
  const cp = ac.compliance;
  eachKnownRow(cp.apartmentId, ix.aptOf, (a, i) => {
    let m = A.compliance[a];
    if (!m) m = A.compliance[a] = new Map();
    m.set(cp.day[i]!, [cp.msBelow[i]!, cp.msExempt[i]!]);
  });
  const St = c.stations;
  const stc = s.stations;
  const stOf = new Map(ix.stationIds.map((id, i) => [id, i]));
  // By name: a field or fault this snapshot lacks stays "never reported" (NaN); one it has
  // that this build lacks is ignored.
  const fieldCols = STATION_FIELDS.map((f) => stc.values[f]);
  const sinceCols = STATION_FAULTS.map((f) => stc.faultSince[f]);
  const confirmedCols = STATION_FAULTS.map((f) => stc.confirmed[f]);
  eachKnownRow(stc.ids, stOf, (st, i) => {
    fieldCols.forEach((col, k) => (St.values[st * FIELD_COUNT + k] = num(col?.[i])));
    sinceCols.forEach((col, k) => (St.faultSince[st * NFAULT + k] = num(col?.[i])));
    St.confirmed[st] = confirmedCols.reduce((bits, col, k) => (col?.[i] ? bits | (1 << k) : bits), 0);
    St.outdoorDay[st] = num(stc.outdoorDay[i]);
    St.outdoorSum[st] = stc.outdoorSum[i] ?? 0;
    St.outdoorCount[st] = stc.outdoorCount[i] ?? 0;
  });
  const M = c.meters;
  const mc = s.meters;
  eachKnownRow(mc.ids, ix.meterOf, (m, i) => {
    loadColumns(M, mc, METER_TIMES, m, i);
    M.silent[m] = mc.silent[i] ?? 0;
  });
  c.outdoorDay = num(s.outdoor.day);
  c.outdoorSum = s.outdoor.sum;
  c.outdoorCount = s.outdoor.count;
  loadIncidents(c, s, stOf);
}

function loadIncidents(c: RuleContext, s: EngineSnapshot, stOf: Map<string, number>): void {
  const ix = c.ix;
  const reg = c.incidents;
  for (const [gid, kids] of Object.entries(s.resolvedChildren)) reg.resolvedKids.set(gid, [...kids]);
  const bOf = new Map(ix.buildingIds.map((id, i) => [id, i]));
  for (const raw of s.open) {
    const inc = cloneIncident(raw);
    reg.register(inc);
    const at = <T>(of: Map<string, number>, list: (T | undefined)[], v: T) => {
      const i = of.get(inc.subjectId);
      if (i !== undefined) list[i] = v;
    };
    if (inc.kind === 'apartment_cold') at(ix.aptOf, c.apartments.incident, inc);
    else if (inc.kind === 'building_cold') at(bOf, c.buildings.coldInc, inc);
    else if (inc.kind === 'station_cold') at(stOf, c.stations.coldInc, inc);
    else if (inc.kind === 'station_fault') at(stOf, c.stations.faultInc, inc);
    else if (inc.kind === 'source_cold') at(c.upstream.of, c.upstream.incident, inc);
  }
  // Derived: the coldest counted room at the last evaluation (N2 per room), from the sensors' own state; then the counters.
  for (let a = 0; a < ix.aptIds.length; a++) {
    const last = c.apartments.lastEval[a]!;
    c.apartments.lastColdest[a] = Number.isNaN(last) ? Number.NaN : apartmentValue(c, a, last).coldestC;
  }
  for (let a = 0; a < ix.aptIds.length; a++) {
    const b = ix.aptBuilding[a]!;
    if (c.apartments.lastColdest[a]! < c.k.standardC) {
      c.apartments.belowNow[a] = 1;
      if (b >= 0) c.buildings.belowNow[b]!++;
    }
  }
}
