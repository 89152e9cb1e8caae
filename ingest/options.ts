/**
 * The ingest's tuning: one defaults object with units (server.ts and the tests override a
 * few through `IngestDeps.options`).
 */
import type { SpoolSync } from './spool.repository.ts';

export interface IngestOptions {
  /** Readings per store write. */
  readonly batchSize: number;
  /** A partial batch is written once its oldest message is this old, ms. */
  readonly batchAgeMs: number;
  /** Spool bound, messages: past it the ingest stops acking and the broker holds the rest. */
  readonly spoolMaxMessages: number;
  readonly spoolSync: SpoolSync;
  /**
   * Spool mode: messages read from the spool ahead of the store (the rest waits on disk, where
   * the broker's bound applies). A few batches: enough to keep `writeConcurrency` writes
   * busy, few enough that what is read dies young — reading 200,000 messages ahead kept every
   * reading alive across scavenges into the old generation (issue 19).
   */
  readonly spoolReadAhead: number;
  /**
   * Spool mode: the `stored` / `trimmed` marker files are written at most this often, ms (the
   * marks move in memory with every store write; a late file only means re-storing a few
   * readings after a crash). 0: written on every store write.
   */
  readonly spoolMarkEveryMs: number;
  /** Store retry backoff, ms (doubles from min to max). */
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  /** Store writes in flight at once (each up to batchSize readings). */
  readonly writeConcurrency: number;
  /** Readings per live fan-out message. */
  readonly liveChunk: number;
  /** Rules state snapshot period, ms (wall clock; also written on stop). */
  readonly snapshotEveryMs: number;
  /** Dead letters kept in records.db (newest). */
  readonly deadLettersKeep: number;
  /** Recompute downsampled hours made stale by late readings (a backlog), ms; 0 = never. */
  readonly downsampleFlushEveryMs: number;
  /** Compare raw and downsampled counts over the last `reconcileSpanMs` and repair, ms; 0 = never. */
  readonly reconcileEveryMs: number;
  readonly reconcileSpanMs: number;
  /** Rules watermark: how late a reading may arrive on a quiet stream before time-outs pass it, ms. */
  readonly watermarkLatenessMs: number;
  /** How often the rules watermark follows the clock when no reading arrives, ms. */
  readonly watermarkTickMs: number;
  /** Forecast rounds (issue #20): newest weather forecasts taken from the store and the forecaster's watermark moved, ms. */
  readonly forecastEveryMs: number;
}

export const defaultIngestOptions: IngestOptions = Object.freeze({
  batchSize: 5000,
  batchAgeMs: 50,
  writeConcurrency: 2,
  spoolMaxMessages: 200_000,
  spoolSync: 'full',
  spoolReadAhead: 20_000,
  spoolMarkEveryMs: 100,
  retryMinMs: 100,
  retryMaxMs: 1000,
  liveChunk: 1000,
  snapshotEveryMs: 60_000,
  deadLettersKeep: 100_000,
  downsampleFlushEveryMs: 60_000,
  reconcileEveryMs: 3_600_000,
  reconcileSpanMs: 2 * 24 * 3_600_000,
  watermarkLatenessMs: 30_000,
  watermarkTickMs: 5_000,
  forecastEveryMs: 60_000,
});
