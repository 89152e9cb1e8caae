/**
 * A validated reading, normalised: event time in epoch ms, numeric fields only, with the
 * device's location from the registry. This is what the store writes and the rules read.
 */
import type { ReadingPlace } from './topology.schema.ts';

export interface Reading extends ReadingPlace {
  /** Event time, epoch ms (UTC). */
  readonly ts: number;
  readonly fields: Readonly<Record<string, number>>;
}

/** Parse a protocol timestamp (ISO-8601 or epoch ms) to epoch ms; NaN when invalid. */
export function parseTimestamp(ts: string | number): number {
  if (typeof ts === 'number') return Number.isFinite(ts) ? Math.round(ts) : Number.NaN;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(ts)) return Number.NaN;
  return Date.parse(ts);
}
