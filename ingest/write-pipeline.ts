/**
 * The ordered write pipeline from the spool to the store: batches by size and age,
 * `writeConcurrency` writes in flight (InfluxDB takes concurrent writes; one at a time leaves
 * it idle while the next batch is built), retry with backoff until the store acknowledges,
 * and a bisect when the store refuses the batch itself, to find the points it refuses.
 * Batches finish in any order, but `stored` is called in batch order: the spool is trimmed
 * only through a contiguous stored prefix, and the rules see each device's readings in
 * event-time order.
 * `stored` may throw (the dead letters of a batch that records.db refuses, issue 17): it must
 * do so before any side effect of its own. That batch and every one after it then wait,
 * untrimmed in the spool, and it is handed on again after a backoff until it goes through;
 * meanwhile nothing new is written, so the spool bound withholds PUBACKs. Never a crash.
 */
import type { Logger } from 'pino';
import type { Reading } from '../domain/reading.ts';
import type { ReadingStore } from '../storage/readings/reading-store.ts';
import type { Work } from './telemetry.decoder.ts';

export interface WritePipelineOptions {
  readonly batchSize: number;
  readonly batchAgeMs: number;
  readonly writeConcurrency: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
}

/** One store write, handed to `stored` once it and every batch before it are in the store. */
export interface StoredBatch {
  readonly batch: readonly Work[];
  readonly readings: readonly Reading[];
  /** Points the store refused on their own (dead-lettered by the caller). */
  readonly refused: readonly Reading[];
}

interface InFlight {
  readonly batch: Work[];
  readonly readings: Reading[];
  state: 'writing' | 'stored' | 'failed';
  refused: Reading[];
  /** Settles when the write ended (stored or failed). */
  done: Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class WritePipeline {
  readonly #store: Pick<ReadingStore, 'write'>;
  readonly #o: WritePipelineOptions;
  readonly #log: Logger;
  readonly #stored: (b: StoredBatch) => void;
  /**
   * Queued work from `#head` on. Taken by index, not `shift()`: shift copies the whole array
   * once it is large, and a backlog of 200,000 messages made `#pump` 18 % of the ingest's CPU
   * (bench/ingest.bench.ts profile, 1 reading/message). Compacted as the head advances.
   */
  #queue: Work[] = [];
  #head = 0;
  #queuedReadings = 0;
  /** Messages handed in and not yet past `stored`. */
  #backlog = 0;
  readonly #inFlight: InFlight[] = [];
  #ageTimer: NodeJS.Timeout | undefined;
  #flushDue = false;
  #stopping = false;
  /** A `stored` that threw, handed on again when this fires; `#afterDelay` is its backoff. */
  #afterRetry: NodeJS.Timeout | undefined;
  #afterDelay = 0;
  /** `afterStoreFailing`: the error `stored` threw last, until it goes through (/health). */
  readonly afterStore = { errors: 0, failing: null as string | null };
  /** `storeFailing`: the last write attempt failed and is being retried (/health); cleared by a success. */
  readonly counters = { storeWrites: 0, storeErrors: 0, lastStoreError: undefined as string | undefined, storeFailing: false };
  /** Called after every write ended (room freed for the group commit's bound). */
  onSettled: () => void = () => undefined;

  constructor(store: Pick<ReadingStore, 'write'>, o: WritePipelineOptions, log: Logger, stored: (b: StoredBatch) => void) {
    this.#store = store;
    this.#o = o;
    this.#log = log;
    this.#stored = stored;
  }

  /** Messages handed in and not yet stored. */
  backlog(): number {
    return this.#backlog;
  }

  push(works: readonly Work[]): void {
    for (const w of works) {
      this.#queue.push(w);
      this.#queuedReadings += w.readings.length;
    }
    this.#backlog += works.length;
    this.#pump();
  }

  /** Forget what is queued (start(): the spool is the truth, it is read again). */
  reset(): void {
    this.#stopping = false;
    this.#queue = [];
    this.#head = 0;
    this.#queuedReadings = 0;
    this.#backlog = 0;
    this.afterStore.failing = null;
  }

  /** Start no more writes; a failing write gives up (its batch stays in the spool). */
  halt(): void {
    this.#stopping = true;
    if (this.#ageTimer) clearTimeout(this.#ageTimer);
    this.#ageTimer = undefined;
    if (this.#afterRetry) {
      clearTimeout(this.#afterRetry);
      this.#afterRetry = undefined;
      this.#settle(); // gives those batches up (they stay in the spool)
    }
  }

  /** Resolves once no write is in flight. */
  async drain(): Promise<void> {
    while (this.#inFlight.length) await Promise.all(this.#inFlight.map((f) => f.done));
  }

  get stopping(): boolean {
    return this.#stopping;
  }

  async #writeWithRetry(readings: Reading[]): Promise<Reading[]> {
    const c = this.counters;
    let delay = this.#o.retryMinMs;
    for (;;) {
      try {
        await this.#store.write(readings);
        c.storeWrites++;
        c.storeFailing = false;
        return [];
      } catch (e) {
        const retryable = (e as { retryable?: boolean }).retryable ?? true;
        c.storeErrors++;
        c.lastStoreError = String(e).slice(0, 300);
        if (!retryable) {
          // The store refuses the batch itself (e.g. a field type conflict): bisect to find
          // the points it refuses, write the rest, dead-letter those.
          if (readings.length === 1) return readings;
          const half = Math.ceil(readings.length / 2);
          return [...(await this.#writeWithRetry(readings.slice(0, half))), ...(await this.#writeWithRetry(readings.slice(half)))];
        }
        if (this.#stopping) throw e;
        c.storeFailing = true;
        this.#log.warn({ err: c.lastStoreError, delayMs: delay, readings: readings.length }, 'store write failed, retrying');
        await sleep(delay);
        delay = Math.min(delay * 2, this.#o.retryMaxMs);
      }
    }
  }

  #pump(): void {
    const o = this.#o;
    const q = this.#queue;
    while (!this.#stopping && q.length > this.#head && this.#inFlight.length < o.writeConcurrency) {
      if (this.#queuedReadings < o.batchSize && !this.#flushDue && q.length - this.#head < o.batchSize) {
        // Wait for the batch to fill or age. Real time on purpose: this is I/O batching, not
        // domain time, and must not depend on a driven clock.
        this.#ageTimer ??= setTimeout(() => {
          this.#ageTimer = undefined;
          this.#flushDue = true;
          this.#pump();
        }, o.batchAgeMs);
        return;
      }
      this.#flushDue = false;
      if (this.#ageTimer) {
        clearTimeout(this.#ageTimer);
        this.#ageTimer = undefined;
      }
      const take: Work[] = [];
      let n = 0;
      while (q.length > this.#head && (take.length === 0 || n + q[this.#head]!.readings.length <= o.batchSize)) {
        const w = q[this.#head]!;
        q[this.#head++] = undefined as unknown as Work; // let it be collected once written
        take.push(w);
        n += w.readings.length;
      }
      if (this.#head === q.length) {
        q.length = 0;
        this.#head = 0;
      } else if (this.#head >= 4096 && this.#head * 2 >= q.length) {
        q.splice(0, this.#head); // amortised: at most once per `head` taken
        this.#head = 0;
      }
      this.#queuedReadings -= n;
      const readings = take.flatMap((w) => w.readings);
      const f: InFlight = { batch: take, readings, state: 'writing', refused: [], done: Promise.resolve() };
      this.#inFlight.push(f);
      f.done = (readings.length ? this.#writeWithRetry(readings) : Promise.resolve([] as Reading[]))
        .then(
          (refused) => {
            f.state = 'stored';
            f.refused = refused;
          },
          (e: unknown) => {
            // Only when stopping: the batch stays in the spool for the next start.
            f.state = 'failed';
            this.#log.warn({ err: String(e) }, 'batch left in spool');
          },
        )
        .finally(() => {
          this.#settle();
          this.onSettled();
          this.#pump();
        });
    }
  }

  #afterStoreFailed(e: unknown): void {
    const a = this.afterStore;
    a.errors++;
    a.failing = String(e).slice(0, 300);
    if (this.#stopping) return;
    this.#afterDelay = Math.min(Math.max(this.#afterDelay * 2, this.#o.retryMinMs), this.#o.retryMaxMs);
    this.#log.error({ err: a.failing, delayMs: this.#afterDelay }, 'after a store write: failed (spool not trimmed), retrying');
    this.#afterRetry = setTimeout(() => {
      this.#afterRetry = undefined;
      this.#settle();
      this.onSettled();
      this.#pump();
    }, this.#afterDelay);
  }

  /** Hand on the stored prefix of the in-flight batches, in batch order. */
  #settle(): void {
    const fl = this.#inFlight;
    while (fl.length && fl[0]!.state === 'stored' && !this.#afterRetry) {
      const f = fl.shift()!;
      this.#backlog -= f.batch.length;
      // Stopping after `stored` failed: the rest stays in the spool for the next start.
      if (this.#stopping && this.afterStore.failing !== null) continue;
      try {
        this.#stored(f);
      } catch (e) {
        fl.unshift(f);
        this.#backlog += f.batch.length;
        this.#afterStoreFailed(e);
        continue;
      }
      this.afterStore.failing = null;
      this.#afterDelay = 0;
    }
    if (fl.length && fl[0]!.state === 'failed' && fl.every((f) => f.state !== 'writing')) {
      // Stopping with a failed write: put it and everything after it back, in order (written
      // ones will be written again — a point overwrites itself).
      const back = fl.splice(0).flatMap((f) => f.batch);
      this.#queue = [...back, ...this.#queue.slice(this.#head)];
      this.#head = 0;
      for (const w of back) this.#queuedReadings += w.readings.length;
    }
  }
}
