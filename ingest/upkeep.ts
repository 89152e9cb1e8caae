/**
 * Keeps the store's downsampled (season-long) series right, off the write path: hours made
 * stale by late readings are recomputed every minute, and an hourly reconcile repairs what a
 * missed continuous query or a lost stale mark left behind (storage/readings/SCHEMA.md).
 * Real-time timers on purpose, like the batching: storage upkeep, not domain time.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import type { ReadingStore } from '../storage/readings/reading-store.ts';
import type { IngestOptions } from './options.ts';

export interface Upkeep {
  stop(): void;
}

export function startUpkeep(
  store: Pick<ReadingStore, 'flushDownsampled' | 'reconcileDownsampled'>,
  o: Pick<IngestOptions, 'downsampleFlushEveryMs' | 'reconcileEveryMs' | 'reconcileSpanMs'>,
  clock: Clock,
  log: Logger,
): Upkeep {
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  const every = (ms: number, what: string, f: () => Promise<number>) => {
    if (!ms) return;
    let running = false;
    const t = setInterval(() => {
      if (running || stopped) return;
      running = true;
      void f()
        .then((n) => {
          if (n) log.info({ hours: n }, `${what}: downsampled hours recomputed`);
        })
        .catch((e: unknown) => log.warn({ err: String(e) }, `${what} failed; retried on the next tick`))
        .finally(() => (running = false));
    }, ms);
    t.unref();
    timers.push(t);
  };
  if (store.flushDownsampled) every(o.downsampleFlushEveryMs, 'flush', () => store.flushDownsampled!());
  if (store.reconcileDownsampled) {
    every(o.reconcileEveryMs, 'reconcile', () => {
      const now = clock.now();
      return store.reconcileDownsampled!(now - o.reconcileSpanMs, now);
    });
  }
  return {
    stop() {
      stopped = true;
      for (const t of timers.splice(0)) clearInterval(t);
    },
  };
}
