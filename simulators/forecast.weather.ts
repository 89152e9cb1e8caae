/**
 * The simulator's weather, published as a forecast with realistic error (issue #20): the
 * model's own outdoor temperature plus an error whose bias and spread grow with lead time, as
 * numerical weather forecasts do (roughly 1 °C at 6 h, 2–3 °C at 24 h, more beyond). Each
 * issue has its own bias (a front arriving early or late) and an error that wanders from hour
 * to hour (AR(1) over lead), all from the seed.
 */
import { HOUR_MS } from '../domain/clock.ts';
import type { WeatherForecast } from '../domain/forecast/weather.schema.ts';
import { mulberry32 } from '../domain/random.ts';

export interface ForecastErrorOptions {
  /** Standard deviation of the per-issue bias at 24 h lead, °C. Default 1.2. */
  readonly biasAt24hC?: number;
  /** Spread (sd of the wandering error) at lead 0 and its growth per hour, °C. Defaults 0.3, 0.08. */
  readonly spread0C?: number;
  readonly spreadPerHourC?: number;
  /** Hour-to-hour correlation of the wandering error. Default 0.9. */
  readonly rho?: number;
}

const gauss = (rnd: () => number): number => {
  // Box–Muller.
  const u = Math.max(1e-12, rnd());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
};

/** Spread the forecast states for an hour of lead (what it tells consumers about its own error). */
export function forecastSpreadC(leadH: number, o: ForecastErrorOptions = {}): number {
  const bias = (o.biasAt24hC ?? 1.2) * Math.min(1, leadH / 24);
  const wander = (o.spread0C ?? 0.3) + (o.spreadPerHourC ?? 0.08) * leadH;
  return Math.sqrt(bias * bias + wander * wander);
}

/**
 * A forecast issued at `issuedAt` (rounded down to the hour) for `hours` whole hours from the
 * truth function `outdoor(ts)`.
 */
export function simulatedForecast(
  outdoor: (ts: number) => number,
  opts: { city: string; issuedAt: number; hours: number; seed: number; stationId?: string; error?: ForecastErrorOptions },
): WeatherForecast {
  const o = opts.error ?? {};
  const issued = Math.floor(opts.issuedAt / HOUR_MS) * HOUR_MS;
  const rnd = mulberry32((opts.seed ^ (Math.floor(issued / HOUR_MS) * 2654435761)) >>> 0);
  const bias = gauss(rnd) * (o.biasAt24hC ?? 1.2);
  const rho = o.rho ?? 0.9;
  // Drawn from its stationary distribution at issue (the analysis is already off by spread0C),
  // so the error has the spread each hour states from the first hour on, not only after a few.
  let wander = gauss(rnd);
  const hours: { ts: number; outdoorTemp: number; spreadC: number }[] = [];
  for (let k = 0; k <= opts.hours; k++) {
    const lead = k;
    const sd = (o.spread0C ?? 0.3) + (o.spreadPerHourC ?? 0.08) * lead;
    // AR(1) with unit stationary variance, scaled by the lead's spread.
    if (k > 0) wander = rho * wander + Math.sqrt(1 - rho * rho) * gauss(rnd);
    const err = bias * Math.min(1, lead / 24) + wander * sd;
    const ts = issued + k * HOUR_MS;
    hours.push({ ts, outdoorTemp: Math.round((outdoor(ts) + err) * 10) / 10, spreadC: Math.round(forecastSpreadC(lead, o) * 100) / 100 });
  }
  return { city: opts.city, ...(opts.stationId ? { stationId: opts.stationId } : {}), issuedAt: issued, source: 'simulator', hours };
}
