/**
 * Cost of fitting and forecasting a large city (issue #20: 10,000 monitored apartments ≤ 30 s
 * on one core). Readings are synthetic (each apartment a first-order response with its own
 * parameters, one reading per sensor per hour, one meter reading per station per hour) so the
 * figure is the forecaster's own cost: hourly binning, one RLS refit per apartment-hour, and a
 * full 24 h forecast round of every apartment after every hour.
 */
import { HOUR_MS } from '../domain/clock.ts';
import { ForecastRunner } from '../domain/forecast/forecast.runner.ts';
import { heatingCurveSetpointC } from '../domain/rules/station.rule.ts';
import type { Reading } from '../domain/reading.ts';
import { policyForCity } from '../domain/policy.ts';
import { generateCity } from './city.generator.ts';
import { Rng } from './random.ts';

export interface PerfResult {
  readonly apartments: number;
  readonly sensors: number;
  readonly hours: number;
  readonly readings: number;
  /** CPU time inside the runner (ingest + hourly refit + forecast rounds), ms. */
  readonly runnerMs: number;
  readonly forecastRoundMs: number;
}

export function runForecastPerf(o: { stations: number; days: number; seed?: number }): PerfResult {
  const g = generateCity({ seed: o.seed ?? 99, stations: o.stations, apartmentsPerStation: 400, sensorShare: 0.5, maxFloors: 18 });
  const city = g.city;
  const policy = policyForCity('beijing');
  const runner = new ForecastRunner({ city, policy });
  const ix = runner.ix;
  const rng = new Rng(o.seed ?? 99);
  const nA = ix.aptIds.length;
  const alpha = new Float64Array(nA).map(() => rng.range(0.84, 0.93));
  const gain = new Float64Array(nA).map(() => rng.range(0.3, 0.45));
  const T = new Float64Array(nA).fill(20.5);
  const start = Date.UTC(2026, 11, 1);
  let runnerMs = 0;
  let roundMs = 0;
  let readings = 0;
  const hours = o.days * 24;
  for (let h = 0; h < hours; h++) {
    const ts = start + h * HOUR_MS + 30 * 60_000;
    const outdoor = -2 + 4 * Math.sin((2 * Math.PI * h) / 24) + 3 * Math.sin((2 * Math.PI * h) / 80);
    const supply = heatingCurveSetpointC(outdoor, policy);
    const batch: Reading[] = [];
    for (let m = 0; m < ix.meterIds.length; m++) {
      batch.push({
        deviceId: ix.meterIds[m]!,
        kind: 'station_meter',
        ts,
        fields: { secondarySupplyTemp: supply, outdoorTemp: outdoor, secondaryFlow: 100, pumpHz: 42 },
      });
    }
    for (let a = 0; a < nA; a++) {
      const ss = (0.37 * (0.875 * supply + 2.5) * gain[a]! + 0.5 * outdoor + 2.7) / (0.37 * gain[a]! + 0.65);
      T[a] = alpha[a]! * T[a]! + (1 - alpha[a]!) * ss;
    }
    for (let s = 0; s < ix.sensorIds.length; s++) {
      batch.push({ deviceId: ix.sensorIds[s]!, kind: 'room_sensor', ts, fields: { temp: T[ix.sensorApt[s]!]! + rng.normal() * 0.1 } });
    }
    readings += batch.length;
    // CPU time, not wall time: the figure is about one core's work, whatever else the machine runs.
    const c0 = process.cpuUsage();
    for (const r of batch) runner.ingest(r);
    const c1 = process.cpuUsage();
    runner.advanceTo(start + (h + 1) * HOUR_MS + 6 * 60_000);
    const c2 = process.cpuUsage(c1);
    const all = process.cpuUsage(c0);
    runnerMs += (all.user + all.system) / 1000;
    roundMs = (c2.user + c2.system) / 1000;
  }
  const monitored = ix.aptIds.filter((_, a) => ix.aptMeasuredRooms[a]!.length > 0).length;
  return { apartments: monitored, sensors: ix.sensorIds.length, hours, readings, runnerMs, forecastRoundMs: roundMs };
}
