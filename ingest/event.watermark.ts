/**
 * The event-time watermark both ingest runners advance their engines to (rules-runner.ts,
 * forecast-runner.ts), so the two cannot disagree on when a silent stream times out.
 */

/**
 * The watermark the clock allows: the newest event time, moved on by the wall time since the
 * last reading arrived less the allowed lateness, never past the clock. A backlog being
 * caught up keeps arriving, so its own event time leads; a silent stream still times out.
 * Nothing seen yet (`maxEventTs` −∞): nothing can time out, so −∞.
 */
export function eventWatermark(maxEventTs: number, lastArrival: number, now: number, latenessMs: number): number {
  if (!Number.isFinite(maxEventTs)) return Number.NEGATIVE_INFINITY;
  const w = maxEventTs + Math.max(0, now - lastArrival - latenessMs);
  return w < now ? w : now;
}
