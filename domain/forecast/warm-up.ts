/**
 * Feed a runner stored hourly history (storage/readings/forecast.history.ts), closing each hour
 * as the next one begins, as if it had run live; events of the past are dropped (they were the
 * past's business). Returns the hour after the last one fed.
 */
import { HOUR_MS } from '../clock.ts';
import type { Reading } from '../reading.ts';
import type { ForecastRunner } from './forecast.runner.ts';

export function warmUp(runner: ForecastRunner, readings: readonly Reading[]): number {
  let h = Number.NEGATIVE_INFINITY;
  for (const r of readings) {
    const rh = Math.floor(r.ts / HOUR_MS);
    if (rh > h && Number.isFinite(h)) runner.advanceTo(rh * HOUR_MS + runner.o.hourGraceMs);
    h = rh;
    runner.ingest(r);
  }
  return Number.isFinite(h) ? (h + 1) * HOUR_MS : Number.NEGATIVE_INFINITY;
}
