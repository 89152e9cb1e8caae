/**
 * Per-station views over the runner's state: curve advice, the balancing diagnosis, and the
 * "tomorrow" risk of every monitored apartment (the dashboard's map layer).
 */
import { coldRisk } from './cold-risk.ts';
import { adviseCurve, type CurveAdvice } from './curve.advisor.ts';
import { diagnoseBalance, type BalanceApartment, type BalanceDiagnosis } from './balance.diagnosis.ts';
import { RECENT_HOURS, type ForecastRunner } from './forecast.runner.ts';
import type { Trajectory } from './thermal.fit.ts';

export function stationAdvice(runner: ForecastRunner, stationId: string): CurveAdvice | undefined {
  const s = runner.stationIndex(stationId);
  if (s === undefined) return undefined;
  const ix = runner.ix;
  const H = runner.o.horizonH;
  const inputs = runner.outdoorInputs(s, H);
  const trajectories: Trajectory[] = [];
  let without = 0;
  for (const a of ix.stationApts[s]!) {
    if (ix.aptMeasuredRooms[a]!.length === 0) continue;
    const f = runner.forecastApartment(a, H, 0, inputs);
    if (f.status === 'ready') trajectories.push(f.trajectory);
    else without++;
  }
  return adviseCurve(stationId, runner.origin, trajectories, without, runner.o);
}

export function stationBalance(runner: ForecastRunner, stationId: string): BalanceDiagnosis | undefined {
  const s = runner.stationIndex(stationId);
  if (s === undefined) return undefined;
  const ix = runner.ix;
  const apts: BalanceApartment[] = [];
  for (const a of ix.stationApts[s]!) {
    if (ix.aptMeasuredRooms[a]!.length === 0) continue;
    let sum = 0;
    let n = 0;
    for (let h = 0; h < RECENT_HOURS; h++) {
      const v = runner.recent[a * RECENT_HOURS + h]!;
      if (Number.isFinite(v)) {
        sum += v;
        n++;
      }
    }
    // Half a day at least, or the mean is one evening's weather.
    if (n < 12) continue;
    const apt = runner.city.apartments[a]!;
    const b = runner.city.buildings[ix.aptBuilding[a]!]!;
    apts.push({
      apartmentId: apt.id,
      buildingId: b.id,
      entrance: apt.entrance,
      floor: apt.floor,
      floors: b.floors,
      endUnit: apt.unit === 1 || apt.unit === b.unitsPerFloor,
      meanC: sum / n,
      hours: n,
    });
  }
  return diagnoseBalance(stationId, apts, { minEffectC: runner.o.balanceMinEffectC, minZ: runner.o.balanceMinZ });
}

export interface ApartmentRisk {
  readonly apartmentId: string;
  readonly status: 'ready' | 'insufficient_data' | 'no_station_data' | 'stale';
  readonly probability?: number;
  readonly minC?: number;
  readonly minAt?: number;
  readonly sigmaC?: number;
  readonly fitRmseC?: number;
  readonly fitHours?: number;
}

/** Cold risk of each monitored apartment of a station over the next `H` hours. */
export function stationRisk(runner: ForecastRunner, stationId: string, H: number = runner.o.horizonH): ApartmentRisk[] {
  const s = runner.stationIndex(stationId);
  if (s === undefined) return [];
  const ix = runner.ix;
  const inputs = runner.outdoorInputs(s, H);
  const out: ApartmentRisk[] = [];
  for (const a of ix.stationApts[s]!) {
    if (ix.aptMeasuredRooms[a]!.length === 0) continue;
    const f = runner.forecastApartment(a, H, 0, inputs);
    if (f.status !== 'ready') {
      out.push({ apartmentId: f.apartmentId, status: f.status, ...(f.fit ? { fitHours: f.fit.hours } : {}) });
      continue;
    }
    const r = coldRisk(f.trajectory, runner.policy.comfort.standardC); // N2
    out.push({
      apartmentId: f.apartmentId,
      status: 'ready',
      probability: Math.round(r.probability * 1000) / 1000,
      minC: Math.round(r.minC * 100) / 100,
      minAt: f.origin + r.minK * 3_600_000,
      sigmaC: Math.round(r.sigmaAtMinC * 100) / 100,
      fitRmseC: Math.round(f.fit.rmseC * 100) / 100,
      fitHours: f.fit.hours,
    });
  }
  return out;
}
