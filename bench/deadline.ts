/**
 * Deadlines for the bench harness's awaited network steps (issue 19): a step that never
 * answers — a PUBLISH whose PUBACK never comes, a SUBSCRIBE with no SUBACK — fails with a
 * message naming the stage instead of holding the whole bench run (and its results table).
 */

/** The error of a step past its deadline; `stage` is what was awaited, e.g. "redis row: ingest-ready probe got no PUBACK". */
export class DeadlineError extends Error {
  constructor(
    readonly stage: string,
    readonly ms: number,
  ) {
    super(`${stage} in ${formatMs(ms)}`);
    this.name = 'DeadlineError';
  }
}

/** "60 s", "1.5 s", "250 ms". */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(1))} s` : `${ms} ms`;
}

/**
 * `work`, or a DeadlineError once `ms` have passed without it settling. `onTimeout` runs at
 * the deadline (e.g. to close the client the stuck step holds). The timer never outlives `work`.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, stage: string, onTimeout?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      try {
        onTimeout?.();
      } finally {
        reject(new DeadlineError(stage, ms));
      }
    }, ms);
    work.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
