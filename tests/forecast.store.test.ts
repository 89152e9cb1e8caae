/**
 * The InfluxDB forecast store against a real influxd (issue #20): what goes in comes back the
 * same — hour times included (the HTTP client reads epoch ms), the newest issue wins, a city's
 * forecast and a station's are kept apart, and a re-sent forecast overwrites itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS, systemClock } from '../domain/clock.ts';
import type { WeatherForecast } from '../domain/forecast/weather.schema.ts';
import { forecastStoreBeside, type ForecastStore } from '../storage/readings/forecast.store.ts';
import { InfluxStore } from '../storage/readings/influx.store.ts';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.ts';

let influxd: InfluxdHandle;
let store: InfluxStore;
let forecasts: ForecastStore;
const issued = Date.UTC(2026, 11, 10, 6);
const forecast = (issuedAt: number, base: number, stationId?: string): WeatherForecast => ({
  city: 'beijing',
  ...(stationId ? { stationId } : {}),
  issuedAt,
  source: 'test',
  hours: Array.from({ length: 24 }, (_, k) => ({ ts: issuedAt + k * HOUR_MS, outdoorTemp: base - k * 0.5, spreadC: 0.3 + 0.1 * k })),
});

beforeAll(async () => {
  influxd = await startInfluxd();
  store = await InfluxStore.open({ url: influxd.url, db: 'forecasts', clock: systemClock });
  forecasts = forecastStoreBeside(store, '/nonexistent-not-used-by-influx');
}, 60_000);
afterAll(async () => {
  await forecasts?.close();
  await store?.close();
  await influxd?.stop();
});

describe('InfluxForecastStore on influxd', () => {
  it('returns nothing before anything is stored', async () => {
    expect(await forecasts.latest('beijing')).toBeUndefined();
  });

  it('gives back exactly what was put, the newest issue first, city and station apart', async () => {
    const older = forecast(issued, -2);
    const newer = forecast(issued + 6 * HOUR_MS, -5);
    const station = forecast(issued, -9, 's1');
    await forecasts.put(older);
    await forecasts.put(newer);
    await forecasts.put(station);
    expect(await forecasts.latest('beijing')).toEqual(newer);
    expect(await forecasts.latest('beijing', 's1')).toEqual(station);
    expect(await forecasts.latest('tianjin')).toBeUndefined();
    expect(await forecasts.latest('beijing', 's2')).toBeUndefined();
  });

  it('a re-sent forecast overwrites itself', async () => {
    const f = forecast(issued + 12 * HOUR_MS, 1);
    await forecasts.put(f);
    await forecasts.put({ ...f, hours: f.hours.map((h) => ({ ...h, outdoorTemp: h.outdoorTemp + 1 })) });
    const back = await forecasts.latest('beijing');
    expect(back?.hours).toHaveLength(24);
    expect(back?.hours[0]).toEqual({ ts: f.issuedAt, outdoorTemp: 2, spreadC: 0.3 });
  });
});
