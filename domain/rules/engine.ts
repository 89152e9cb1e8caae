/**
 * The rules engine (issue 5): which apartments are cold, since when, and why.
 *
 * Pure and event-time: the output is a function of the reading stream, the advanceTo calls
 * and the policy, nothing else — no wall clock, no randomness, deterministic iteration — so
 * the same code runs live in the ingest, at 1000× in replay and in tests, and a replay gives
 * byte-identical incidents.
 *
 * State is kept in typed arrays indexed by the topology index (topology.index.ts); a reading
 * costs a Map lookup and a few array writes, and incidents are only built on transitions.
 *
 * Rules (heating-norms.md):
 * - N32 apartment value = area-weighted mean of counted rooms (bedrooms, living room) that
 *   have a valid sensor value; partial coverage is reported as evidence.
 * - N2 cold: value < standardC for coldOpenAfterMin opens apartment_cold; it resolves after
 *   resolveAfterMin at ≥ resolveAtC. A Schmitt trigger also guards the candidate: a value that
 *   pops above the standard but stays under resolveAtC does not restart the clock, so a value
 *   flapping around 18.0 opens one incident, not none or many.
 * - N1 season gates every opening; N3 exempts shortfalls on days whose outdoor mean (station
 *   meter) is below the design outdoor temperature.
 * - §E.5 not a fault: window pattern (held at the pre-drop value), offline, stuck and
 *   implausible sensors are excluded from the value and raise their own device incidents.
 * - §E.1–4 root cause and grouping: station faults, share-based building/station groups and
 *   heat-source groups become parents; apartment incidents attach as children.
 */
import { HOUR_MS, MINUTE_MS } from '../clock.ts';
import type { CauseClass, Incident, IncidentEvent, IncidentKind, Severity, SubjectType } from '../incident.schema.ts';
import type { HeatingPolicy } from '../policy.ts';
import type { Reading } from '../reading.ts';
import { SeasonCalendar, dateToDayIndex, dayIndexToDate } from '../season.ts';
import type { City } from '../topology.schema.ts';
import {
  FAULT_CURVE,
  FAULT_LEAK,
  FAULT_PUMP,
  FIELD_COUNT,
  STATION_FAULTS,
  STATION_SLOT,
  faultNames,
  heatingCurveSetpointC,
  stationFaultBits,
} from './station.rule.ts';
import { buildTopologyIndex, type TopologyIndex } from './topology.index.ts';
import { STATION_FIELDS } from '../telemetry.schema.ts';

export interface RulesEngineOptions {
  readonly city: City;
  readonly policy: HeatingPolicy;
  /**
   * A device whose reading arrives far behind engine time (a backlog) is given this long, in
   * engine time, for the rest of its backlog before its own data decides its time-out: the
   * chunks of one backlog then do not each open and close an offline incident. Default 2 min.
   */
  readonly catchUpGraceMs?: number;
}

/** N2 evidence: minutes an apartment's value was below the standard on one local day. */
export interface DailyCompliance {
  readonly apartmentId: string;
  /** Local date, 'YYYY-MM-DD'. */
  readonly date: string;
  /** Minutes below the standard (in season, with data). */
  readonly minutesBelow: number;
  /** N3: of those, minutes on a day colder than the design outdoor temperature (exempt). */
  readonly minutesExempt: number;
}

type Num = number | null;

/** Plain-JSON state of an engine (NaN stored as null). Restore with `RulesEngine.restore`. */
export interface EngineSnapshot {
  readonly version: 1;
  readonly now: Num;
  readonly sensors: {
    readonly ids: string[];
    readonly lastTs: Num[];
    readonly temp: Num[];
    readonly flags: number[];
    readonly stuckSince: Num[];
    readonly stuckValue: Num[];
    readonly windowRef: Num[];
    readonly windowSince: Num[];
    readonly ringTs: Num[];
    readonly ringTemp: Num[];
    readonly ringPos: number[];
    /** Watermark when each sensor's last reading was handed in (later than lastTs for a backlog). */
    readonly heard?: Num[];
  };
  readonly apartments: {
    readonly ids: string[];
    readonly belowSince: Num[];
    readonly aboveStdSince: Num[];
    readonly recoverSince: Num[];
    readonly lastEval: Num[];
    readonly lastValue: Num[];
    readonly hint: Num[];
    /** [apartmentId, dayIndex, msBelow, msExempt] */
    readonly compliance: [string, number, number, number][];
  };
  readonly stations: {
    readonly ids: string[];
    readonly values: Num[];
    readonly faultSince: Num[];
    readonly confirmed: number[];
    readonly outdoorDay: Num[];
    readonly outdoorSum: number[];
    readonly outdoorCount: number[];
  };
  readonly meters: { readonly ids: string[]; readonly lastTs: Num[]; readonly silent: number[]; readonly heard?: Num[] };
  /** Group incident id → apartments whose resolved incidents still point to it. */
  readonly resolvedChildren?: Record<string, string[]>;
  readonly outdoor: readonly [Num, number, number];
  readonly open: Incident[];
}

const RING = 8;
const F_OFFLINE = 1;
const F_LOWBAT = 2;
const F_STUCK = 4;
const F_IMPLAUSIBLE = 8;
const F_WINDOW = 16;
const F_SEEN = 32;
const NFAULT = STATION_FAULTS.length;

const r2 = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
const toJson = (a: ArrayLike<number>): Num[] => Array.from(a, (x) => (Number.isNaN(x) ? null : x));
const fromJson = (x: Num | undefined): number => (x === null || x === undefined ? Number.NaN : x);

function cloneIncident(i: Incident): Incident {
  const c: Incident = { ...i, evidence: { ...i.evidence } };
  if (i.children) c.children = [...i.children];
  return c;
}

export class RulesEngine {
  readonly #policy: HeatingPolicy;
  readonly #ix: TopologyIndex;
  readonly #season: SeasonCalendar;

  // Policy constants in the units the hot path uses.
  readonly #std: number; // N2
  readonly #resolveAt: number;
  readonly #openAfterMs: number;
  readonly #resolveAfterMs: number;
  readonly #stuckMs: number;
  readonly #dropWithinMs: number;
  readonly #recoverWithinMs: number;
  readonly #silentMs: number;
  readonly #confirmMs: number;
  readonly #graceMs: number;

  #now = Number.NaN;
  #nextDeadline = Number.NEGATIVE_INFINITY;
  #out: IncidentEvent[] = [];
  /** Open incidents by `${kind}|${subjectId}` (one per subject and kind), in opening order. */
  readonly #open = new Map<string, Incident>();
  readonly #openIds = new Set<string>();

  // Sensors.
  readonly #sLastTs: Float64Array;
  readonly #sTemp: Float64Array;
  readonly #sFlags: Uint8Array;
  readonly #sStuckSince: Float64Array;
  readonly #sStuckVal: Float64Array;
  readonly #sWinRef: Float64Array;
  readonly #sWinSince: Float64Array;
  readonly #sRingTs: Float64Array;
  readonly #sRingT: Float64Array;
  readonly #sRingPos: Uint8Array;
  /** Engine time when the last reading was handed in, if that was a backlog (else its own ts). */
  readonly #sHeard: Float64Array;

  // Apartments.
  readonly #aBelowSince: Float64Array;
  readonly #aAboveStdSince: Float64Array;
  readonly #aRecoverSince: Float64Array;
  readonly #aLastEval: Float64Array;
  readonly #aLastVal: Float64Array;
  readonly #aHint: Float64Array;
  readonly #aBelowNow: Uint8Array;
  readonly #aInc: (Incident | undefined)[];
  readonly #aCompliance: (Map<number, number[]> | undefined)[];

  // Buildings, stations, sources.
  readonly #bBelowNow: Int32Array;
  /** Scratch per-building counter for #reconcileStation (always left zeroed). */
  readonly #bScratch: Int32Array;
  readonly #bColdInc: (Incident | undefined)[];
  readonly #stColdInc: (Incident | undefined)[];
  readonly #stFaultInc: (Incident | undefined)[];
  readonly #stVals: Float64Array;
  readonly #stFaultSince: Float64Array;
  readonly #stConfirmed: Uint8Array;
  readonly #stOdDay: Float64Array;
  readonly #stOdSum: Float64Array;
  readonly #stOdCount: Float64Array;
  /**
   * Upstream groups (§E.1): index < sources = a heat source, then one per primary-network
   * branch that does not span its whole source. Each may hold one source_cold incident.
   */
  readonly #upIds: string[] = [];
  readonly #upStations: number[][] = [];
  readonly #upSource: number[] = [];
  readonly #upOf = new Map<string, number>();
  readonly #upInc: (Incident | undefined)[];
  readonly #stBranch: Int32Array;
  readonly #mLastTs: Float64Array;
  readonly #mSilent: Uint8Array;
  readonly #mHeard: Float64Array;
  /**
   * Apartments whose incident resolved while grouped: they still point to the group, so the
   * group keeps listing them until it resolves itself (a parent lists exactly its children).
   */
  readonly #resolvedKids = new Map<string, string[]>();
  #gOdDay = Number.NaN;
  #gOdSum = 0;
  #gOdCount = 0;

  constructor(opts: RulesEngineOptions) {
    const p = opts.policy;
    this.#policy = p;
    this.#ix = buildTopologyIndex(opts.city, p);
    this.#season = new SeasonCalendar(p);
    this.#std = p.comfort.standardC; // N2
    this.#resolveAt = p.comfort.resolveAtC;
    this.#openAfterMs = p.comfort.coldOpenAfterMin * MINUTE_MS;
    this.#resolveAfterMs = p.comfort.resolveAfterMin * MINUTE_MS;
    this.#stuckMs = p.sensors.stuckAfterHours * HOUR_MS;
    this.#dropWithinMs = p.sensors.windowDropWithinMin * MINUTE_MS;
    this.#recoverWithinMs = p.sensors.windowRecoverWithinMin * MINUTE_MS;
    this.#silentMs = p.station.silentAfterMin * MINUTE_MS;
    this.#confirmMs = p.station.faultConfirmMin * MINUTE_MS;
    this.#graceMs = opts.catchUpGraceMs ?? 2 * MINUTE_MS;

    const ix = this.#ix;
    const nS = ix.sensorIds.length;
    const nan = (n: number) => new Float64Array(n).fill(Number.NaN);
    this.#sLastTs = nan(nS);
    this.#sTemp = nan(nS);
    this.#sFlags = new Uint8Array(nS);
    this.#sStuckSince = nan(nS);
    this.#sStuckVal = nan(nS);
    this.#sWinRef = nan(nS);
    this.#sWinSince = nan(nS);
    this.#sRingTs = nan(nS * RING);
    this.#sRingT = nan(nS * RING);
    this.#sRingPos = new Uint8Array(nS);
    this.#sHeard = nan(nS);

    const nA = ix.aptIds.length;
    this.#aBelowSince = nan(nA);
    this.#aAboveStdSince = nan(nA);
    this.#aRecoverSince = nan(nA);
    this.#aLastEval = nan(nA);
    this.#aLastVal = nan(nA);
    this.#aHint = nan(nA);
    this.#aBelowNow = new Uint8Array(nA);
    this.#aInc = new Array<Incident | undefined>(nA).fill(undefined);
    this.#aCompliance = new Array<Map<number, number[]> | undefined>(nA).fill(undefined);

    const nB = ix.buildingIds.length;
    this.#bBelowNow = new Int32Array(nB);
    this.#bScratch = new Int32Array(nB);
    this.#bColdInc = new Array<Incident | undefined>(nB).fill(undefined);
    const nSt = ix.stationIds.length;
    this.#stColdInc = new Array<Incident | undefined>(nSt).fill(undefined);
    this.#stFaultInc = new Array<Incident | undefined>(nSt).fill(undefined);
    this.#stVals = nan(nSt * FIELD_COUNT);
    this.#stFaultSince = nan(nSt * NFAULT);
    this.#stConfirmed = new Uint8Array(nSt);
    this.#stOdDay = nan(nSt);
    this.#stOdSum = new Float64Array(nSt);
    this.#stOdCount = new Float64Array(nSt);
    ix.sourceIds.forEach((id, src) => {
      this.#upOf.set(id, src);
      this.#upIds.push(id);
      this.#upStations.push(ix.sourceStations[src]!);
      this.#upSource.push(src);
    });
    this.#stBranch = new Int32Array(nSt).fill(-1);
    ix.sourceIds.forEach((_id, src) => {
      const branches = new Map<string, number[]>();
      for (const st of ix.sourceStations[src]!) {
        const br = ix.stationBranch[st]!;
        if (!branches.has(br)) branches.set(br, []);
        branches.get(br)!.push(st);
      }
      if (branches.size < 2) return; // one branch = the whole source: no separate group
      for (const [br, stations] of branches) {
        if (this.#upOf.has(br)) continue;
        const g = this.#upIds.length;
        this.#upOf.set(br, g);
        this.#upIds.push(br);
        this.#upStations.push(stations);
        this.#upSource.push(src);
        for (const st of stations) this.#stBranch[st] = g;
      }
    });
    this.#upInc = new Array<Incident | undefined>(this.#upIds.length).fill(undefined);
    this.#mLastTs = nan(ix.meterIds.length);
    this.#mSilent = new Uint8Array(ix.meterIds.length);
    this.#mHeard = nan(ix.meterIds.length);
  }

  // ───────────────────────────── public interface ─────────────────────────────

  /** Feed one reading (event-time ordered per device). Returns the incident transitions it caused. */
  ingest(r: Reading): IncidentEvent[] {
    const out: IncidentEvent[] = [];
    this.#out = out;
    const ts = r.ts;
    if (!Number.isFinite(ts)) return out;
    if (!(ts <= this.#now)) this.#now = ts;
    const si = this.#ix.sensorOf.get(r.deviceId);
    if (si !== undefined) this.#ingestSensor(si, r);
    else {
      const mi = this.#ix.meterOf.get(r.deviceId);
      if (mi !== undefined) this.#ingestMeter(mi, r);
    }
    return out;
  }

  /** Advance event time (max event time seen, or the clock): fires time-outs (offline sensors, silent stations). */
  advanceTo(ts: number): IncidentEvent[] {
    const out: IncidentEvent[] = [];
    this.#out = out;
    if (!Number.isFinite(ts)) return out;
    if (!(ts <= this.#now)) this.#now = ts;
    if (ts >= this.#nextDeadline) this.#scanDeadlines(ts);
    return out;
  }

  /** Every open incident, in the order they opened (deep copies). */
  openIncidents(): Incident[] {
    return Array.from(this.#open.values(), cloneIncident);
  }

  /** Current N32 apartment value, °C (NaN when no counted room has a valid reading). */
  apartmentValue(apartmentId: string): number {
    const a = this.#ix.aptOf.get(apartmentId);
    return a === undefined ? Number.NaN : this.#aLastVal[a]!;
  }

  /** N2 evidence: minutes below the standard per apartment per local day, apartments in topology order, days ascending. */
  dailyCompliance(filter?: { apartmentId?: string }): DailyCompliance[] {
    const res: DailyCompliance[] = [];
    const ix = this.#ix;
    const one = filter?.apartmentId !== undefined ? ix.aptOf.get(filter.apartmentId) : undefined;
    if (filter?.apartmentId !== undefined && one === undefined) return res;
    const from = one ?? 0;
    const to = one !== undefined ? one + 1 : ix.aptIds.length;
    for (let a = from; a < to; a++) {
      const m = this.#aCompliance[a];
      if (!m) continue;
      for (const day of [...m.keys()].sort((x, y) => x - y)) {
        const v = m.get(day)!;
        res.push({
          apartmentId: ix.aptIds[a]!,
          date: dayIndexToDate(day),
          minutesBelow: Math.round((v[0]! / MINUTE_MS) * 100) / 100,
          minutesExempt: Math.round((v[1]! / MINUTE_MS) * 100) / 100,
        });
      }
    }
    return res;
  }

  /**
   * Forget compliance days before a local date ('YYYY-MM-DD') once the host has stored them,
   * so a long-running engine (and its snapshot) does not grow over seasons. Returns rows dropped.
   */
  dropComplianceBefore(date: string): number {
    const limit = dateToDayIndex(date);
    if (Number.isNaN(limit)) throw new RangeError(`not a date: ${date}`);
    let dropped = 0;
    this.#aCompliance.forEach((m, a) => {
      if (!m) return;
      for (const day of [...m.keys()])
        if (day < limit) {
          m.delete(day);
          dropped++;
        }
      if (m.size === 0) this.#aCompliance[a] = undefined;
    });
    return dropped;
  }

  snapshot(): EngineSnapshot {
    const ix = this.#ix;
    const compliance: [string, number, number, number][] = [];
    this.#aCompliance.forEach((m, a) => {
      if (m) for (const [day, v] of m) compliance.push([ix.aptIds[a]!, day, v[0]!, v[1]!]);
    });
    return {
      version: 1,
      now: Number.isNaN(this.#now) ? null : this.#now,
      sensors: {
        ids: [...ix.sensorIds],
        lastTs: toJson(this.#sLastTs),
        temp: toJson(this.#sTemp),
        flags: Array.from(this.#sFlags),
        stuckSince: toJson(this.#sStuckSince),
        stuckValue: toJson(this.#sStuckVal),
        windowRef: toJson(this.#sWinRef),
        windowSince: toJson(this.#sWinSince),
        ringTs: toJson(this.#sRingTs),
        ringTemp: toJson(this.#sRingT),
        ringPos: Array.from(this.#sRingPos),
        heard: toJson(this.#sHeard),
      },
      apartments: {
        ids: [...ix.aptIds],
        belowSince: toJson(this.#aBelowSince),
        aboveStdSince: toJson(this.#aAboveStdSince),
        recoverSince: toJson(this.#aRecoverSince),
        lastEval: toJson(this.#aLastEval),
        lastValue: toJson(this.#aLastVal),
        hint: toJson(this.#aHint),
        compliance,
      },
      stations: {
        ids: [...ix.stationIds],
        values: toJson(this.#stVals),
        faultSince: toJson(this.#stFaultSince),
        confirmed: Array.from(this.#stConfirmed),
        outdoorDay: toJson(this.#stOdDay),
        outdoorSum: Array.from(this.#stOdSum),
        outdoorCount: Array.from(this.#stOdCount),
      },
      meters: { ids: [...ix.meterIds], lastTs: toJson(this.#mLastTs), silent: Array.from(this.#mSilent), heard: toJson(this.#mHeard) },
      resolvedChildren: Object.fromEntries([...this.#resolvedKids].map(([k, v]) => [k, [...v]])),
      outdoor: [Number.isNaN(this.#gOdDay) ? null : this.#gOdDay, this.#gOdSum, this.#gOdCount],
      open: this.openIncidents(),
    };
  }

  /**
   * Rebuild an engine from a snapshot. State is matched by id, so a snapshot survives a
   * topology that gained or lost devices (their state starts fresh or is dropped).
   */
  static restore(s: EngineSnapshot, opts: RulesEngineOptions): RulesEngine {
    if (s.version !== 1) throw new Error(`unsupported rules snapshot version ${String(s.version)}`);
    const e = new RulesEngine(opts);
    e.#load(s);
    return e;
  }

  /**
   * The same state on a new topology (a registry change reaches the running engine): state is
   * matched by id, so added devices start fresh and moved ones keep their history; incidents
   * whose subject the new topology no longer has (a device disabled or deleted, an apartment
   * removed) are resolved with `evidence.retired`, so nothing stays open that nothing can close.
   */
  withTopology(city: City): { engine: RulesEngine; events: IncidentEvent[] } {
    const next = RulesEngine.restore(this.snapshot(), { city, policy: this.#policy, catchUpGraceMs: this.#graceMs });
    return { engine: next, events: next.#retireOrphans() };
  }

  #retireOrphans(): IncidentEvent[] {
    const out: IncidentEvent[] = [];
    this.#out = out;
    const ix = this.#ix;
    const at = this.#now;
    if (Number.isNaN(at)) return out;
    const stations = new Set(ix.stationIds);
    const buildings = new Set(ix.buildingIds);
    for (const inc of [...this.#open.values()]) {
      const id = inc.subjectId;
      const known =
        inc.subjectType === 'device'
          ? ix.sensorOf.has(id) || ix.meterOf.has(id)
          : inc.subjectType === 'apartment'
            ? ix.aptOf.has(id)
            : inc.subjectType === 'building'
              ? buildings.has(id)
              : inc.subjectType === 'station'
                ? stations.has(id) && (inc.kind !== 'station_silent' || ix.meterIds.some((_m, k) => ix.stationIds[ix.meterStation[k]!] === id))
                : inc.subjectType === 'source'
                  ? this.#upOf.has(id)
                  : true;
      if (known) continue;
      inc.evidence.retired = true;
      this.#resolve(inc, at, at);
    }
    return out;
  }

  // ───────────────────────────── room sensors ─────────────────────────────

  #ingestSensor(s: number, r: Reading): void {
    const ts = r.ts;
    const last = this.#sLastTs[s]!;
    // Per-device event-time order: a redelivered or older reading changes nothing.
    if (ts <= last) return;
    const ix = this.#ix;
    const p = this.#policy;
    let flags = this.#sFlags[s]!;
    const inSeason = this.#season.inSeason(ts); // N1
    const offMs = ix.sensorOfflineMs[s]!;
    if (flags & F_OFFLINE) {
      // Its own readings close its time-out, late ones too (a gateway's backlog).
      flags &= ~F_OFFLINE;
      const inc = this.#open.get(`sensor_offline|${ix.sensorIds[s]}`);
      if (inc) this.#resolve(inc, ts, ts);
    } else if (flags & F_SEEN && ts - last > offMs) {
      // A gap in its own data that no watermark reached (the data came as a backlog): live,
      // it would have been offline from last + threshold until this reading, so say so.
      const dl = last + offMs;
      if (this.#season.inSeason(dl)) this.#resolve(this.#offlineIncident(s, dl), ts, ts);
    }
    this.#sLastTs[s] = ts;
    // A reading far behind engine time is a backlog being caught up: the device was heard from
    // now, so the rest of its backlog gets a grace before its own data times it out.
    const heard = this.#now - ts > offMs ? this.#now : ts;
    this.#sHeard[s] = heard;
    const dl = this.#deadline(ts, heard, offMs);
    if (dl < this.#nextDeadline) this.#nextDeadline = dl;
    flags |= F_SEEN;

    const f = r.fields;
    const bat = f.bat;
    if (bat !== undefined) {
      if (bat < p.sensors.lowBatteryV && !(flags & F_LOWBAT) && inSeason) {
        flags |= F_LOWBAT;
        this.#openDevice(s, 'sensor_low_battery', ts, 'info', { batteryV: r2(bat), lowBatteryV: p.sensors.lowBatteryV });
      } else if (bat >= p.sensors.lowBatteryClearV && flags & F_LOWBAT) {
        flags &= ~F_LOWBAT;
        const inc = this.#open.get(`sensor_low_battery|${ix.sensorIds[s]}`);
        if (inc) this.#resolve(inc, ts, ts);
      }
    }

    const temp = f.temp;
    if (temp !== undefined && Number.isFinite(temp)) {
      // Stuck: the identical value for stuckAfterHours (§E.5).
      if (temp === this.#sStuckVal[s]) {
        if (!(flags & F_STUCK) && inSeason && ts - this.#sStuckSince[s]! >= this.#stuckMs) {
          flags |= F_STUCK;
          this.#openDevice(s, 'sensor_stuck', this.#sStuckSince[s]!, 'minor', {
            valueC: r2(temp),
            stuckAfterHours: p.sensors.stuckAfterHours,
          });
        }
      } else {
        this.#sStuckVal[s] = temp;
        this.#sStuckSince[s] = ts;
        if (flags & F_STUCK) {
          flags &= ~F_STUCK;
          const inc = this.#open.get(`sensor_stuck|${ix.sensorIds[s]}`);
          if (inc) this.#resolve(inc, ts, ts);
        }
      }
      // Implausibly warm for a heated room: next to a heat source or in the sun (§E.5).
      if (temp > p.sensors.implausibleHighC) {
        if (!(flags & F_IMPLAUSIBLE) && inSeason) {
          flags |= F_IMPLAUSIBLE;
          this.#openDevice(s, 'sensor_implausible', ts, 'minor', {
            valueC: r2(temp),
            implausibleHighC: p.sensors.implausibleHighC,
          });
        }
      } else if (flags & F_IMPLAUSIBLE) {
        flags &= ~F_IMPLAUSIBLE;
        const inc = this.#open.get(`sensor_implausible|${ix.sensorIds[s]}`);
        if (inc) this.#resolve(inc, ts, ts);
      }
      // Window-open pattern (§E.5): a sharp drop against the recent maximum holds the room
      // at its pre-drop value until it recovers or the recovery window runs out.
      const base = s * RING;
      if (flags & F_WINDOW) {
        if (temp >= this.#sWinRef[s]! - p.sensors.windowRecoverToWithinC) flags &= ~F_WINDOW;
        else if (ts - this.#sWinSince[s]! > this.#recoverWithinMs) {
          // Not a window after all: the shortfall counts from when the drop began.
          flags &= ~F_WINDOW;
          const a = ix.sensorApt[s]!;
          if (!(this.#aHint[a]! <= this.#sWinSince[s]!)) this.#aHint[a] = this.#sWinSince[s]!;
        }
      } else {
        const lo = ts - this.#dropWithinMs;
        let max = Number.NEGATIVE_INFINITY;
        let maxTs = Number.NaN;
        for (let k = base; k < base + RING; k++) {
          const t = this.#sRingTs[k]!;
          const v = this.#sRingT[k]!;
          // The latest of equal maxima: the drop began after it.
          if (t >= lo && (v > max || (v === max && t > maxTs))) {
            max = v;
            maxTs = t;
          }
        }
        if (max - temp >= p.sensors.windowDropC) {
          flags |= F_WINDOW;
          this.#sWinRef[s] = max;
          this.#sWinSince[s] = maxTs;
        }
      }
      const pos = this.#sRingPos[s]!;
      this.#sRingTs[base + pos] = ts;
      this.#sRingT[base + pos] = temp;
      this.#sRingPos[s] = pos + 1 === RING ? 0 : pos + 1;
      this.#sTemp[s] = temp;
    }
    this.#sFlags[s] = flags;
    if (ix.sensorCounted[s] && temp !== undefined) this.#evalApartment(ix.sensorApt[s]!, ts, inSeason);
  }

  #openDevice(s: number, kind: IncidentKind, startTs: number, severity: Severity, evidence: Incident['evidence']): void {
    const ix = this.#ix;
    const a = ix.sensorApt[s]!;
    const b = ix.aptBuilding[a]!;
    const st = ix.aptStation[a]!;
    this.#openIncident(kind, 'device', ix.sensorIds[s]!, startTs, this.#sLastTs[s]!, severity, 'not_a_fault', evidence, {
      stationId: st >= 0 ? ix.stationIds[st] : undefined,
      buildingId: b >= 0 ? ix.buildingIds[b] : undefined,
      apartmentId: ix.aptIds[a],
    });
  }

  /** N32: area-weighted mean of counted rooms with a valid value; NaN when none. */
  #apartmentValue(a: number, ts: number): { value: number; measured: number; areaM2: number } {
    const ix = this.#ix;
    const rooms = ix.aptMeasuredRooms[a]!;
    let area = 0;
    let sum = 0;
    let measured = 0;
    for (let i = 0; i < rooms.length; i++) {
      const room = rooms[i]!;
      const sensors = ix.roomSensors[room]!;
      let rs = 0;
      let rn = 0;
      for (let j = 0; j < sensors.length; j++) {
        const s = sensors[j]!;
        const fl = this.#sFlags[s]!;
        // Offline (stale), stuck and implausible sensors say nothing about the room.
        if (fl & (F_STUCK | F_IMPLAUSIBLE) || !(ts - this.#sLastTs[s]! <= ix.sensorOfflineMs[s]!)) continue;
        rs += fl & F_WINDOW ? this.#sWinRef[s]! : this.#sTemp[s]!;
        rn++;
      }
      if (rn === 0) continue;
      const ar = ix.roomArea[room]!;
      area += ar;
      sum += (ar * rs) / rn; // N32: room value = mean of its points
      measured++;
    }
    return { value: measured ? sum / area : Number.NaN, measured, areaM2: area };
  }

  #evalApartment(a: number, ts: number, inSeason: boolean): void {
    const { value: v } = this.#apartmentValue(a, ts);
    const std = this.#std;
    const ix = this.#ix;

    // N2 evidence: the previous value held from the previous evaluation until now.
    const prevTs = this.#aLastEval[a]!;
    const prevV = this.#aLastVal[a]!;
    if (prevV < std && ts > prevTs) this.#accumulate(a, prevTs, Math.min(ts, prevTs + ix.aptStaleMs[a]!));
    this.#aLastEval[a] = ts;
    this.#aLastVal[a] = v;
    // Neighbour evidence (§E.3/§E.4) counts apartments below the standard now; no value = not below.
    const below = v < std ? 1 : 0;
    if (below !== this.#aBelowNow[a]) {
      this.#aBelowNow[a] = below;
      const b = ix.aptBuilding[a]!;
      if (b >= 0) this.#bBelowNow[b]! += below ? 1 : -1;
    }
    if (Number.isNaN(v)) return;

    const inc = this.#aInc[a];
    if (!inc) {
      let since = this.#aBelowSince[a]!;
      if (below) {
        if (Number.isNaN(since)) {
          const hint = this.#aHint[a]!;
          since = hint <= ts ? hint : ts;
          this.#aBelowSince[a] = since;
        }
        this.#aHint[a] = Number.NaN;
        this.#aAboveStdSince[a] = Number.NaN;
        if (ts - since >= this.#openAfterMs && inSeason) this.#openCold(a, since, ts, v);
      } else {
        this.#aHint[a] = Number.NaN;
        if (!Number.isNaN(since)) {
          // Hysteresis on the way in too: only a clear recovery cancels the candidate.
          if (v >= this.#resolveAt) this.#aBelowSince[a] = Number.NaN;
          else {
            let above = this.#aAboveStdSince[a]!;
            if (Number.isNaN(above)) above = this.#aAboveStdSince[a] = ts;
            if (ts - above >= this.#resolveAfterMs) {
              this.#aBelowSince[a] = Number.NaN;
              this.#aAboveStdSince[a] = Number.NaN;
            }
          }
        }
      }
    } else if (v >= this.#resolveAt) {
      let rec = this.#aRecoverSince[a]!;
      if (Number.isNaN(rec)) rec = this.#aRecoverSince[a] = ts;
      if (ts - rec >= this.#resolveAfterMs) this.#resolveCold(a, rec, ts);
    } else this.#aRecoverSince[a] = Number.NaN;
  }

  /** Add [from, to) to the apartment's per-day below-standard minutes, split at local midnight (N2, N3). */
  #accumulate(a: number, from: number, to: number): void {
    const season = this.#season;
    let m = this.#aCompliance[a];
    while (from < to) {
      const day = season.dayIndex(from);
      const dayEnd = (day + 1) * 86_400_000 - this.#policy.utcOffsetMinutes * MINUTE_MS;
      const end = to < dayEnd ? to : dayEnd;
      if (season.inSeasonDay(day)) {
        if (!m) m = this.#aCompliance[a] = new Map();
        let v = m.get(day);
        if (!v) m.set(day, (v = [0, 0]));
        v[0]! += end - from;
        if (this.#exemptDay(this.#ix.aptStation[a]!, day)) v[1]! += end - from;
      }
      from = end;
    }
  }

  /** N3 outdoor day mean so far for the station (falls back to the city-wide mean). */
  #outdoorDayMean(st: number, day: number): number {
    if (st >= 0 && this.#stOdDay[st] === day && this.#stOdCount[st]! > 0) return this.#stOdSum[st]! / this.#stOdCount[st]!;
    if (this.#gOdDay === day && this.#gOdCount > 0) return this.#gOdSum / this.#gOdCount;
    return Number.NaN;
  }

  #exemptDay(st: number, day: number): boolean {
    return this.#outdoorDayMean(st, day) < this.#policy.comfort.designOutdoorC; // N3
  }

  #openCold(a: number, startTs: number, at: number, v: number): void {
    const ix = this.#ix;
    const st = ix.aptStation[a]!;
    const b = ix.aptBuilding[a]!;
    const day = this.#season.dayIndex(at);
    const exempt = this.#exemptDay(st, day);
    const inc = this.#openIncident(
      'apartment_cold',
      'apartment',
      ix.aptIds[a]!,
      startTs,
      at,
      exempt ? 'minor' : 'major',
      'unknown',
      {},
      {
        stationId: st >= 0 ? ix.stationIds[st] : undefined,
        buildingId: b >= 0 ? ix.buildingIds[b] : undefined,
        apartmentId: ix.aptIds[a],
      },
      true,
    );
    if (exempt) inc.exempt = true;
    this.#aInc[a] = inc;
    this.#aBelowSince[a] = Number.NaN;
    this.#aAboveStdSince[a] = Number.NaN;
    this.#aRecoverSince[a] = Number.NaN;
    this.#classify(a, inc, at, v, true);
    this.#emit('opened', at, inc);
    if (st >= 0) this.#reconcileStation(st, at);
  }

  #resolveCold(a: number, endTs: number, at: number): void {
    const inc = this.#aInc[a]!;
    const ix = this.#ix;
    this.#aInc[a] = undefined;
    this.#aRecoverSince[a] = Number.NaN;
    inc.evidence.resolvedAtC = r2(this.#aLastVal[a]!);
    this.#resolve(inc, endTs, at);
    if (inc.parentId !== undefined && this.#openIds.has(inc.parentId)) {
      const kids = this.#resolvedKids.get(inc.parentId) ?? [];
      if (!kids.includes(inc.subjectId)) kids.push(inc.subjectId);
      this.#resolvedKids.set(inc.parentId, kids);
    }
    const st = ix.aptStation[a]!;
    if (st >= 0) this.#reconcileStation(st, at);
  }

  /**
   * heating-norms §E: decide parent and cause of an open apartment incident and refresh its
   * evidence. Returns true when parent or cause changed.
   */
  #classify(a: number, inc: Incident, at: number, v: number, initial = false): boolean {
    const ix = this.#ix;
    const st = ix.aptStation[a]!;
    const b = ix.aptBuilding[a]!;
    const std = this.#std;
    // A station fault explains only shortfalls that began after it did: an apartment already
    // cold before the pump stopped has its own cause.
    const stFault = st >= 0 ? this.#stFaultInc[st] : undefined;
    const fault = stFault !== undefined && inc.startTs >= stFault.startTs ? stFault : undefined;
    let parent: Incident | undefined = fault ?? (st >= 0 ? this.#stColdInc[st] : undefined);
    if (!parent && b >= 0) parent = this.#bColdInc[b];
    const srcInc = fault !== undefined ? this.#upstreamFor(st) : undefined;
    const sourceDown = srcInc !== undefined;
    // Without a group to join, the cause decided at opening stands (the neighbours' state then
    // was the evidence), and a settled incident keeps its resolved parent.
    const settled = this.#settled(inc);
    const standing = initial ? settled : inc.parentId === undefined || settled;
    if (!parent && !sourceDown && standing) return false;

    // Neighbours: other monitored apartments of the building below the standard now.
    const others = b >= 0 ? ix.buildingMonitored[b]! - 1 : 0;
    const coldOthers = b >= 0 ? this.#bBelowNow[b]! - this.#aBelowNow[a]! : 0;
    const share = others > 0 ? coldOthers / others : 0;
    const above = ix.aptAbove[a]!;
    const aboveC = above >= 0 ? this.#aLastVal[above]! : Number.NaN;
    const aboveCold = aboveC < std;

    let cause: CauseClass;
    if (sourceDown) cause = 'heat_source';
    else if (parent) cause = parent.cause; // a child's cause follows its group
    else if (others === 0 && Number.isNaN(aboveC)) cause = 'unknown';
    else if (aboveCold || share >= this.#policy.grouping.buildingColdShare) cause = 'building'; // §E.3 riser
    else cause = 'in_home'; // §E.4
    const parentId = parent?.id ?? (sourceDown ? srcInc.id : undefined);
    const changed = inc.cause !== cause || inc.parentId !== parentId;
    // Evidence is what decided the cause: refreshed only when the decision is (re)made.
    if (!initial && !changed) return false;

    const { measured, areaM2 } = this.#apartmentValue(a, this.#aLastEval[a]!);
    const counted = ix.aptCountedRooms[a]!;
    const faultBits = st >= 0 ? this.#stConfirmed[st]! : 0;
    const stationState =
      st < 0 || !ix.stationHasMeter[st]
        ? 'unmetered'
        : faultBits
          ? `fault:${faultNames(faultBits)}`
          : this.#stationSilent(st)
            ? 'silent'
            : Number.isNaN(this.#stVals[st * FIELD_COUNT + STATION_SLOT.secondarySupplyTemp]!)
              ? 'no_data'
              : 'ok';
    const outdoor = this.#outdoorDayMean(st, this.#season.dayIndex(at));
    const ev = inc.evidence;
    ev.apartmentC = r2(v);
    ev.standardC = std;
    ev.coverage = measured < counted ? 'partial' : 'full'; // N32
    ev.roomsCounted = counted;
    ev.roomsMeasured = measured;
    ev.areaMeasuredM2 = r2(areaM2);
    ev.stationState = stationState;
    ev.coldNeighbourShare = r2(share);
    ev.monitoredNeighbours = others;
    ev.aboveApartmentId = above >= 0 ? ix.aptIds[above]! : null;
    ev.aboveC = r2(aboveC);
    ev.outdoorDayMeanC = r2(outdoor);
    inc.cause = cause;
    if (parentId === undefined) delete inc.parentId;
    else inc.parentId = parentId;
    return changed;
  }

  /** An apartment incident whose group parent has resolved: its cause stays as decided. */
  #settled(inc: Incident): boolean {
    return inc.parentId !== undefined && !this.#openIds.has(inc.parentId);
  }

  #stationSilent(st: number): boolean {
    return this.#open.has(`station_silent|${this.#ix.stationIds[st]}`);
  }

  // ───────────────────────────── grouping ─────────────────────────────

  /**
   * Re-decide a station's group incidents and its apartments' parents (§E). Runs only on
   * incident transitions, never per reading. Order of events: groups opened/resolved, then
   * apartments updated, then groups whose children changed.
   */
  #reconcileStation(st: number, at: number): void {
    const ix = this.#ix;
    const g = this.#policy.grouping;
    const inSeason = this.#season.inSeason(at);
    const fault = this.#stFaultInc[st];
    const opened: Incident[] = [];
    const stId = ix.stationIds[st]!;

    // Cold apartments that still need a group: those whose parent already resolved keep
    // that parent (the cause was decided) and no longer count towards a new group.
    let stCold = 0;
    const bCold = this.#bScratch;
    for (const a of ix.stationApts[st]!) {
      const inc = this.#aInc[a];
      if (!inc || this.#settled(inc)) continue;
      stCold++;
      bCold[ix.aptBuilding[a]!]!++;
    }
    let sc = this.#stColdInc[st];
    const mon = ix.stationMonitored[st]!;
    const share = mon > 0 ? stCold / mon : 0;
    if (fault) {
      if (sc) {
        this.#mergeGroup(sc, fault, at);
        sc = this.#stColdInc[st] = undefined;
      }
    } else if (!sc) {
      if (inSeason && mon >= g.minMonitored && share >= g.stationColdShare) {
        sc = this.#stColdInc[st] = this.#newGroup('station_cold', 'station', stId, at, 'critical', 'station', stId, undefined);
        sc.evidence.coldShare = r2(share);
        sc.evidence.monitored = mon;
        opened.push(sc);
      }
    } else if (share < g.stationColdShare * g.resolveShareRatio) {
      sc.evidence.coldShare = r2(share);
      this.#resolve(sc, at, at);
      sc = this.#stColdInc[st] = undefined;
    }
    const stationParent = fault ?? sc;
    for (const b of ix.stationBuildings[st]!) {
      let bc = this.#bColdInc[b];
      const bm = ix.buildingMonitored[b]!;
      const bs = bm > 0 ? bCold[b]! / bm : 0;
      bCold[b] = 0;
      if (stationParent) {
        if (bc) {
          this.#mergeGroup(bc, stationParent, at);
          this.#bColdInc[b] = undefined;
        }
      } else if (!bc) {
        if (inSeason && bm >= g.minMonitored && bs >= g.buildingColdShare) {
          bc = this.#bColdInc[b] = this.#newGroup('building_cold', 'building', ix.buildingIds[b]!, at, 'major', 'building', stId, ix.buildingIds[b]);
          bc.evidence.coldShare = r2(bs);
          bc.evidence.monitored = bm;
          opened.push(bc);
        }
      } else if (bs < g.buildingColdShare * g.resolveShareRatio) {
        bc.evidence.coldShare = r2(bs);
        this.#resolve(bc, at, at);
        this.#bColdInc[b] = undefined;
      }
    }

    // Source-level cause for the station's own incidents.
    const srcInc = this.#upstreamFor(st);
    const sourceDown = srcInc !== undefined;
    const groupChanged: Incident[] = [];
    for (const gi of [fault, sc]) {
      if (!gi) continue;
      const cause: CauseClass = sourceDown ? 'heat_source' : 'station';
      const pid = sourceDown ? srcInc.id : undefined;
      if (gi.cause !== cause || gi.parentId !== pid) {
        gi.cause = cause;
        if (pid === undefined) delete gi.parentId;
        else gi.parentId = pid;
        if (!opened.includes(gi)) groupChanged.push(gi);
      }
    }

    const aptChanged: Incident[] = [];
    const children = new Map<Incident, string[]>();
    for (const a of ix.stationApts[st]!) {
      const inc = this.#aInc[a];
      if (!inc) continue;
      if (this.#classify(a, inc, at, this.#aLastVal[a]!)) aptChanged.push(inc);
    }
    // Children lists in topology order (deterministic).
    const groups: Incident[] = [];
    if (fault) groups.push(fault);
    if (sc) groups.push(sc);
    for (const b of ix.stationBuildings[st]!) {
      const bc = this.#bColdInc[b];
      if (bc) groups.push(bc);
    }
    for (const gi of groups) children.set(gi, []);
    const byId = new Map(groups.map((gi) => [gi.id, gi]));
    for (const a of ix.stationApts[st]!) {
      const inc = this.#aInc[a];
      const aptId = ix.aptIds[a]!;
      const gi = inc?.parentId !== undefined ? byId.get(inc.parentId) : undefined;
      if (gi) children.get(gi)!.push(aptId);
      // A resolved child still points to its group (topology order either way).
      for (const g2 of groups) if (g2 !== gi && this.#resolvedKids.get(g2.id)?.includes(aptId)) children.get(g2)!.push(aptId);
    }
    for (const gi of groups) {
      const kids = children.get(gi)!;
      const old = gi.children ?? [];
      const same = old.length === kids.length && old.every((x, i) => x === kids[i]);
      gi.children = kids;
      if (!same && !opened.includes(gi) && !groupChanged.includes(gi)) groupChanged.push(gi);
    }
    for (const gi of opened) {
      this.#register(gi);
      this.#emit('opened', at, gi);
    }
    for (const inc of aptChanged) this.#emit('updated', at, inc);
    for (const gi of groupChanged) this.#emit('updated', at, gi);
  }

  #newGroup(
    kind: IncidentKind,
    subjectType: SubjectType,
    subjectId: string,
    at: number,
    severity: Severity,
    cause: CauseClass,
    stationId: string | undefined,
    buildingId: string | undefined,
  ): Incident {
    const inc = this.#makeIncident(kind, subjectType, subjectId, at, severity, cause, {}, { stationId, buildingId });
    inc.children = [];
    return inc;
  }

  /** A lower group swallowed by a higher one (building → station): resolve it, naming the survivor. */
  #mergeGroup(inc: Incident, into: Incident, at: number): void {
    inc.evidence.mergedInto = into.id;
    // Its open children move to the survivor; only resolved ones still point here.
    inc.children = [...(this.#resolvedKids.get(inc.id) ?? [])];
    this.#resolve(inc, at, at);
  }

  /** The open heat-source (or branch) incident that lists this station, if any (§E.1). */
  #upstreamFor(st: number): Incident | undefined {
    if (st < 0) return undefined;
    const id = this.#ix.stationIds[st]!;
    const src = this.#upInc[this.#ix.stationSource[st]!];
    if (src?.children!.includes(id)) return src;
    const bg = this.#stBranch[st]!;
    const br = bg >= 0 ? this.#upInc[bg] : undefined;
    return br?.children!.includes(id) ? br : undefined;
  }

  /**
   * §E.1: many stations of one heat source (or of one primary branch) with secondary supply
   * below their curve at once → one source_cold incident; the source swallows its branches.
   */
  #reconcileSource(src: number, at: number): void {
    let changed = this.#reconcileUpstream(src, at, undefined);
    const srcInc = this.#upInc[src];
    for (let g = this.#ix.sourceIds.length; g < this.#upIds.length; g++)
      if (this.#upSource[g] === src && this.#reconcileUpstream(g, at, srcInc)) changed = true;
    if (changed) for (const st of this.#ix.sourceStations[src]!) this.#reconcileStation(st, at);
  }

  #reconcileUpstream(g: number, at: number, swallowedBy: Incident | undefined): boolean {
    const ix = this.#ix;
    const gp = this.#policy.grouping;
    let metered = 0;
    const low: string[] = [];
    let primarySum = 0;
    for (const st of this.#upStations[g]!) {
      if (!ix.stationHasMeter[st]) continue;
      metered++;
      if (this.#stConfirmed[st]! & FAULT_CURVE) {
        low.push(ix.stationIds[st]!);
        primarySum += this.#stVals[st * FIELD_COUNT + STATION_SLOT.primarySupplyTemp]!;
      }
    }
    const share = metered > 0 ? low.length / metered : 0;
    const isSource = g < ix.sourceIds.length;
    let inc = this.#upInc[g];
    if (swallowedBy) {
      if (!inc) return false;
      this.#mergeGroup(inc, swallowedBy, at);
      this.#upInc[g] = undefined;
      return true;
    }
    if (!inc) {
      if (!(this.#season.inSeason(at) && metered >= gp.minSourceStations && low.length >= gp.minSourceStations && share >= gp.sourceStationShare))
        return false;
      inc = this.#upInc[g] = this.#newGroup('source_cold', 'source', this.#upIds[g]!, at, 'critical', 'heat_source', undefined, undefined);
      inc.children = low;
      inc.evidence.scope = isSource ? 'source' : 'branch';
      inc.evidence.sourceId = ix.sourceIds[this.#upSource[g]!]!;
      inc.evidence.lowStationShare = r2(share);
      inc.evidence.meteredStations = metered;
      inc.evidence.lowStationsPrimarySupplyC = r2(primarySum / low.length);
      this.#register(inc);
      this.#emit('opened', at, inc);
      return true;
    }
    if (share < gp.sourceStationShare * gp.resolveShareRatio) {
      inc.evidence.lowStationShare = r2(share);
      this.#resolve(inc, at, at);
      this.#upInc[g] = undefined;
      return true;
    }
    const old = inc.children!;
    // Stations that recovered stay listed until the incident resolves (history); newly low ones join.
    const merged = this.#upStations[g]!.map((st) => ix.stationIds[st]!).filter((id) => low.includes(id) || old.includes(id));
    if (merged.length === old.length) return false;
    inc.children = merged;
    inc.evidence.lowStationShare = r2(share);
    this.#emit('updated', at, inc);
    return true;
  }

  // ───────────────────────────── station meters ─────────────────────────────

  #ingestMeter(mi: number, r: Reading): void {
    const ts = r.ts;
    if (ts <= this.#mLastTs[mi]!) return;
    const ix = this.#ix;
    const st = ix.meterStation[mi]!;
    const last = this.#mLastTs[mi]!;
    if (this.#mSilent[mi]) {
      this.#mSilent[mi] = 0;
      const inc = this.#open.get(`station_silent|${ix.stationIds[st]}`);
      if (inc) this.#resolve(inc, ts, ts);
    } else if (ts - last > this.#silentMs) {
      // A gap inside a backlog: live, the station would have been silent until now.
      const dl = last + this.#silentMs;
      const inc = this.#silentIncident(mi, dl);
      if (inc) this.#resolve(inc, ts, ts);
    }
    this.#mLastTs[mi] = ts;
    const heard = this.#now - ts > this.#silentMs ? this.#now : ts;
    this.#mHeard[mi] = heard;
    const dl = this.#deadline(ts, heard, this.#silentMs);
    if (dl < this.#nextDeadline) this.#nextDeadline = dl;
    const f = r.fields;
    const vals = this.#stVals;
    const base = st * FIELD_COUNT;
    for (let k = 0; k < FIELD_COUNT; k++) {
      const v = f[STATION_FIELDS[k]!];
      if (v !== undefined) vals[base + k] = v;
    }
    const outdoor = f.outdoorTemp;
    if (outdoor !== undefined) {
      const day = this.#season.dayIndex(ts);
      if (this.#stOdDay[st] !== day) {
        this.#stOdDay[st] = day;
        this.#stOdSum[st] = 0;
        this.#stOdCount[st] = 0;
      }
      this.#stOdSum[st]! += outdoor;
      this.#stOdCount[st]!++;
      if (this.#gOdDay !== day) {
        this.#gOdDay = day;
        this.#gOdSum = 0;
        this.#gOdCount = 0;
      }
      this.#gOdSum += outdoor;
      this.#gOdCount++;
    }

    const bits = stationFaultBits(vals, base, this.#policy, ix.stationFloor[st] ? 'floor' : 'radiator');
    const fb = st * NFAULT;
    let confirmed = 0;
    let startTs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < NFAULT; i++) {
      if (bits & (1 << i)) {
        let since = this.#stFaultSince[fb + i]!;
        if (Number.isNaN(since)) since = this.#stFaultSince[fb + i] = ts;
        if (ts - since >= this.#confirmMs) {
          confirmed |= 1 << i;
          if (since < startTs) startTs = since;
        }
      } else this.#stFaultSince[fb + i] = Number.NaN;
    }
    const prev = this.#stConfirmed[st]!;
    let inc = this.#stFaultInc[st];
    let stationChanged = false;
    if (confirmed && !inc) {
      if (this.#season.inSeason(ts)) {
        inc = this.#makeIncident('station_fault', 'station', ix.stationIds[st]!, startTs, confirmed & (FAULT_PUMP | FAULT_LEAK) ? 'critical' : 'major', 'station', {}, {
          stationId: ix.stationIds[st],
        });
        inc.children = [];
        this.#stationEvidence(inc, st, confirmed);
        this.#stFaultInc[st] = inc;
        this.#register(inc);
        this.#emit('opened', ts, inc);
        stationChanged = true;
      } else confirmed = 0;
    } else if (confirmed && inc && confirmed !== prev) {
      inc.severity = confirmed & (FAULT_PUMP | FAULT_LEAK) ? 'critical' : 'major';
      this.#stationEvidence(inc, st, confirmed);
      this.#emit('updated', ts, inc);
    } else if (!confirmed && inc) {
      this.#stationEvidence(inc, st, prev);
      inc.evidence.cleared = true;
      this.#stFaultInc[st] = undefined;
      this.#resolve(inc, ts, ts);
      stationChanged = true;
    }
    this.#stConfirmed[st] = confirmed;
    if ((prev ^ confirmed) & FAULT_CURVE) this.#reconcileSource(ix.stationSource[st]!, ts);
    if (stationChanged) this.#reconcileStation(st, ts);
  }

  #stationEvidence(inc: Incident, st: number, bits: number): void {
    const v = this.#stVals;
    const base = st * FIELD_COUNT;
    const S = STATION_SLOT;
    const outdoor = v[base + S.outdoorTemp]!;
    const ev = inc.evidence;
    ev.faults = faultNames(bits);
    ev.pumpHz = r2(v[base + S.pumpHz]!);
    ev.secondarySupplyC = r2(v[base + S.secondarySupplyTemp]!);
    ev.curveSetpointC = Number.isNaN(outdoor) ? null : r2(heatingCurveSetpointC(outdoor, this.#policy, this.#ix.stationFloor[st] ? 'floor' : 'radiator'));
    ev.outdoorC = r2(outdoor);
    ev.primaryDeltaC = r2(v[base + S.primarySupplyTemp]! - v[base + S.primaryReturnTemp]!);
    ev.valvePct = r2(v[base + S.valvePct]!);
    ev.secondarySupplyPressureMPa = r2(v[base + S.secondarySupplyPressure]!);
    ev.makeupFlowM3h = r2(v[base + S.makeupFlow]!);
  }

  // ───────────────────────────── time-outs ─────────────────────────────

  /** Offline sensors and silent meters whose deadline passed; remembers the next deadline. */
  #scanDeadlines(ts: number): void {
    const ix = this.#ix;
    let next = Number.POSITIVE_INFINITY;
    const nS = ix.sensorIds.length;
    for (let s = 0; s < nS; s++) {
      const fl = this.#sFlags[s]!;
      if (!(fl & F_SEEN) || fl & F_OFFLINE) continue;
      const dl = this.#deadline(this.#sLastTs[s]!, this.#sHeard[s]!, ix.sensorOfflineMs[s]!);
      if (dl > ts) {
        if (dl < next) next = dl;
        continue;
      }
      this.#sFlags[s] = fl | F_OFFLINE;
      if (this.#season.inSeason(dl)) this.#offlineIncident(s, dl);
    }
    for (let m = 0; m < ix.meterIds.length; m++) {
      const last = this.#mLastTs[m]!;
      if (Number.isNaN(last) || this.#mSilent[m]) continue;
      const dl = this.#deadline(last, this.#mHeard[m]!, this.#silentMs);
      if (dl > ts) {
        if (dl < next) next = dl;
        continue;
      }
      this.#mSilent[m] = 1;
      this.#silentIncident(m, dl);
    }
    this.#nextDeadline = next;
  }

  /**
   * Time-out of a device: its own data says last + limit; a device heard from during a
   * backlog (heard > last) also gets the catch-up grace from when it was heard. Old snapshots
   * have no heard time (NaN): the data decides.
   */
  #deadline(lastTs: number, heard: number, limitMs: number): number {
    const own = lastTs + limitMs;
    if (!(heard > lastTs)) return own;
    const late = heard + this.#graceMs;
    return late > own ? late : own;
  }

  /** §E.5: open sensor_offline for sensor s, detected at `at` (its deadline). */
  #offlineIncident(s: number, at: number): Incident {
    const ix = this.#ix;
    const a = ix.sensorApt[s]!;
    const b = ix.aptBuilding[a]!;
    const st = ix.aptStation[a]!;
    return this.#openIncident(
      'sensor_offline',
      'device',
      ix.sensorIds[s]!,
      this.#sLastTs[s]!,
      at,
      'minor',
      'not_a_fault',
      { lastSeenTs: this.#sLastTs[s]!, offlineAfterMin: ix.sensorOfflineMs[s]! / MINUTE_MS },
      { stationId: st >= 0 ? ix.stationIds[st] : undefined, buildingId: b >= 0 ? ix.buildingIds[b] : undefined, apartmentId: ix.aptIds[a] },
    );
  }

  /** Open station_silent for meter m at `at` (in season, one per station); undefined when none opened. */
  #silentIncident(m: number, at: number): Incident | undefined {
    const ix = this.#ix;
    const last = this.#mLastTs[m]!;
    const stId = ix.stationIds[ix.meterStation[m]!]!;
    if (!this.#season.inSeason(at) || this.#open.has(`station_silent|${stId}`)) return undefined;
    return this.#openIncident('station_silent', 'station', stId, last, at, 'major', 'unknown', { lastSeenTs: last, meterId: ix.meterIds[m]!, silentAfterMin: this.#policy.station.silentAfterMin }, { stationId: stId });
  }

  // ───────────────────────────── incidents ─────────────────────────────

  #makeIncident(
    kind: IncidentKind,
    subjectType: SubjectType,
    subjectId: string,
    startTs: number,
    severity: Severity,
    cause: CauseClass,
    evidence: Incident['evidence'],
    where: { stationId?: string | undefined; buildingId?: string | undefined; apartmentId?: string | undefined },
  ): Incident {
    const inc: Incident = {
      id: `${kind}:${subjectId}:${startTs}`,
      kind,
      subjectType,
      subjectId,
      status: 'open',
      startTs,
      severity,
      cause,
      evidence,
    };
    if (where.stationId !== undefined) inc.stationId = where.stationId;
    if (where.buildingId !== undefined) inc.buildingId = where.buildingId;
    if (where.apartmentId !== undefined) inc.apartmentId = where.apartmentId;
    return inc;
  }

  #openIncident(
    kind: IncidentKind,
    subjectType: SubjectType,
    subjectId: string,
    startTs: number,
    at: number,
    severity: Severity,
    cause: CauseClass,
    evidence: Incident['evidence'],
    where: { stationId?: string | undefined; buildingId?: string | undefined; apartmentId?: string | undefined },
    silent = false,
  ): Incident {
    const inc = this.#makeIncident(kind, subjectType, subjectId, startTs, severity, cause, evidence, where);
    this.#register(inc);
    if (!silent) this.#emit('opened', at, inc);
    return inc;
  }

  #register(inc: Incident): void {
    this.#open.set(`${inc.kind}|${inc.subjectId}`, inc);
    this.#openIds.add(inc.id);
  }

  #resolve(inc: Incident, endTs: number, at: number): void {
    inc.status = 'resolved';
    inc.endTs = endTs;
    this.#open.delete(`${inc.kind}|${inc.subjectId}`);
    this.#openIds.delete(inc.id);
    this.#emit('resolved', at, inc);
    this.#resolvedKids.delete(inc.id);
  }

  #emit(type: IncidentEvent['type'], at: number, inc: Incident): void {
    // Every event is a new state of the incident: consumers keep the highest revision (an
    // update at the same event time as the opening is not a duplicate).
    inc.revision = (inc.revision ?? 0) + 1;
    this.#out.push({ type, at, incident: cloneIncident(inc) });
  }

  // ───────────────────────────── restore ─────────────────────────────

  #load(s: EngineSnapshot): void {
    const ix = this.#ix;
    this.#now = fromJson(s.now);
    this.#nextDeadline = Number.NEGATIVE_INFINITY;
    s.sensors.ids.forEach((id, i) => {
      const k = ix.sensorOf.get(id);
      if (k === undefined) return;
      this.#sLastTs[k] = fromJson(s.sensors.lastTs[i]);
      this.#sTemp[k] = fromJson(s.sensors.temp[i]);
      this.#sFlags[k] = s.sensors.flags[i] ?? 0;
      this.#sStuckSince[k] = fromJson(s.sensors.stuckSince[i]);
      this.#sStuckVal[k] = fromJson(s.sensors.stuckValue[i]);
      this.#sWinRef[k] = fromJson(s.sensors.windowRef[i]);
      this.#sWinSince[k] = fromJson(s.sensors.windowSince[i]);
      this.#sRingPos[k] = s.sensors.ringPos[i] ?? 0;
      this.#sHeard[k] = fromJson(s.sensors.heard?.[i]);
      for (let j = 0; j < RING; j++) {
        this.#sRingTs[k * RING + j] = fromJson(s.sensors.ringTs[i * RING + j]);
        this.#sRingT[k * RING + j] = fromJson(s.sensors.ringTemp[i * RING + j]);
      }
    });
    const A = s.apartments;
    A.ids.forEach((id, i) => {
      const a = ix.aptOf.get(id);
      if (a === undefined) return;
      this.#aBelowSince[a] = fromJson(A.belowSince[i]);
      this.#aAboveStdSince[a] = fromJson(A.aboveStdSince[i]);
      this.#aRecoverSince[a] = fromJson(A.recoverSince[i]);
      this.#aLastEval[a] = fromJson(A.lastEval[i]);
      this.#aLastVal[a] = fromJson(A.lastValue[i]);
      this.#aHint[a] = fromJson(A.hint[i]);
    });
    for (const [id, day, below, exempt] of A.compliance) {
      const a = ix.aptOf.get(id);
      if (a === undefined) continue;
      let m = this.#aCompliance[a];
      if (!m) m = this.#aCompliance[a] = new Map();
      m.set(day, [below, exempt]);
    }
    const stOf = new Map(ix.stationIds.map((id, i) => [id, i]));
    const S = s.stations;
    S.ids.forEach((id, i) => {
      const st = stOf.get(id);
      if (st === undefined) return;
      for (let k = 0; k < FIELD_COUNT; k++) this.#stVals[st * FIELD_COUNT + k] = fromJson(S.values[i * FIELD_COUNT + k]);
      for (let k = 0; k < NFAULT; k++) this.#stFaultSince[st * NFAULT + k] = fromJson(S.faultSince[i * NFAULT + k]);
      this.#stConfirmed[st] = S.confirmed[i] ?? 0;
      this.#stOdDay[st] = fromJson(S.outdoorDay[i]);
      this.#stOdSum[st] = S.outdoorSum[i] ?? 0;
      this.#stOdCount[st] = S.outdoorCount[i] ?? 0;
    });
    const M = s.meters;
    M.ids.forEach((id, i) => {
      const m = ix.meterOf.get(id);
      if (m === undefined) return;
      this.#mLastTs[m] = fromJson(M.lastTs[i]);
      this.#mSilent[m] = M.silent[i] ?? 0;
      this.#mHeard[m] = fromJson(M.heard?.[i]);
    });
    this.#gOdDay = fromJson(s.outdoor[0]);
    this.#gOdSum = s.outdoor[1];
    this.#gOdCount = s.outdoor[2];

    for (const [gid, kids] of Object.entries(s.resolvedChildren ?? {})) this.#resolvedKids.set(gid, [...kids]);
    const bOf = new Map(ix.buildingIds.map((id, i) => [id, i]));
    for (const raw of s.open) {
      const inc = cloneIncident(raw);
      this.#register(inc);
      if (inc.kind === 'apartment_cold') {
        const a = ix.aptOf.get(inc.subjectId);
        if (a !== undefined) this.#aInc[a] = inc;
      } else if (inc.kind === 'building_cold') {
        const b = bOf.get(inc.subjectId);
        if (b !== undefined) this.#bColdInc[b] = inc;
      } else if (inc.kind === 'station_cold') {
        const st = stOf.get(inc.subjectId);
        if (st !== undefined) this.#stColdInc[st] = inc;
      } else if (inc.kind === 'station_fault') {
        const st = stOf.get(inc.subjectId);
        if (st !== undefined) this.#stFaultInc[st] = inc;
      } else if (inc.kind === 'source_cold') {
        const g = this.#upOf.get(inc.subjectId);
        if (g !== undefined) this.#upInc[g] = inc;
      }
    }
    // Derived counters.
    for (let a = 0; a < ix.aptIds.length; a++) {
      const b = ix.aptBuilding[a]!;
      if (this.#aLastVal[a]! < this.#std) {
        this.#aBelowNow[a] = 1;
        if (b >= 0) this.#bBelowNow[b]!++;
      }
    }
  }
}
