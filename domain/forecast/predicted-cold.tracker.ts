/**
 * Lifecycle of `predicted_cold` incidents (issue #20): opened when an apartment that is warm
 * now is likely to fall below the standard (N2) within the horizon; resolved as `confirmed`
 * when the threshold rule opens a real `apartment_cold` for it, or as `avoided` once the
 * predicted crossing (plus the rule's own delay) is past and the forecast no longer expects
 * the shortfall. Ids follow the engine's: `${kind}:${subjectId}:${startTs}`.
 */
import type { CauseClass, Incident, IncidentEvent } from '../incident.schema.ts';

export interface ColdPrediction {
  readonly apartmentId: string;
  readonly buildingId?: string;
  readonly stationId?: string;
  /** Forecast time (event time), epoch ms. */
  readonly at: number;
  readonly probability: number;
  /** Start of the first hour expected below the standard, epoch ms. */
  readonly firstBelowAt: number;
  readonly predictedMinC: number;
  readonly predictedMinAt: number;
  readonly sigmaC: number;
  readonly cause: CauseClass;
  readonly evidence: Readonly<Record<string, string | number | boolean | null>>;
}

interface Open {
  incident: Incident;
  deadline: number;
  firstBelowAt: number;
}

export interface TrackerOptions {
  readonly openProbability: number;
  /** After the predicted crossing + the rule's delay, how long to wait before calling it avoided, ms. */
  readonly avoidedAfterMs: number;
  /** The threshold rule's delay (N2 coldOpenAfterMin), ms. */
  readonly ruleDelayMs: number;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

export class PredictedColdTracker {
  readonly #open = new Map<string, Open>();
  /** Apartments with a real cold incident open (no prediction is opened for them). */
  readonly #cold = new Set<string>();
  readonly counts = { opened: 0, confirmed: 0, avoided: 0 };

  constructor(private readonly o: TrackerOptions) {}

  isCold(apartmentId: string): boolean {
    return this.#cold.has(apartmentId);
  }

  openFor(apartmentId: string): Incident | undefined {
    const o = this.#open.get(apartmentId);
    return o ? structuredClone(o.incident) : undefined;
  }

  openIncidents(): Incident[] {
    return [...this.#open.values()].map((o) => structuredClone(o.incident));
  }

  /** Engine events: a real cold incident confirms the prediction. */
  observe(events: readonly IncidentEvent[]): IncidentEvent[] {
    const out: IncidentEvent[] = [];
    for (const e of events) {
      if (e.incident.kind !== 'apartment_cold') continue;
      const apt = e.incident.apartmentId ?? e.incident.subjectId;
      if (e.type === 'resolved') {
        this.#cold.delete(apt);
        continue;
      }
      if (e.type !== 'opened') continue;
      this.#cold.add(apt);
      const o = this.#open.get(apt);
      if (!o) continue;
      this.#open.delete(apt);
      this.counts.confirmed++;
      const inc: Incident = {
        ...o.incident,
        status: 'resolved',
        endTs: e.at,
        evidence: {
          ...o.incident.evidence,
          outcome: 'confirmed',
          confirmedBy: e.incident.id,
          leadTimeMin: Math.round((e.at - o.incident.startTs) / 60_000),
        },
      };
      out.push({ type: 'resolved', at: e.at, incident: inc });
    }
    return out;
  }

  /**
   * One forecast round at `now`: `predictions` are the apartments whose forecast says cold
   * (probability ≥ the open threshold); every other open prediction in `scope` (default: all;
   * a round of some stations only judges theirs) is checked for `avoided`.
   */
  update(now: number, predictions: readonly ColdPrediction[], scope: (i: Incident) => boolean = () => true): IncidentEvent[] {
    const out: IncidentEvent[] = [];
    const seen = new Set<string>();
    for (const p of predictions) {
      if (p.probability < this.o.openProbability) continue;
      seen.add(p.apartmentId);
      const cur = this.#open.get(p.apartmentId);
      const deadline = p.firstBelowAt + this.o.ruleDelayMs + this.o.avoidedAfterMs;
      const evidence = {
        ...p.evidence,
        probability: r2(p.probability),
        predictedMinC: r2(p.predictedMinC),
        predictedMinAt: p.predictedMinAt,
        firstBelowAt: p.firstBelowAt,
        hoursAhead: r2((p.firstBelowAt - p.at) / 3_600_000),
        sigmaC: r2(p.sigmaC),
      };
      if (!cur) {
        if (this.#cold.has(p.apartmentId)) continue;
        const inc: Incident = {
          id: `predicted_cold:${p.apartmentId}:${p.at}`,
          kind: 'predicted_cold',
          subjectType: 'apartment',
          subjectId: p.apartmentId,
          status: 'open',
          startTs: p.at,
          severity: 'minor',
          cause: p.cause,
          evidence,
          apartmentId: p.apartmentId,
          ...(p.buildingId ? { buildingId: p.buildingId } : {}),
          ...(p.stationId ? { stationId: p.stationId } : {}),
        };
        this.#open.set(p.apartmentId, { incident: inc, deadline, firstBelowAt: p.firstBelowAt });
        this.counts.opened++;
        out.push({ type: 'opened', at: now, incident: structuredClone(inc) });
        continue;
      }
      // Still expected: keep it open; tell the API only when the expected time moved by ≥ 2 h or the cause changed.
      const moved = Math.abs(p.firstBelowAt - cur.firstBelowAt) >= 2 * 3_600_000 || p.cause !== cur.incident.cause;
      cur.deadline = Math.max(cur.deadline, deadline);
      if (moved) {
        cur.firstBelowAt = p.firstBelowAt;
        cur.incident = { ...cur.incident, cause: p.cause, evidence };
        out.push({ type: 'updated', at: now, incident: structuredClone(cur.incident) });
      }
    }
    for (const [apt, o] of this.#open) {
      if (seen.has(apt) || now < o.deadline || !scope(o.incident)) continue;
      this.#open.delete(apt);
      this.counts.avoided++;
      const inc: Incident = { ...o.incident, status: 'resolved', endTs: now, evidence: { ...o.incident.evidence, outcome: 'avoided' } };
      out.push({ type: 'resolved', at: now, incident: inc });
    }
    return out;
  }
}
