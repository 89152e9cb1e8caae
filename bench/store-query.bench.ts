/**
 * Season-long history (issue #4: "history of one building … with an aggregation window from
 * 1 minute to 1 day over ranges up to a whole season", fast at city scale): one building,
 * a 120-day season, 1 d window, mean temperature. Read from the hourly downsampled series
 * (InfluxDB: the building's own series; embedded: per-device hourly rows) stitched with raw
 * (downsample.plan.ts) vs the same query read from raw points only — the
 * baseline, measured in the same run on the same data: a second store on the same database
 * whose clock stands at the season's start, so nothing is sealed and every window reads raw.
 * Both stores: InfluxDB (real influxd, v1 HTTP API) and the embedded SQLite store. The
 * one-off cost of downsampling the imported season (backfillDownsampled) is reported too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAY_MS, MINUTE_MS, ManualClock } from '../domain/clock.ts';
import type { Reading } from '../domain/reading.ts';
import { EmbeddedStore } from '../storage/readings/embedded.store.ts';
import { InfluxStore } from '../storage/readings/influx.store.ts';
import type { HistoryPoint, HistoryQuery, ReadingStore } from '../storage/readings/reading-store.ts';
import { startInfluxd, type InfluxdHandle } from '../tests/harness/influxd.ts';
import type { BenchOptions, BenchRow } from './types.ts';

/** 15 Nov 2025: a heating season start (N1), long past, so every hour of it is sealed. */
const SEASON_START = Date.UTC(2025, 10, 15);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? Number.NaN;
};

function* season(rooms: number, days: number, perDay: number): Generator<Reading[]> {
  const step = DAY_MS / perDay;
  let batch: Reading[] = [];
  for (let d = 0; d < days; d++) {
    for (let i = 0; i < perDay; i++) {
      for (let r = 0; r < rooms; r++) {
        const ts = SEASON_START + d * DAY_MS + i * step + r * 1000;
        // A daily swing plus a per-room offset: values differ per hour, so wrong merges show.
        const temp = 18 + (r % 5) * 0.5 + 2 * Math.sin((2 * Math.PI * i) / perDay) + ((d * 7 + r) % 11) * 0.1;
        batch.push({
          deviceId: `qb-dev-${r}`,
          kind: 'room_sensor',
          ts,
          fields: { temp, rh: 40 + (i % 10), bat: 3.1 },
          roomId: `qb-r-${r}`,
          apartmentId: `qb-a-${r % 10}`,
          buildingId: 'qb-1',
          stationId: 'qs-1',
          officeId: 'qo-1',
        });
        if (batch.length >= 10_000) {
          yield batch;
          batch = [];
        }
      }
    }
  }
  if (batch.length) yield batch;
}

async function timeQuery(store: ReadingStore, q: HistoryQuery, runs: number): Promise<{ ms: number; result: HistoryPoint[] }> {
  let result: HistoryPoint[] = await store.history(q); // warm-up (and the flush of dirty hours)
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    result = await store.history(q);
    ms.push(performance.now() - t);
  }
  return { ms: median(ms), result };
}

function sameHistory(a: HistoryPoint[], b: HistoryPoint[]): boolean {
  return a.length === b.length && a.every((p, i) => p.ts === b[i]!.ts && Math.abs((p.value ?? NaN) - (b[i]!.value ?? NaN)) < 1e-9);
}

export async function run(opts: BenchOptions): Promise<BenchRow[]> {
  // Full: 30 rooms × 120 days × 144 readings/day (every 10 min) ≈ 518,000 points.
  // Quick: fewer rooms and half a season, same 10-min density (the density sets the gain).
  const rooms = opts.quick ? 4 : 30;
  const days = opts.quick ? 60 : 120;
  const perDay = 144;
  const runs = opts.quick ? 3 : 7;
  const points = rooms * days * perDay;
  const note = `1 building, ${rooms} rooms, ${days} days, ${Math.round(DAY_MS / perDay / MINUTE_MS)} min interval, ${points.toLocaleString('en-US')} points, median of ${runs}`;
  const q: HistoryQuery = {
    buildingId: 'qb-1',
    field: 'temp',
    from: SEASON_START,
    to: SEASON_START + days * DAY_MS,
    windowMs: DAY_MS,
    agg: 'mean',
  };
  const afterSeason = new ManualClock(q.to + DAY_MS);
  const atSeasonStart = new ManualClock(q.from);
  const rows: BenchRow[] = [];
  opts.log(note);

  // Targets (downsampled / raw, at most). InfluxDB reads the building's own hourly series (one
  // series, ~2,900 points) against ~520,000 raw points: ~12× at full size; at the quick size the
  // fixed cost of a query dominates (~2×). SQLite reads the per-device hourly rows: ~8× (quick ~5×).
  const targets: Record<string, number> = { InfluxDB: opts.quick ? 0.8 : 0.3, embedded: opts.quick ? 0.5 : 0.3 };
  const measure = async (label: string, store: ReadingStore, rawStore: ReadingStore) => {
    let t = performance.now();
    for (const batch of season(rooms, days, perDay)) await store.write(batch);
    const writeS = (performance.now() - t) / 1000;
    t = performance.now();
    const hourly = await store.backfillDownsampled!(q.from, q.to);
    const backfillS = (performance.now() - t) / 1000;
    opts.log(
      `${label}: wrote ${points} points in ${writeS.toFixed(1)} s; downsampled (${hourly} hourly points) in ${backfillS.toFixed(1)} s`,
    );
    const down = await timeQuery(store, q, runs);
    const raw = await timeQuery(rawStore, q, runs);
    if (!sameHistory(down.result, raw.result)) throw new Error(`${label}: downsampled and raw history differ`);
    opts.log(
      `${label}: season at 1 d from the hourly series ${down.ms.toFixed(1)} ms, from raw ${raw.ms.toFixed(1)} ms: ${(raw.ms / down.ms).toFixed(1)}× faster (${down.result.length} windows, equal results)`,
    );
    rows.push(
      {
        name: `store-query: ${label} season history, 1 d window, hourly series`,
        value: down.ms,
        unit: 'ms',
        baseline: { name: 'same query from raw points', value: raw.ms },
        target: { kind: 'ratioMax', value: targets[label]! },
        note,
      },
      {
        name: `store-query: ${label} downsampling the imported season (backfillDownsampled)`,
        value: points / backfillS,
        unit: 'raw points/s',
        note: `${hourly} hourly points`,
      },
    );
  };

  let influxd: InfluxdHandle | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'heat-store-query-bench-'));
  try {
    influxd = await startInfluxd();
    const store = await InfluxStore.open({ url: influxd.url, db: 'season', clock: afterSeason });
    const rawStore = await InfluxStore.open({ url: influxd.url, db: 'season', clock: atSeasonStart });
    await measure('InfluxDB', store, rawStore);
    const emb = EmbeddedStore.open(dir, { clock: afterSeason });
    const embRaw = EmbeddedStore.open(dir, { clock: atSeasonStart });
    try {
      await measure('embedded', emb, embRaw);
    } finally {
      await embRaw.close();
      await emb.close();
    }
  } finally {
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
