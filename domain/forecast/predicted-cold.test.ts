/** predicted_cold lifecycle: opened, confirmed by a real cold incident, or closed as avoided. */
import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../clock.ts';
import type { Incident, IncidentEvent } from '../incident.schema.ts';
import { policyForCity } from '../policy.ts';
import { RulesEngine } from '../rules/engine.ts';
import { generateCity } from '../../simulators/city.generator.ts';
import { simulateDeliveries } from '../../simulators/feed.ts';
import { monitoredByEntrance } from '../../simulators/forecast.faults.ts';
import { simulatedForecast } from '../../simulators/forecast.weather.ts';
import { ThermalModel } from '../../simulators/thermal.model.ts';
import { ForecastRunner } from './forecast.runner.ts';
import { PredictedColdTracker, type ColdPrediction } from './predicted-cold.tracker.ts';

const policy = policyForCity('beijing');
const T0 = Date.UTC(2026, 11, 5);
const tracker = () => new PredictedColdTracker({ openProbability: 0.5, avoidedAfterMs: 3 * HOUR_MS, ruleDelayMs: 60 * 60_000 });
const prediction = (at: number, p: number, firstBelowAt = at + 4 * HOUR_MS): ColdPrediction => ({
  apartmentId: 'a1',
  buildingId: 'b1',
  stationId: 's1',
  at,
  probability: p,
  firstBelowAt,
  predictedMinC: 17.2,
  predictedMinAt: firstBelowAt + HOUR_MS,
  sigmaC: 0.4,
  cause: 'building',
  evidence: { modelRmseC: 0.1 },
});
const cold = (type: 'opened' | 'resolved', at: number): IncidentEvent => {
  const incident: Incident = {
    id: `apartment_cold:a1:${at}`,
    kind: 'apartment_cold',
    subjectType: 'apartment',
    subjectId: 'a1',
    apartmentId: 'a1',
    status: type === 'opened' ? 'open' : 'resolved',
    startTs: at - HOUR_MS,
    severity: 'major',
    cause: 'building',
    evidence: {},
  };
  return { type, at, incident };
};

describe('PredictedColdTracker', () => {
  it('opens with the prediction and its uncertainty as evidence, and a real cold incident confirms it', () => {
    const t = tracker();
    const [open] = t.update(T0, [prediction(T0, 0.8)]);
    expect(open?.type).toBe('opened');
    expect(open?.incident).toMatchObject({
      kind: 'predicted_cold',
      subjectType: 'apartment',
      subjectId: 'a1',
      status: 'open',
      cause: 'building',
      startTs: T0,
      stationId: 's1',
    });
    expect(open?.incident.evidence).toMatchObject({ probability: 0.8, predictedMinC: 17.2, sigmaC: 0.4, hoursAhead: 4, modelRmseC: 0.1 });
    // The same expectation an hour later changes nothing.
    expect(t.update(T0 + HOUR_MS, [prediction(T0 + HOUR_MS, 0.9, T0 + 4 * HOUR_MS)])).toEqual([]);
    const [confirmed] = t.observe([cold('opened', T0 + 5 * HOUR_MS)]);
    expect(confirmed?.type).toBe('resolved');
    expect(confirmed?.incident.evidence).toMatchObject({
      outcome: 'confirmed',
      confirmedBy: `apartment_cold:a1:${T0 + 5 * HOUR_MS}`,
      leadTimeMin: 300,
    });
    expect(t.openIncidents()).toEqual([]);
    expect(t.counts).toEqual({ opened: 1, confirmed: 1, avoided: 0 });
  });

  it('closes as avoided once the expected crossing and the rule delay are past without a real incident', () => {
    const t = tracker();
    t.update(T0, [prediction(T0, 0.7)]);
    // Deadline: crossing (T0 + 4 h) + rule delay (1 h) + 3 h.
    expect(t.update(T0 + 7 * HOUR_MS, [])).toEqual([]);
    const [avoided] = t.update(T0 + 8 * HOUR_MS, []);
    expect(avoided?.type).toBe('resolved');
    expect(avoided?.incident.evidence.outcome).toBe('avoided');
    expect(avoided?.incident.endTs).toBe(T0 + 8 * HOUR_MS);
  });

  it('stays open while the forecast still expects the shortfall, and reports a moved crossing', () => {
    const t = tracker();
    t.update(T0, [prediction(T0, 0.7)]);
    const [moved] = t.update(T0 + 6 * HOUR_MS, [prediction(T0 + 6 * HOUR_MS, 0.7, T0 + 9 * HOUR_MS)]);
    expect(moved?.type).toBe('updated');
    expect(t.update(T0 + 9 * HOUR_MS, [])).toEqual([]);
    expect(t.update(T0 + 13 * HOUR_MS, [])[0]?.incident.evidence.outcome).toBe('avoided');
  });

  it('opens nothing below the probability threshold or for an apartment already cold', () => {
    const t = tracker();
    expect(t.update(T0, [prediction(T0, 0.3)])).toEqual([]);
    t.observe([cold('opened', T0)]);
    expect(t.update(T0 + HOUR_MS, [prediction(T0 + HOUR_MS, 0.9)])).toEqual([]);
    t.observe([cold('resolved', T0 + 2 * HOUR_MS)]);
    expect(t.update(T0 + 3 * HOUR_MS, [prediction(T0 + 3 * HOUR_MS, 0.9)])[0]?.type).toBe('opened');
  });
});

describe('ForecastRunner beside the rules engine', () => {
  it('opens predicted_cold before the threshold rule on a failing riser, and the rule confirms it', () => {
    const g = generateCity({ seed: 77, stations: 1, apartmentsPerStation: 200, sensorShare: 0.3, maxFloors: 6 });
    const riser = [...monitoredByEntrance(g.city).entries()].find(([, a]) => a.length >= 3)!;
    const [buildingId, entrance] = riser[0].split('#');
    const faultAt = T0 + 3 * 24 * HOUR_MS + 20 * 60_000;
    const model = new ThermalModel({
      city: g.city,
      policy,
      start: T0,
      faults: [{ kind: 'riser_imbalance', buildingId: buildingId!, entrance: Number(entrance), factor: 0.35, at: faultAt }],
    });
    const engine = new RulesEngine({ city: g.city, policy });
    const runner = new ForecastRunner({ city: g.city, policy });
    const events: IncidentEvent[] = [];
    let nextForecast = T0;
    let last = 0;
    for (const d of simulateDeliveries(model, { from: T0, to: faultAt + 24 * HOUR_MS })) {
      if (d.at >= nextForecast) {
        runner.setForecast(
          simulatedForecast((ts) => model.outdoorTemp(ts), { city: 'beijing', issuedAt: nextForecast, hours: 48, seed: 5 }),
        );
        nextForecast += 6 * HOUR_MS;
      }
      for (const r of d.readings) events.push(...runner.observe(engine.ingest(r)));
      for (const r of d.readings) runner.ingest(r);
      if (d.at > last) {
        last = d.at;
        events.push(...runner.observe(engine.advanceTo(d.at)), ...runner.advanceTo(d.at));
      }
    }
    const onRiser = new Set(riser[1]);
    const confirmed = events.filter(
      (e) =>
        e.type === 'resolved' &&
        e.incident.kind === 'predicted_cold' &&
        e.incident.evidence.outcome === 'confirmed' &&
        onRiser.has(e.incident.subjectId),
    );
    expect(confirmed.length).toBeGreaterThan(0);
    for (const c of confirmed) {
      expect(c.incident.startTs).toBeGreaterThan(faultAt);
      expect(Number(c.incident.evidence.leadTimeMin)).toBeGreaterThan(0);
    }
    // Nothing was predicted cold before the fault began.
    expect(events.filter((e) => e.type === 'opened' && e.incident.kind === 'predicted_cold' && e.at < faultAt)).toEqual([]);
  });
});
