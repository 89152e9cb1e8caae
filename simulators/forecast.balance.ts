/**
 * Balancing trials (issue #20): a short simulated run with one injected riser_imbalance of
 * random strength in a random station, then the balancing diagnosis of every station from
 * the readings alone. Scores: the injected riser's rank in its station's list, and whether any
 * station's first item is a riser of a building without a fault.
 */
import { HOUR_MS } from '../domain/clock.ts';
import type { BalanceItem } from '../domain/forecast/balance.diagnosis.ts';
import { ForecastRunner } from '../domain/forecast/forecast.runner.ts';
import { stationBalance } from '../domain/forecast/station.views.ts';
import { policyForCity } from '../domain/policy.ts';
import { generateCity } from './city.generator.ts';
import { simulateDeliveries } from './feed.ts';
import { pickRiser } from './forecast.faults.ts';
import { Rng } from './random.ts';
import { ThermalModel, type FaultSpec } from './thermal.model.ts';

export interface BalanceTrial {
  readonly seed: number;
  readonly fault: FaultSpec;
  readonly factor: number;
  /** 1-based rank of the injected riser in its station's list; 0 when not listed. */
  readonly rank: number;
  readonly top: readonly BalanceItem[];
  /** Stations whose first item is a riser of a building with no injected fault. */
  readonly healthyRiserFirst: number;
  readonly stations: number;
}

export function runBalanceTrial(seed: number, o: { stations?: number; days?: number } = {}): BalanceTrial {
  const g = generateCity({ seed, stations: o.stations ?? 3, apartmentsPerStation: 300, sensorShare: 0.2, maxFloors: 18 });
  const city = g.city;
  const policy = policyForCity('beijing');
  const rng = new Rng(seed ^ 0xba1a);
  const station = rng.pick(city.stations).id;
  const riser = pickRiser(city, rng, 2, station) ?? pickRiser(city, rng, 2)!;
  const start = Date.UTC(2026, 11, 10) + rng.int(0, 30) * 24 * HOUR_MS;
  const factor = rng.range(0.45, 0.8);
  const fault: FaultSpec = { kind: 'riser_imbalance', ...riser, factor, at: start + 6 * HOUR_MS };
  const model = new ThermalModel({ city, policy, start, faults: [fault] });
  const runner = new ForecastRunner({ city, policy });
  const end = start + (o.days ?? 3) * 24 * HOUR_MS;
  let last = Number.NEGATIVE_INFINITY;
  for (const d of simulateDeliveries(model, { from: start, to: end })) {
    for (const r of d.readings) runner.ingest(r);
    if (d.at > last) {
      last = d.at;
      runner.advanceTo(d.at);
    }
  }
  runner.advanceTo(end + HOUR_MS);
  const faultStation = city.buildings.find((b) => b.id === riser.buildingId)!.stationId;
  let rank = 0;
  let healthyRiserFirst = 0;
  const top: BalanceItem[] = [];
  for (const st of city.stations) {
    const diag = stationBalance(runner, st.id)!;
    const first = diag.items[0];
    if (first) top.push(first);
    if (first && first.kind === 'riser' && first.buildingId !== riser.buildingId) healthyRiserFirst++;
    if (st.id === faultStation) {
      const i = diag.items.findIndex((x) => x.kind === 'riser' && x.id === `${riser.buildingId}#${riser.entrance}`);
      rank = i + 1;
    }
  }
  return { seed, fault, factor, rank, top, healthyRiserFirst, stations: city.stations.length };
}
