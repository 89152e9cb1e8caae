/**
 * The rules engine (issue 5): which apartments are cold, since when, and why — composed here
 * from one module per rule, this file owning only the public API and the order things run in.
 *
 * Pure and event-time: the output is a function of the reading stream, the advanceTo calls
 * and the policy, nothing else — no wall clock, no randomness, deterministic iteration — so
 * the same code runs live in the ingest, at 1000× in replay and in tests, and a replay gives
 * byte-identical incidents.
 *
 * - engine.state.ts: the state (typed arrays by topology index) and policy constants;
 * - sensor.rule.ts: §E.5 device incidents and the N32 apartment value;
 * - cold.rule.ts: N2 cold apartments (Schmitt trigger), N1 season gate, N3 exemption;
 * - compliance.rule.ts: N2 minutes below standard per local day, N3 outdoor day means;
 * - grouping.rule.ts: §E root cause, parents, building/station groups;
 * - source.rule.ts: §E.1 heat-source and branch groups;
 * - meter.rule.ts: §E.2 station faults and silent stations;
 * - incident.registry.ts: open incidents, ids, revisions, events;
 * - snapshot.schema.ts / snapshot.codec.ts: the versioned on-disk state.
 */
import type { Incident, IncidentEvent } from '../incident.schema.ts';
import type { HeatingPolicy } from '../policy.ts';
import type { Reading } from '../reading.ts';
import type { City } from '../topology.schema.ts';
import { MINUTE_MS } from '../clock.ts';
import { evalApartment } from './cold.rule.ts';
import { dailyCompliance, dropComplianceBefore, type DailyCompliance } from './compliance.rule.ts';
import { RuleContext } from './engine.state.ts';
import { cloneIncident } from './incident.registry.ts';
import { ingestMeter, meterTimeouts } from './meter.rule.ts';
import { ingestSensor, sensorTimeouts } from './sensor.rule.ts';
import { decodeSnapshot, encodeSnapshot, loadSnapshot } from './snapshot.codec.ts';
import type { EngineSnapshot } from './snapshot.schema.ts';

export type { DailyCompliance } from './compliance.rule.ts';
export type { EngineSnapshot } from './snapshot.schema.ts';

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

export class RulesEngine {
  readonly #c: RuleContext;

  constructor(opts: RulesEngineOptions) {
    this.#c = new RuleContext(opts.city, opts.policy, opts.catchUpGraceMs ?? 2 * MINUTE_MS);
  }

  /** Feed one reading (event-time ordered per device). Returns the incident transitions it caused. */
  ingest(r: Reading): IncidentEvent[] {
    const c = this.#c;
    const out = c.incidents.collect();
    const ts = r.ts;
    if (!Number.isFinite(ts)) return out;
    if (!(ts <= c.now)) c.now = ts;
    const si = c.ix.sensorOf.get(r.deviceId);
    if (si !== undefined) {
      if (ingestSensor(c, si, r)) evalApartment(c, c.ix.sensorApt[si]!, ts);
    } else {
      const mi = c.ix.meterOf.get(r.deviceId);
      if (mi !== undefined) ingestMeter(c, mi, r);
    }
    return out;
  }

  /** Advance event time (max event time seen, or the clock): fires time-outs (offline sensors, silent stations). */
  advanceTo(ts: number): IncidentEvent[] {
    const c = this.#c;
    const out = c.incidents.collect();
    if (!Number.isFinite(ts)) return out;
    if (!(ts <= c.now)) c.now = ts;
    if (ts >= c.nextDeadline) c.nextDeadline = Math.min(sensorTimeouts(c, ts), meterTimeouts(c, ts));
    return out;
  }

  /** Every open incident, in the order they opened (deep copies). */
  openIncidents(): Incident[] {
    return Array.from(this.#c.incidents.values(), cloneIncident);
  }

  /** Current N32 apartment value, °C (NaN when no counted room has a valid reading). */
  apartmentValue(apartmentId: string): number {
    const a = this.#c.ix.aptOf.get(apartmentId);
    return a === undefined ? Number.NaN : this.#c.apartments.lastValue[a]!;
  }

  /** N2 evidence: minutes below the standard per apartment per local day, apartments in topology order, days ascending. */
  dailyCompliance(filter?: { apartmentId?: string }): DailyCompliance[] {
    return dailyCompliance(this.#c, filter);
  }

  /**
   * Forget compliance days before a local date ('YYYY-MM-DD') once the host has stored them,
   * so a long-running engine (and its snapshot) does not grow over seasons. Returns rows dropped.
   */
  dropComplianceBefore(date: string): number {
    return dropComplianceBefore(this.#c, date);
  }

  /** The state as plain JSON (snapshot.schema.ts, current version). */
  snapshot(): EngineSnapshot {
    return encodeSnapshot(this.#c);
  }

  /**
   * Rebuild an engine from a snapshot as read from disk (any version snapshot.codec.ts reads;
   * anything else throws). State is matched by id, so a snapshot survives a topology that
   * gained or lost devices (their state starts fresh or is dropped).
   */
  static restore(s: unknown, opts: RulesEngineOptions): RulesEngine {
    const decoded = decodeSnapshot(s);
    const e = new RulesEngine(opts);
    loadSnapshot(e.#c, decoded);
    return e;
  }

  /**
   * The same state on a new topology (a registry change reaches the running engine): state is
   * matched by id, so added devices start fresh and moved ones keep their history; incidents
   * whose subject the new topology no longer has (a device disabled or deleted, an apartment
   * removed) are resolved with `evidence.retired`, so nothing stays open that nothing can close.
   */
  withTopology(city: City): { engine: RulesEngine; events: IncidentEvent[] } {
    const c = this.#c;
    const next = new RulesEngine({ city, policy: c.policy, catchUpGraceMs: c.k.graceMs });
    // In memory, straight from the encoder: nothing to check.
    loadSnapshot(next.#c, encodeSnapshot(c));
    return { engine: next, events: next.#retireOrphans() };
  }

  #retireOrphans(): IncidentEvent[] {
    const c = this.#c;
    const out = c.incidents.collect();
    const ix = c.ix;
    const at = c.now;
    if (Number.isNaN(at)) return out;
    const stations = new Set(ix.stationIds);
    const buildings = new Set(ix.buildingIds);
    const metered = new Set(Array.from(ix.meterStation, (st) => ix.stationIds[st]));
    const known = (inc: Incident): boolean => {
      const id = inc.subjectId;
      switch (inc.subjectType) {
        case 'device':
          return ix.sensorOf.has(id) || ix.meterOf.has(id);
        case 'apartment':
          return ix.aptOf.has(id);
        case 'building':
          return buildings.has(id);
        case 'station':
          return stations.has(id) && (inc.kind !== 'station_silent' || metered.has(id));
        case 'source':
          return c.upstream.of.has(id);
        default:
          return true;
      }
    };
    for (const inc of [...c.incidents.values()]) {
      if (known(inc)) continue;
      inc.evidence.retired = true;
      c.incidents.resolve(inc, at, at);
    }
    return out;
  }
}
