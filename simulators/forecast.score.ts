/**
 * Scores of the forecast evaluation (issue #20) against the simulator's truth, split by what
 * caused each shortfall so the bench shows which misses dominate. Every figure comes from the
 * same pairs: (origin hour, monitored apartment not below the standard now).
 *
 * A pair's cause is the injected fault that touches the apartment during its window (1 h
 * before the forecast to its 6 h end), the most local first: in-home (air lock, blocked
 * strainer), riser, pump stop, heat-source drop, cold snap; `none` when nothing was injected
 * (weather and the apartment's own response alone). `sudden` marks a fault that *begins*
 * inside that window: no forecast made before its onset can know of it.
 */
import { HOUR_MS } from '../domain/clock.ts';
import type { TopologyIndex } from '../domain/rules/topology.index.ts';
import type { City } from '../domain/topology.schema.ts';
import type { FaultSpec } from './thermal.model.ts';

export const CAUSE_KINDS = ['in_home', 'riser', 'pump', 'heat_source', 'cold_snap', 'none'] as const;
export type CauseKind = (typeof CAUSE_KINDS)[number];

/** One origin hour's forecasts, per apartment index (NaN: no forecast). */
export interface ForecastRecord {
  /** Predicted hourly mean 6 h ahead. */
  readonly pred: Float64Array;
  /** Latest hourly value (persistence). */
  readonly last: Float64Array;
  /** P(below the standard within 6 h). */
  readonly p: Float64Array;
  /** Predictive sd at the predicted minimum, °C. */
  readonly sigma: Float64Array;
}

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
}

export interface KindScore extends Confusion {
  /** Positives whose window has a sudden onset. */
  suddenPositives: number;
  /** Positives whose fault began after the forecast was made (no forecast could know), and how many of those were missed. */
  unseenPositives: number;
  unseenMisses: number;
  /** Missed positives whose truth minimum stayed within 0.3 °C of the standard. */
  marginalMisses: number;
  /** Sum and count of the 6 h-ahead signed error (forecast − truth), °C. */
  errSum: number;
  errN: number;
}

export interface Scores {
  readonly pairs: number;
  readonly ae: number;
  readonly aeP: number;
  readonly positives: number;
  readonly conf: Confusion;
  readonly persistence: Confusion;
  readonly foreseeable: Confusion;
  readonly thresholds: readonly ({ readonly p: number } & Confusion)[];
  readonly byKind: Readonly<Record<CauseKind, KindScore>>;
  /** Missed positives by the forecast's own sd at its minimum: ≤ 0.3, ≤ 0.6, > 0.6 °C. */
  readonly missesBySigma: readonly [number, number, number];
  /** Reliability of the stated probability: pairs and positives per tenth of p (0–0.1, …, 0.9–1). */
  readonly reliability: readonly { n: number; positives: number }[];
}

interface Span {
  readonly kind: CauseKind;
  readonly from: number;
  readonly to: number;
}

const RANK: Record<CauseKind, number> = { in_home: 0, riser: 1, pump: 2, heat_source: 3, cold_snap: 4, none: 5 };

/** Fault spans per apartment index (simulator truth; used only to split the scores). */
export function faultSpans(city: City, ix: TopologyIndex, monitored: readonly number[], faults: readonly FaultSpec[]): Map<number, Span[]> {
  const out = new Map<number, Span[]>();
  const where = (pred: (a: number) => boolean) => monitored.filter(pred);
  for (const f of faults) {
    const from = typeof f.at === 'number' ? f.at : Date.parse(f.at);
    const to = f.durationMin === undefined ? Number.POSITIVE_INFINITY : from + f.durationMin * 60_000;
    let kind: CauseKind | undefined;
    let hit: number[] = [];
    if (f.kind === 'pump_failure') [kind, hit] = ['pump', where((a) => ix.stationIds[ix.aptStation[a]!] === f.stationId)];
    else if (f.kind === 'heat_source_drop')
      [kind, hit] = ['heat_source', where((a) => city.stations[ix.aptStation[a]!]!.sourceId === f.sourceId)];
    else if (f.kind === 'riser_imbalance')
      [kind, hit] = [
        'riser',
        where(
          (a) =>
            city.apartments[a]!.buildingId === f.buildingId && (f.entrance === undefined || city.apartments[a]!.entrance === f.entrance),
        ),
      ];
    else if (f.kind === 'air_lock' || f.kind === 'blocked_strainer')
      [kind, hit] = ['in_home', where((a) => ix.aptIds[a] === f.apartmentId)];
    // A front needs ~6 h to arrive and as long to leave (thermal.model.ts): its effect spans that too.
    else if (f.kind === 'cold_snap') [kind, hit] = ['cold_snap', [...monitored]];
    if (!kind) continue;
    const span = { kind, from, to: f.kind === 'cold_snap' ? to + 12 * HOUR_MS : to };
    for (const a of hit) out.set(a, [...(out.get(a) ?? []), span]);
  }
  return out;
}

/** The cause of apartment `a`'s window [from, to): the most local fault overlapping it, and whether one began inside it. */
export function causeOf(
  spans: Map<number, Span[]>,
  a: number,
  from: number,
  to: number,
  madeAt = from,
): { kind: CauseKind; sudden: boolean; unseen: boolean } {
  let kind: CauseKind = 'none';
  let sudden = false;
  let unseen = false;
  for (const s of spans.get(a) ?? []) {
    if (s.to < from || s.from > to) continue;
    if (RANK[s.kind] < RANK[kind]) kind = s.kind;
    if (s.kind !== 'cold_snap' && s.from >= from && s.from <= to) sudden = true;
    if (s.kind !== 'cold_snap' && s.from > madeAt && s.from <= to) unseen = true;
  }
  return { kind, sudden, unseen };
}

const tally = (c: Confusion, predicted: boolean, label: boolean) => {
  if (predicted && label) c.tp++;
  else if (predicted) c.fp++;
  else if (label) c.fn++;
};

export function score(o: {
  readonly records: ReadonlyMap<number, ForecastRecord>;
  readonly truth: ReadonlyMap<number, Float64Array>;
  readonly monitored: readonly number[];
  readonly spans: Map<number, Span[]>;
  readonly standardC: number;
  readonly endHour: number;
  readonly openProbability: number;
}): Scores {
  const std = o.standardC;
  let ae = 0;
  let aeP = 0;
  let pairs = 0;
  let positives = 0;
  const conf = { tp: 0, fp: 0, fn: 0 };
  const persistence = { tp: 0, fp: 0, fn: 0 };
  const foreseeable = { tp: 0, fp: 0, fn: 0 };
  const thresholds = [0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6].map((p) => ({ p, tp: 0, fp: 0, fn: 0 }));
  const byKind = Object.fromEntries(
    CAUSE_KINDS.map((k) => [
      k,
      { tp: 0, fp: 0, fn: 0, suddenPositives: 0, unseenPositives: 0, unseenMisses: 0, marginalMisses: 0, errSum: 0, errN: 0 },
    ]),
  ) as Record<CauseKind, KindScore>;
  const missesBySigma: [number, number, number] = [0, 0, 0];
  const reliability = Array.from({ length: 10 }, () => ({ n: 0, positives: 0 }));
  for (const [oh, rec] of o.records) {
    const target = o.truth.get(oh + 5);
    const nowTruth = o.truth.get(oh - 1);
    for (const a of o.monitored) {
      const pred = rec.pred[a]!;
      const last = rec.last[a]!;
      if (!Number.isFinite(pred) || !Number.isFinite(last)) continue;
      const tv = target?.[a];
      if (tv !== undefined && Number.isFinite(tv) && oh + 5 < o.endHour) {
        ae += Math.abs(pred - tv);
        aeP += Math.abs(last - tv);
        pairs++;
        const ks = byKind[causeOf(o.spans, a, (oh - 1) * HOUR_MS, (oh + 6) * HOUR_MS).kind];
        ks.errSum += pred - tv;
        ks.errN++;
      }
      // "Below the standard within 6 h", for apartments not below it now.
      const nv = nowTruth?.[a];
      if (nv === undefined || !Number.isFinite(nv) || nv < std || oh + 6 > o.endHour) continue;
      let label = false;
      let minTruth = Number.POSITIVE_INFINITY;
      for (let k = 0; k < 6; k++) {
        const v = o.truth.get(oh + k)?.[a];
        if (v === undefined || !Number.isFinite(v)) continue;
        if (v < std) label = true;
        minTruth = Math.min(minTruth, v);
      }
      const p = rec.p[a]!;
      const predCold = p >= o.openProbability;
      if (label) positives++;
      if (Number.isFinite(p)) {
        const bin = reliability[Math.min(9, Math.floor(p * 10))]!;
        bin.n++;
        if (label) bin.positives++;
      }
      for (const th of thresholds) tally(th, p >= th.p, label);
      // The forecast of origin oh is made once hour oh−1 has closed (5 min grace, forecast.options.ts).
      const { kind, sudden, unseen } = causeOf(o.spans, a, (oh - 1) * HOUR_MS, (oh + 6) * HOUR_MS, oh * HOUR_MS + 5 * 60_000);
      const ks = byKind[kind];
      tally(ks, predCold, label);
      if (label && sudden) ks.suddenPositives++;
      if (label && unseen) {
        ks.unseenPositives++;
        if (!predCold) ks.unseenMisses++;
      }
      if (label && !predCold) {
        if (minTruth > std - 0.3) ks.marginalMisses++;
        const s = rec.sigma[a]!;
        missesBySigma[s <= 0.3 ? 0 : s <= 0.6 ? 1 : 2]++;
      }
      if (!sudden) tally(foreseeable, predCold, label);
      tally(conf, predCold, label);
      tally(persistence, last < std, label);
    }
  }
  return { pairs, ae, aeP, positives, conf, persistence, foreseeable, thresholds, byKind, missesBySigma, reliability };
}
