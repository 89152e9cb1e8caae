/**
 * The rules engine's state, shared by the rule modules (sensor, cold, compliance, grouping,
 * source, meter): typed arrays indexed by the topology index (a reading costs a Map lookup
 * and a few array writes), the policy constants in the units the hot path uses, and the
 * engine clock. Nothing here decides anything. Only the snapshot codec (snapshot.codec.ts)
 * reads or writes this state whole, so the on-disk form has one owner.
 */
import { HOUR_MS, MINUTE_MS } from '../clock.ts';
import type { Incident } from '../incident.schema.ts';
import type { HeatingPolicy } from '../policy.ts';
import { SeasonCalendar } from '../season.ts';
import type { City } from '../topology.schema.ts';
import { IncidentRegistry, type IncidentWhere } from './incident.registry.ts';
import { FIELD_COUNT, STATION_FAULTS } from './station.rule.ts';
import { buildTopologyIndex, type TopologyIndex } from './topology.index.ts';

/** Recent readings kept per sensor for the §E.5 window pattern (drop against the recent max). */
export const RING = 8;
// Sensor flag bits, in memory only (the snapshot stores each flag as a named column).
export const F_OFFLINE = 1;
export const F_LOWBAT = 2;
export const F_STUCK = 4;
export const F_IMPLAUSIBLE = 8;
export const F_WINDOW = 16;
export const F_SEEN = 32;
export const SENSOR_FLAGS = {
  offline: F_OFFLINE,
  lowBattery: F_LOWBAT,
  stuck: F_STUCK,
  implausible: F_IMPLAUSIBLE,
  window: F_WINDOW,
  seen: F_SEEN,
} as const;
export type SensorFlag = keyof typeof SENSOR_FLAGS;
export const NFAULT = STATION_FAULTS.length;

/** Two decimals for evidence; null for NaN (JSON has no NaN). */
export const r2 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);

const nan = (n: number) => new Float64Array(n).fill(Number.NaN);
const none = (n: number) => new Array<Incident | undefined>(n).fill(undefined);

// Each state is columns of one row per index entry; a column is declared and allocated in
// one place (a property of allocateColumns with its initial value), never listed twice.

/** The per-entity columns of one engine, sized by its topology index. */
function allocateColumns(ix: TopologyIndex) {
  const sensors = ix.sensorIds.length;
  const apartments = ix.aptIds.length;
  const buildings = ix.buildingIds.length;
  const stations = ix.stationIds.length;
  const meters = ix.meterIds.length;
  return {
    sensors: {
      lastTs: nan(sensors),
      temp: nan(sensors),
      /** Engine time when the last reading was handed in, if that was a backlog (else its own ts). */
      heard: nan(sensors),
      flags: new Uint8Array(sensors),
      stuckSince: nan(sensors),
      stuckValue: nan(sensors),
      windowRef: nan(sensors),
      windowSince: nan(sensors),
      /** The ring of recent readings: next slot, then RING slots per sensor of time and value. */
      ringPos: new Uint8Array(sensors),
      ringTs: nan(sensors * RING),
      ringTemp: nan(sensors * RING),
    },
    apartments: {
      /** N2 candidate: since when the value has been below the standard. */
      belowSince: nan(apartments),
      /** Schmitt trigger: since when a candidate has been back at ≥ standard (but < resolveAtC). */
      aboveStdSince: nan(apartments),
      /** Open incident: since when the value has been ≥ resolveAtC. */
      recoverSince: nan(apartments),
      lastEval: nan(apartments),
      /** N32: the reported value (area-weighted mean) at the last evaluation. */
      lastValue: nan(apartments),
      /** N2: the coldest counted room at the last evaluation — what the standard is checked on (derived on restore). */
      lastColdest: nan(apartments),
      /** §E.5: a window that turned out not to be one — the shortfall counts from the drop. */
      hint: nan(apartments),
      /** Derived (not stored): 1 when a counted room is below the standard now (N2). */
      belowNow: new Uint8Array(apartments),
      incident: none(apartments),
      /** N2 evidence per local day index: [ms below, ms of that exempt (N3)]. */
      compliance: new Array<Map<number, number[]> | undefined>(apartments).fill(undefined),
    },
    buildings: {
      /** Derived: monitored apartments below the standard now (§E.3 neighbour evidence). */
      belowNow: new Int32Array(buildings),
      /** Scratch per-building counter for reconcileStation (always left zeroed). */
      scratch: new Int32Array(buildings),
      coldInc: none(buildings),
    },
    stations: {
      coldInc: none(stations),
      faultInc: none(stations),
      /** Latest meter values, FIELD_COUNT slots per station (STATION_SLOT), NaN = never reported. */
      values: nan(stations * FIELD_COUNT),
      /** NFAULT slots per station: since when each fault condition has held. */
      faultSince: nan(stations * NFAULT),
      /** Confirmed fault bits (station.rule.ts FAULT_*). */
      confirmed: new Uint8Array(stations),
      /** N3: the station's outdoor mean so far today (day index, sum, count). */
      outdoorDay: nan(stations),
      outdoorSum: new Float64Array(stations),
      outdoorCount: new Float64Array(stations),
      /** N3: the last completed day and its full-day outdoor mean (not stored: lost on restore, as the running mean's history is). */
      prevOutdoorDay: nan(stations),
      prevOutdoorMean: nan(stations),
      /**
       * N3: apartment_cold incidents that resolved before their last day ended — their verdict
       * waits for that day's full-day mean (not stored: lost on restore, as the running mean is).
       */
      settling: new Array<Incident[] | undefined>(stations).fill(undefined),
    },
    meters: {
      lastTs: nan(meters),
      silent: new Uint8Array(meters),
      heard: nan(meters),
    },
  } as const;
}

type Columns = ReturnType<typeof allocateColumns>;
export type SensorState = Columns['sensors'];
export type ApartmentState = Columns['apartments'];
export type BuildingState = Columns['buildings'];
export type StationState = Columns['stations'];
export type MeterState = Columns['meters'];

/**
 * Upstream groups (§E.1): index < sources = a heat source, then one per primary-network
 * branch that does not span its whole source. Each may hold one source_cold incident.
 */
export class UpstreamGroups {
  readonly ids: string[] = [];
  readonly stations: number[][] = [];
  readonly source: number[] = [];
  readonly of = new Map<string, number>();
  readonly incident: (Incident | undefined)[];
  /** The branch group of each station, -1 when its branch is its whole source. */
  readonly stationBranch: Int32Array;
  constructor(ix: TopologyIndex) {
    ix.sourceIds.forEach((id, src) => this.#add(id, ix.sourceStations[src]!, src));
    this.stationBranch = new Int32Array(ix.stationIds.length).fill(-1);
    ix.sourceIds.forEach((_id, src) => {
      const branches = new Map<string, number[]>();
      for (const st of ix.sourceStations[src]!) {
        const br = ix.stationBranch[st]!;
        if (!branches.has(br)) branches.set(br, []);
        branches.get(br)!.push(st);
      }
      if (branches.size < 2) return; // one branch = the whole source: no separate group
      for (const [br, stations] of branches) {
        if (this.of.has(br)) continue;
        const g = this.#add(br, stations, src);
        for (const st of stations) this.stationBranch[st] = g;
      }
    });
    this.incident = none(this.ids.length);
  }
  #add(id: string, stations: number[], src: number): number {
    const g = this.ids.length;
    this.of.set(id, g);
    this.ids.push(id);
    this.stations.push(stations);
    this.source.push(src);
    return g;
  }
}

/** Policy constants in the units the hot path uses. */
export interface RuleParams {
  readonly standardC: number; // N2
  readonly resolveAtC: number;
  readonly openAfterMs: number;
  readonly resolveAfterMs: number;
  readonly stuckMs: number;
  readonly dropWithinMs: number;
  readonly recoverWithinMs: number;
  readonly silentMs: number;
  readonly confirmMs: number;
  readonly graceMs: number;
}

/** Everything a rule reads and writes; one per engine. */
export class RuleContext {
  readonly ix: TopologyIndex;
  readonly policy: HeatingPolicy;
  readonly season: SeasonCalendar;
  readonly k: RuleParams;
  readonly sensors: SensorState;
  readonly apartments: ApartmentState;
  readonly buildings: BuildingState;
  readonly stations: StationState;
  readonly meters: MeterState;
  readonly upstream: UpstreamGroups;
  readonly incidents = new IncidentRegistry();
  /** Engine time: the newest event time or watermark seen. */
  now = Number.NaN;
  /** Earliest time-out not yet fired (−∞ = unknown, scan on the next advance). */
  nextDeadline = Number.NEGATIVE_INFINITY;
  /** N3 fallback: the city-wide outdoor mean so far today. */
  outdoorDay = Number.NaN;
  outdoorSum = 0;
  outdoorCount = 0;
  /** N3 fallback: the city's last completed day and its full-day mean. */
  prevOutdoorDay = Number.NaN;
  prevOutdoorMean = Number.NaN;

  constructor(city: City, policy: HeatingPolicy, graceMs: number) {
    const p = policy;
    this.policy = p;
    const ix = (this.ix = buildTopologyIndex(city, p));
    this.season = new SeasonCalendar(p);
    this.k = {
      standardC: p.comfort.standardC, // N2
      resolveAtC: p.comfort.resolveAtC,
      openAfterMs: p.comfort.coldOpenAfterMin * MINUTE_MS,
      resolveAfterMs: p.comfort.resolveAfterMin * MINUTE_MS,
      stuckMs: p.sensors.stuckAfterHours * HOUR_MS,
      dropWithinMs: p.sensors.windowDropWithinMin * MINUTE_MS,
      recoverWithinMs: p.sensors.windowRecoverWithinMin * MINUTE_MS,
      silentMs: p.station.silentAfterMin * MINUTE_MS,
      confirmMs: p.station.faultConfirmMin * MINUTE_MS,
      graceMs,
    };
    const columns = allocateColumns(ix);
    this.sensors = columns.sensors;
    this.apartments = columns.apartments;
    this.buildings = columns.buildings;
    this.stations = columns.stations;
    this.meters = columns.meters;
    this.upstream = new UpstreamGroups(ix);
  }

  /**
   * Time-out of a device: its own data says last + limit; a device heard from during a
   * backlog (heard > last) also gets the catch-up grace from when it was heard. Old snapshots
   * have no heard time (NaN): the data decides.
   */
  deadline(lastTs: number, heard: number, limitMs: number): number {
    const own = lastTs + limitMs;
    if (!(heard > lastTs)) return own;
    const late = heard + this.k.graceMs;
    return late > own ? late : own;
  }

  /** Station, building and apartment ids of apartment index `a` (for its incidents). */
  whereApartment(a: number): IncidentWhere {
    const ix = this.ix;
    const b = ix.aptBuilding[a]!;
    const st = ix.aptStation[a]!;
    return {
      stationId: st >= 0 ? ix.stationIds[st] : undefined,
      buildingId: b >= 0 ? ix.buildingIds[b] : undefined,
      apartmentId: ix.aptIds[a],
    };
  }
}
