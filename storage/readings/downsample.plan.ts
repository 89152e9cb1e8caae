/**
 * The stitch rule shared by both stores: which part of a history query is read from the hourly
 * downsampled series and which from raw points, and how the partial aggregates of the parts
 * are merged into one point per window (SCHEMA.md "Downsampled series").
 *
 * - Only windows that are whole hours (1 h, 2 h, …, 1 d) can be built from hourly aggregates;
 *   every other window (1 min, 15 min, 90 min) reads raw points as before.
 * - Hours before `sealedBefore(now)` = start of the current hour − 1 h are read downsampled.
 *   The continuous queries run at the end of each hour and recompute the last two hours
 *   (RESAMPLE FOR 2h), so the last full hour can still change with slightly late data; it and
 *   the current hour are read from raw (at most 2 h of points per series: cheap). In the first
 *   CQ_GRACE_MS after a boundary, while the CQ runs, one hour more is read from raw.
 * - A range edge that is not on an hour boundary is read from raw up to the next boundary, so a
 *   window cut by `from`/`to` holds exactly the points inside [from, to), as with raw.
 * - Mean is exact, not a mean of means: the hourly series keep sum and count, and a window's
 *   mean is Σsum / Σcount over its hours (plus the raw parts). Min is min of mins, max max of maxes.
 */
import { HOUR_MS } from '../../domain/clock.ts';
import type { HistoryPoint } from './reading-store.ts';

export type Agg = 'mean' | 'min' | 'max';

/** A time range [from, to), epoch ms. */
export interface Span {
  readonly from: number;
  readonly to: number;
}

export interface HistoryPlan {
  /** Parts read from raw points (0, 1 or 2: the unaligned head and the recent tail). */
  readonly raw: Span[];
  /** The hour-aligned part read from the hourly series, if any. */
  readonly hourly?: Span;
}

const floorTo = (t: number, step: number) => Math.floor(t / step) * step;
const ceilTo = (t: number, step: number) => Math.ceil(t / step) * step;

/**
 * The CQ run at an hour boundary takes a moment (influxd checks every second, then aggregates
 * the whole city's last two hours): for this long after the boundary the hour it finishes is
 * not taken as sealed yet.
 */
export const CQ_GRACE_MS = 5 * 60_000;

/** Hours strictly before this are read from the hourly series (see the rule above). */
export function sealedBefore(now: number): number {
  return floorTo(now - CQ_GRACE_MS, HOUR_MS) - HOUR_MS;
}

/**
 * A reading of an hour before this, written now, is seen by no future CQ run (the next run
 * recomputes only the previous and the current hour): the store must re-downsample it.
 * Taken when the write has completed, so a write that straddles the boundary is counted late.
 */
export function lateBefore(now: number): number {
  return floorTo(now, HOUR_MS) - HOUR_MS;
}

/** Is the window a whole number of hours, so it can be built from hourly aggregates? */
export function hourlyWindow(windowMs: number, offsetMs = 0): boolean {
  return windowMs >= HOUR_MS && windowMs % HOUR_MS === 0 && offsetMs % HOUR_MS === 0;
}

/** The window offset normalised to [0, windowMs), as both stores apply it. */
export function normOffset(offsetMs: number | undefined, windowMs: number): number {
  return (((offsetMs ?? 0) % windowMs) + windowMs) % windowMs;
}

/** Start of the window holding `t` (windows at offset + k·windowMs). */
export function windowStart(t: number, windowMs: number, offsetMs = 0): number {
  return t - ((((t - offsetMs) % windowMs) + windowMs) % windowMs);
}

/**
 * Split [from, to) into raw and hourly parts for a window of `windowMs` at wall time `now`.
 * An offset that is not whole hours cuts hours, so such windows read raw points.
 */
export function planHistory(from: number, to: number, windowMs: number, now: number, offsetMs = 0): HistoryPlan {
  if (!hourlyWindow(windowMs, offsetMs) || to <= from) return { raw: [{ from, to }] };
  const hs = ceilTo(from, HOUR_MS);
  const he = Math.min(floorTo(to, HOUR_MS), sealedBefore(now));
  if (he <= hs) return { raw: [{ from, to }] };
  const raw: Span[] = [];
  if (from < hs) raw.push({ from, to: hs });
  if (he < to) raw.push({ from: he, to });
  return { raw, hourly: { from: hs, to: he } };
}

/** Partial aggregate of one window from one part: what merges exactly across parts. */
export interface Partial {
  readonly ts: number;
  readonly sum?: number | null;
  readonly count?: number | null;
  readonly min?: number | null;
  readonly max?: number | null;
}

/** Merge partial aggregates of the same windows (keyed by window start) into history points. */
export function mergePartials(agg: Agg, parts: readonly Partial[]): HistoryPoint[] {
  const acc = new Map<number, { sum: number; count: number; ext: number | null }>();
  for (const p of parts) {
    let a = acc.get(p.ts);
    if (!a) acc.set(p.ts, (a = { sum: 0, count: 0, ext: null }));
    if (agg === 'mean') {
      if (typeof p.sum === 'number' && typeof p.count === 'number') {
        a.sum += p.sum;
        a.count += p.count;
      }
    } else {
      const v = agg === 'min' ? p.min : p.max;
      if (typeof v === 'number') a.ext = a.ext === null ? v : agg === 'min' ? Math.min(a.ext, v) : Math.max(a.ext, v);
    }
  }
  return [...acc.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([ts, a]) => ({ ts, value: agg === 'mean' ? (a.count > 0 ? a.sum / a.count : null) : a.ext }))
    .filter((p) => p.value !== null); // fill(none): a window without data is left out
}

/** Split [from, to) into chunks of at most `stepMs` (bounds memory of one SELECT … INTO). */
export function chunks(span: Span, stepMs: number): Span[] {
  const out: Span[] = [];
  for (let t = span.from; t < span.to; t = Math.min(span.to, t + stepMs)) out.push({ from: t, to: Math.min(span.to, t + stepMs) });
  return out;
}

/** The hour-aligned span covering [from, to). */
export function hourSpan(from: number, to: number): Span {
  return { from: floorTo(from, HOUR_MS), to: ceilTo(to, HOUR_MS) };
}
