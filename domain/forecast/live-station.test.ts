/**
 * The station's trend (issue #20): a pump that stops between hours is seen in its meter's next
 * reading, and the runner re-forecasts that station at once instead of waiting for the hour to
 * close; the cold probability speaks of the room, so it carries the sensor's N31 error.
 */
import { describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../clock.ts';
import type { IncidentEvent } from '../incident.schema.ts';
import { policyForCity } from '../policy.ts';
import type { Reading } from '../reading.ts';
import { heatingCurveSetpointC } from '../rules/station.rule.ts';
import { generateCity } from '../../simulators/city.generator.ts';
import { ForecastRunner } from './forecast.runner.ts';
import { coldRisk } from './cold-risk.ts';

const policy = policyForCity('beijing');
const T0 = Date.UTC(2026, 11, 5);

/** Two days of a healthy station (first-order flats at 19.5 °C), then the pump stops at `stopAt`. */
function feed(runner: ForecastRunner, until: number, stopAt: number): IncidentEvent[] {
  const ix = runner.ix;
  const T = new Float64Array(ix.aptIds.length).fill(19.5);
  const events: IncidentEvent[] = [];
  for (let ts = T0; ts < until; ts += 5 * MINUTE_MS) {
    const stopped = ts >= stopAt;
    const outdoor = -3;
    const supply = heatingCurveSetpointC(outdoor, policy);
    const batch: Reading[] = ix.meterIds.map((id) => ({
      deviceId: id,
      kind: 'station_meter',
      ts,
      fields: {
        secondarySupplyTemp: stopped ? 30 : supply,
        outdoorTemp: outdoor,
        secondaryFlow: stopped ? 0 : 100,
        pumpHz: stopped ? 0 : 42,
      },
    }));
    for (let a = 0; a < ix.aptIds.length; a++) {
      // Heated: back towards 19.5 °C; pump stopped: towards 12 °C with a ~10 h time constant.
      const target = stopped ? 12 : 19.5 + (a % 3) * 0.2;
      T[a] = target + (T[a]! - target) * Math.exp(-5 / 600);
      for (const room of ix.aptMeasuredRooms[a]!)
        for (const s of ix.roomSensors[room]!)
          batch.push({ deviceId: ix.sensorIds[s]!, kind: 'room_sensor', ts, fields: { temp: Math.round(T[a]! * 100) / 100 } });
    }
    for (const r of batch) runner.ingest(r);
    events.push(...runner.advanceTo(ts));
  }
  return events;
}

describe('live station state', () => {
  it('re-forecasts a station whose pump stopped within minutes, before the hour closes', () => {
    const g = generateCity({ seed: 5, stations: 1, apartmentsPerStation: 60, sensorShare: 0.5, maxFloors: 6 });
    const runner = new ForecastRunner({ city: g.city, policy });
    const stopAt = T0 + 48 * HOUR_MS + 10 * MINUTE_MS;
    const events = feed(runner, stopAt + 40 * MINUTE_MS, stopAt);
    const opened = events.filter((e) => e.type === 'opened' && e.incident.kind === 'predicted_cold');
    expect(opened.filter((e) => e.at < stopAt)).toEqual([]);
    expect(opened.length).toBeGreaterThan(0);
    // The hour of the stop has not closed yet (it closes at the next hour + grace): these came from the meter's readings.
    for (const e of opened) {
      expect(e.at).toBeLessThan(stopAt + 30 * MINUTE_MS);
      expect(e.incident.cause).toBe('station');
      expect(e.incident.evidence.circulation).toBe(0);
    }
  });

  it('a healthy station between hours forecasts nothing new', () => {
    const g = generateCity({ seed: 5, stations: 1, apartmentsPerStation: 60, sensorShare: 0.5, maxFloors: 6 });
    const runner = new ForecastRunner({ city: g.city, policy });
    const events = feed(runner, T0 + 50 * HOUR_MS, Number.POSITIVE_INFINITY);
    expect(events.filter((e) => e.incident.kind === 'predicted_cold')).toEqual([]);
  });
});

describe('cold probability', () => {
  it('adds the sensor error N31 allows to the forecast error (a room at 18.2 °C by its sensor may be below 18)', () => {
    const t = { meanC: Float64Array.of(18.2), sigmaC: Float64Array.of(0.1), supplySens: Float64Array.of(0) };
    const without = coldRisk(t, 18).probability;
    const sd = policy.measurement.instrumentErrorC / Math.sqrt(3); // N31: ±0.5 °C, uniform
    const withSensor = coldRisk(t, 18, 0, 1, sd).probability;
    expect(without).toBeLessThan(0.03);
    // z = −0.2 / √(0.1² + 0.289²) ≈ −0.65 → 0.26
    expect(withSensor).toBeCloseTo(0.26, 2);
  });
});

describe('outdoor inputs', () => {
  it('uses a forecast issued this hour also for the hour before it that is still closing (grace), from the station value', () => {
    const g = generateCity({ seed: 5, stations: 1, apartmentsPerStation: 60, sensorShare: 0.5, maxFloors: 6 });
    const runner = new ForecastRunner({ city: g.city, policy });
    feed(runner, T0 + 40 * HOUR_MS + 3 * MINUTE_MS, Number.POSITIVE_INFINITY);
    // Hour 39 has not closed yet (5 min grace): the origin is the start of hour 39, the forecast starts at hour 40.
    expect(runner.origin).toBe(T0 + 39 * HOUR_MS);
    const issuedAt = T0 + 40 * HOUR_MS;
    runner.setForecast({
      city: 'beijing',
      issuedAt,
      hours: Array.from({ length: 30 }, (_, k) => ({ ts: issuedAt + k * HOUR_MS, outdoorTemp: -15, spreadC: 1 })),
    });
    const inp = runner.outdoorInputs(0, 6);
    expect(inp.source).toBe('forecast');
    expect(inp.mean[0]).toBeCloseTo((-3 + -15) / 2, 1);
    expect(inp.mean[1]).toBe(-15);
  });
});
