/**
 * Evaluation of the forecasting module on a simulated season (issue #20). The simulator knows
 * the truth; the forecaster sees only what the platform sees — the readings, delivered like the
 * fleet delivers them, and a weather forecast with realistic error. The rules engine runs on
 * the same readings, so "the threshold rule" baseline and the predicted_cold lifecycle come
 * from the same run. Truth = each apartment's N32 value from the model's true room air
 * temperatures (same rooms the sensors are in), averaged per hour.
 */
import { HOUR_MS } from '../domain/clock.ts';
import { ForecastRunner } from '../domain/forecast/forecast.runner.ts';
import { stationAdvice } from '../domain/forecast/station.views.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import { policyForCity } from '../domain/policy.ts';
import { RulesEngine } from '../domain/rules/engine.ts';
import { generateCity } from './city.generator.ts';
import { simulateDeliveries } from './feed.ts';
import { seasonFaults } from './forecast.faults.ts';
import { causeOf, faultSpans, score, type CauseKind, type ForecastRecord, type Scores } from './forecast.score.ts';
import { simulatedForecast } from './forecast.weather.ts';
import { ThermalModel, type FaultSpec } from './thermal.model.ts';

export interface SeasonOptions {
  readonly seed: number;
  readonly stations: number;
  readonly apartmentsPerStation: number;
  readonly sensorShare: number;
  readonly start: number;
  readonly warmupDays: number;
  readonly evalDays: number;
  /** Apply the curve advisor's offset to the simulated stations every this many hours (0: off). */
  readonly adviseEveryH?: number;
  readonly faults?: readonly FaultSpec[];
  /** Hours between weather forecast issues. Default 6. */
  readonly forecastEveryH?: number;
}

/** One apartment_cold opening in the evaluation window and how long before it the forecast warned. */
export interface Lead {
  /** Lead time, min (0: not predicted). */
  readonly min: number;
  /** N3 exempted the day (colder than design outdoor). */
  readonly exempt: boolean;
  readonly apartmentId: string;
  readonly at: number;
  kind: CauseKind;
}

export interface SeasonResult {
  readonly apartments: number;
  readonly faults: readonly FaultSpec[];
  /** 6 h-ahead pairs. */
  readonly pairs: number;
  readonly mae6: number;
  readonly maePersistence6: number;
  readonly recall6: number;
  readonly precision6: number;
  readonly recallPersistence6: number;
  readonly precisionPersistence6: number;
  readonly positives6: number;
  readonly coldIncidents: number;
  readonly coldIncidentsPredicted: number;
  readonly medianLeadH: number;
  /** Lead time of each apartment_cold opening in the window, min (0: not predicted), and whether N3 exempted it. */
  readonly leads: readonly Lead[];
  readonly counts: {
    readonly tp: number;
    readonly fp: number;
    readonly fn: number;
    readonly ptp: number;
    readonly pfp: number;
    readonly pfn: number;
    readonly ae: number;
    readonly aeP: number;
  };
  /** The same pairs without those where a sudden fault (pump, heat source, riser, in-home) begins from 1 h before the forecast to its 6 h end: no forecast can see those coming. */
  readonly foreseeable: { readonly tp: number; readonly fp: number; readonly fn: number };
  /** Recall and precision at other opening probabilities, same pairs. */
  readonly thresholds: Scores['thresholds'];
  /** The pairs split by the injected fault behind each window (forecast.score.ts). */
  readonly byKind: Scores['byKind'];
  readonly missesBySigma: Scores['missesBySigma'];
  readonly reliability: Scores['reliability'];
  readonly lifecycle: { opened: number; confirmed: number; avoided: number };
  readonly shareAtLeast18: number;
  readonly meanIndoorC: number;
  readonly heatGJ: number;
  /** Mean of the advisor's own energy estimates over the advice it gave (%). */
  readonly advisorEstimatePct: number;
  readonly adviceRounds: number;
  readonly meanAppliedOffsetC: number;
  readonly insufficientShare: number;
  readonly wallMs: number;
}

const median = (xs: number[]) => {
  if (!xs.length) return Number.NaN;
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};

export function runSeason(o: SeasonOptions): SeasonResult {
  const started = Date.now();
  const g = generateCity({
    seed: o.seed,
    stations: o.stations,
    apartmentsPerStation: o.apartmentsPerStation,
    sensorShare: o.sensorShare,
    maxFloors: 18,
  });
  const city = g.city;
  const policy = policyForCity('beijing');
  const evalFrom = o.start + o.warmupDays * 24 * HOUR_MS;
  const end = evalFrom + o.evalDays * 24 * HOUR_MS;
  const faults = o.faults ?? seasonFaults(city, o.seed, evalFrom, end);
  const model = new ThermalModel({ city, policy, start: o.start, faults });
  const engine = new RulesEngine({ city, policy });
  const runner = new ForecastRunner({ city, policy });
  const ix = runner.ix;
  const std = policy.comfort.standardC; // N2
  const monitored = ix.aptIds.map((_, a) => a).filter((a) => ix.aptMeasuredRooms[a]!.length > 0);
  const roomIds = ix.roomIds;
  // Truth accumulators for the current hour, and hourly truth per apartment (Map hour → Float64Array).
  const truthSum = new Float64Array(ix.aptIds.length);
  const truthN = new Float64Array(ix.aptIds.length);
  const truth = new Map<number, Float64Array>();
  let truthHour = Math.floor(o.start / HOUR_MS);
  let lastSample = Number.NEGATIVE_INFINITY;
  const sample = () => {
    const h = Math.floor(model.now / HOUR_MS);
    if (h !== truthHour) {
      const arr = new Float64Array(ix.aptIds.length).fill(Number.NaN);
      for (const a of monitored) if (truthN[a]! > 0) arr[a] = truthSum[a]! / truthN[a]!;
      truth.set(truthHour, arr);
      truthSum.fill(0);
      truthN.fill(0);
      truthHour = h;
    }
    for (const a of monitored) {
      let w = 0;
      let s = 0;
      for (const room of ix.aptMeasuredRooms[a]!) {
        const area = ix.roomArea[room]! || 1;
        s += area * model.roomTemp(roomIds[room]!);
        w += area;
      }
      truthSum[a] = truthSum[a]! + s / w;
      truthN[a] = truthN[a]! + 1;
    }
  };
  // Forecast records: origin hour → per apartment [pred6, persistence, p6] (NaN when not ready).
  const records = new Map<number, ForecastRecord>();
  let insufficient = 0;
  let considered = 0;
  const leadMin: number[] = [];
  const leads: Lead[] = [];
  let coldIncidents = 0;
  const lifecycle = { opened: 0, confirmed: 0, avoided: 0 };
  const onRunnerEvents = (evs: readonly IncidentEvent[]) => {
    for (const e of evs) {
      if (e.at < evalFrom) continue;
      if (e.type === 'opened') lifecycle.opened++;
      if (e.type === 'resolved' && e.incident.evidence.outcome === 'confirmed') lifecycle.confirmed++;
      if (e.type === 'resolved' && e.incident.evidence.outcome === 'avoided') lifecycle.avoided++;
    }
  };
  const onEngineEvents = (evs: readonly IncidentEvent[]) => {
    const confirmations = runner.observe(evs);
    onRunnerEvents(confirmations);
    for (const e of evs) {
      if (e.type !== 'opened' || e.incident.kind !== 'apartment_cold' || e.at < evalFrom || e.at >= end) continue;
      coldIncidents++;
      const c = confirmations.find((x) => x.incident.apartmentId === e.incident.apartmentId);
      leadMin.push(c ? Number(c.incident.evidence.leadTimeMin) : 0);
      leads.push({
        min: leadMin[leadMin.length - 1]!,
        exempt: e.incident.exempt === true,
        apartmentId: e.incident.apartmentId ?? e.incident.subjectId,
        at: e.at,
        kind: 'none',
      });
    }
  };
  const adviseEveryMs = (o.adviseEveryH ?? 0) * HOUR_MS;
  let nextAdvice = evalFrom;
  const applied = new Map<string, number>();
  const estimates: number[] = [];
  const offsets: number[] = [];
  let adviceRounds = 0;
  const forecastEveryMs = (o.forecastEveryH ?? 6) * HOUR_MS;
  let nextForecast = o.start;
  let lastOrigin = Number.NEGATIVE_INFINITY;
  let heatAtEval: number | undefined;
  const heatNow = () => city.stations.reduce((s, st) => s + model.stationValues(st.id).heatTotal!, 0);
  let lastAdvance = Number.NEGATIVE_INFINITY;

  for (const d of simulateDeliveries(model, { from: o.start, to: end })) {
    if (model.now !== lastSample) {
      lastSample = model.now;
      sample();
      if (heatAtEval === undefined && model.now >= evalFrom) heatAtEval = heatNow();
    }
    while (d.at >= nextForecast) {
      runner.setForecast(
        simulatedForecast((ts) => model.outdoorTemp(ts), { city: 'beijing', issuedAt: nextForecast, hours: 48, seed: o.seed }),
      );
      nextForecast += forecastEveryMs;
    }
    for (const r of d.readings) {
      runner.ingest(r);
      onEngineEvents(engine.ingest(r));
    }
    if (d.at > lastAdvance) {
      lastAdvance = d.at;
      onEngineEvents(engine.advanceTo(d.at));
      onRunnerEvents(runner.advanceTo(d.at));
    }
    const origin = runner.origin;
    if (origin !== lastOrigin && Number.isFinite(origin)) {
      lastOrigin = origin;
      const oh = origin / HOUR_MS;
      if (origin >= evalFrom) {
        const nan = () => new Float64Array(ix.aptIds.length).fill(Number.NaN);
        const rec = { pred: nan(), last: nan(), p: nan(), sigma: nan() };
        for (const a of monitored) {
          rec.last[a] = runner.lastHour[a] === oh - 1 ? runner.lastT[a]! : Number.NaN;
          const f = runner.forecastApartment(a, 6);
          considered++;
          if (f.status !== 'ready') {
            if (f.status === 'insufficient_data') insufficient++;
            continue;
          }
          rec.pred[a] = f.trajectory.meanC[5]!;
          const risk = runner.coldProbability(f.trajectory, 6);
          rec.p[a] = risk.probability;
          rec.sigma[a] = risk.sigmaAtMinC;
        }
        records.set(oh, rec);
      }
      if (adviseEveryMs > 0 && origin >= nextAdvice) {
        nextAdvice = origin + adviseEveryMs;
        adviceRounds++;
        for (const st of city.stations) {
          const adv = stationAdvice(runner, st.id);
          if (!adv || adv.status !== 'advice') continue;
          // The engineer approves: the controller's curve moves by the advised offset (bounded like a real controller).
          const total = Math.max(-12, Math.min(8, (applied.get(st.id) ?? 0) + adv.offsetC));
          applied.set(st.id, total);
          model.setCurveOffset(st.id, total);
          estimates.push(adv.estimatedEnergyChangePct);
        }
      }
    }
    if (origin >= evalFrom && adviseEveryMs > 0) for (const st of city.stations) offsets.push(applied.get(st.id) ?? 0);
  }
  sample();
  const heatGJ = heatNow() - (heatAtEval ?? 0);

  const spans = faultSpans(city, ix, monitored, faults);
  const sc = score({
    records,
    truth,
    monitored,
    spans,
    standardC: std,
    endHour: end / HOUR_MS,
    openProbability: runner.o.shortOpenProbability,
  });
  const conf = { ...sc.conf, ptp: sc.persistence.tp, pfp: sc.persistence.fp, pfn: sc.persistence.fn };
  for (const l of leads) l.kind = causeOf(spans, ix.aptOf.get(l.apartmentId) ?? -1, l.at - 6 * HOUR_MS, l.at).kind;
  let at18 = 0;
  let tot = 0;
  let sum = 0;
  for (const [h, arr] of truth) {
    if (h * HOUR_MS < evalFrom || h * HOUR_MS >= end) continue;
    for (const a of monitored) {
      const v = arr[a]!;
      if (!Number.isFinite(v)) continue;
      tot++;
      sum += v;
      if (v >= std) at18++;
    }
  }
  const div = (x: number, y: number) => (y > 0 ? x / y : Number.NaN);
  return {
    apartments: monitored.length,
    faults,
    pairs: sc.pairs,
    mae6: sc.ae / sc.pairs,
    maePersistence6: sc.aeP / sc.pairs,
    recall6: div(conf.tp, conf.tp + conf.fn),
    precision6: div(conf.tp, conf.tp + conf.fp),
    recallPersistence6: div(conf.ptp, conf.ptp + conf.pfn),
    precisionPersistence6: div(conf.ptp, conf.ptp + conf.pfp),
    positives6: sc.positives,
    coldIncidents,
    coldIncidentsPredicted: leadMin.filter((x) => x > 0).length,
    medianLeadH: median(leadMin) / 60,
    leads,
    counts: { ...conf, ae: sc.ae, aeP: sc.aeP },
    foreseeable: sc.foreseeable,
    thresholds: sc.thresholds,
    byKind: sc.byKind,
    missesBySigma: sc.missesBySigma,
    reliability: sc.reliability,
    lifecycle,
    shareAtLeast18: at18 / tot,
    meanIndoorC: sum / tot,
    heatGJ,
    advisorEstimatePct: estimates.length ? estimates.reduce((s, x) => s + x, 0) / estimates.length : Number.NaN,
    adviceRounds,
    meanAppliedOffsetC: offsets.length ? offsets.reduce((s, x) => s + x, 0) / offsets.length : 0,
    insufficientShare: div(insufficient, considered),
    wallMs: Date.now() - started,
  };
}
