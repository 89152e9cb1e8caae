/**
 * A replay station's meter series, for the station view's charts: the mean of each field per
 * event-time bucket. A run keeps no time-series store of its own (its city is a sandbox that
 * must never reach the live one), so the series lives here, bounded: at most `maxBuckets`
 * per station — when a longer recording overflows that, neighbouring buckets merge and the
 * bucket doubles, so the whole span stays visible at a coarser step — and at most
 * `maxStations` stations with a series per run (a whole-city upload keeps the first ones;
 * each station's latest values are kept regardless, in ReplayRuns).
 */

export interface SeriesPoint {
  readonly ts: number;
  readonly value: number;
}

interface Bucket {
  /** Bucket start, epoch ms. */
  start: number;
  readonly sum: Map<string, number>;
  readonly n: Map<string, number>;
}

export interface SeriesLimits {
  /** First bucket width, ms (10 min: a scenario day is 144 points). */
  readonly bucketMs: number;
  readonly maxBuckets: number;
  readonly maxStations: number;
}

export const SERIES_LIMITS: SeriesLimits = { bucketMs: 10 * 60_000, maxBuckets: 288, maxStations: 200 };

class StationSeries {
  bucketMs: number;
  /** Buckets by start, kept in insertion order and sorted on read (readings arrive in event-time order). */
  readonly buckets = new Map<number, Bucket>();
  constructor(
    bucketMs: number,
    private readonly maxBuckets: number,
  ) {
    this.bucketMs = bucketMs;
  }

  add(ts: number, fields: Readonly<Record<string, number>>): void {
    const start = Math.floor(ts / this.bucketMs) * this.bucketMs;
    let b = this.buckets.get(start);
    if (!b) {
      this.buckets.set(start, (b = { start, sum: new Map(), n: new Map() }));
      if (this.buckets.size > this.maxBuckets) this.#coarsen();
    }
    // After a coarsening the reading's bucket may have merged: look it up again.
    b = this.buckets.get(Math.floor(ts / this.bucketMs) * this.bucketMs) ?? b;
    for (const [f, v] of Object.entries(fields)) {
      if (!Number.isFinite(v)) continue;
      b.sum.set(f, (b.sum.get(f) ?? 0) + v);
      b.n.set(f, (b.n.get(f) ?? 0) + 1);
    }
  }

  /** Double the bucket width and merge: the span is kept, the resolution halves. */
  #coarsen(): void {
    this.bucketMs *= 2;
    const old = [...this.buckets.values()];
    this.buckets.clear();
    for (const b of old) {
      const start = Math.floor(b.start / this.bucketMs) * this.bucketMs;
      let into = this.buckets.get(start);
      if (!into) this.buckets.set(start, (into = { start, sum: new Map(), n: new Map() }));
      for (const [f, s] of b.sum) {
        into.sum.set(f, (into.sum.get(f) ?? 0) + s);
        into.n.set(f, (into.n.get(f) ?? 0) + b.n.get(f)!);
      }
    }
  }

  read(): Record<string, SeriesPoint[]> {
    const out: Record<string, SeriesPoint[]> = {};
    const sorted = [...this.buckets.values()].sort((a, b) => a.start - b.start);
    for (const b of sorted) {
      for (const [f, s] of b.sum) (out[f] ??= []).push({ ts: b.start, value: Math.round((s / b.n.get(f)!) * 1000) / 1000 });
    }
    return out;
  }
}

/** Every metered station's series in one run. */
export class RunSeries {
  readonly #stations = new Map<string, StationSeries>();
  constructor(private readonly limits: SeriesLimits = SERIES_LIMITS) {}

  add(stationId: string, ts: number, fields: Readonly<Record<string, number>>): void {
    let s = this.#stations.get(stationId);
    if (!s) {
      if (this.#stations.size >= this.limits.maxStations) return;
      this.#stations.set(stationId, (s = new StationSeries(this.limits.bucketMs, this.limits.maxBuckets)));
    }
    s.add(ts, fields);
  }

  /** The station's series by field, and its bucket width; undefined when it has none. */
  of(stationId: string): { bucketMs: number; fields: Record<string, SeriesPoint[]> } | undefined {
    const s = this.#stations.get(stationId);
    return s ? { bucketMs: s.bucketMs, fields: s.read() } : undefined;
  }
}
