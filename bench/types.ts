/** One row of the benchmark table: a figure beside a baseline measured in the same run. */
export interface BenchRow {
  /** e.g. "ingest: end-to-end throughput". */
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  /** Baseline measured in the same run (e.g. raw InfluxDB /write ceiling), if any. */
  readonly baseline?: { readonly name: string; readonly value: number };
  /**
   * Target, as ratio to baseline (`ratio`: at least, `ratioMax`: at most — e.g. growth over a
   * soak) or absolute value (`min`/`max`).
   */
  readonly target?: { readonly kind: 'ratio' | 'ratioMax' | 'min' | 'max'; readonly value: number };
  readonly note?: string;
}

export interface BenchOptions {
  readonly quick: boolean;
  readonly log: (msg: string) => void;
}

/** Each bench/<name>.bench.ts exports `run` returning its rows. */
export type BenchModule = { run: (opts: BenchOptions) => Promise<BenchRow[]> };

export function ratio(row: BenchRow): number | undefined {
  return row.baseline && row.baseline.value !== 0 ? row.value / row.baseline.value : undefined;
}

export function passes(row: BenchRow): boolean | undefined {
  if (!row.target) return undefined;
  if (row.target.kind === 'ratio' || row.target.kind === 'ratioMax') {
    const r = ratio(row);
    if (r === undefined || Number.isNaN(r)) return undefined;
    return row.target.kind === 'ratio' ? r >= row.target.value : r <= row.target.value;
  }
  return row.target.kind === 'min' ? row.value >= row.target.value : row.value <= row.target.value;
}
