/**
 * Spool mode (issue 19): the ingest's telemetry comes from the spool the broker writes in
 * this machine's DATA_DIR (broker/telemetry-spool.ts), not from an MQTT session. This reads
 * committed entries as the broker's `committed` marker moves (an inotify watch on it, with a
 * slow poll as a fallback for a missed event or a broker not started yet) and hands them to
 * the write pipeline, never more than `maxBacklog` messages ahead of the store: the rest
 * waits on disk, where the broker's own bound applies.
 */
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { spoolDir } from '../storage/spool/spool.format.ts';
import { SpoolReader } from '../storage/spool/spool.reader.ts';
import type { SpoolEntry } from '../storage/spool/spool.repository.ts';

export interface SpoolFeedDeps {
  readonly dataDir: string;
  /** Messages read and not yet stored, past which reading waits. */
  readonly maxBacklog: number;
  /** Marker files written at most this often, ms (SpoolReaderOptions.markEveryMs). */
  readonly markEveryMs: number;
  /** Entries per hand-over (the pipeline batches by readings itself). */
  readonly chunk: number;
  /** The pipeline's backlog (messages handed over and not yet stored). */
  readonly backlog: () => number;
  /**
   * The entries read: their payloads are views into the reader's buffer, overwritten by the
   * next read — decoded before `push` returns, and copied where kept (a dead letter's raw).
   */
  readonly push: (entries: SpoolEntry[]) => void;
  readonly logger: Logger;
}

const POLL_MS = 250;

export class SpoolFeed {
  readonly #d: SpoolFeedDeps;
  readonly reader: SpoolReader;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  /** Messages read from the spool since start. */
  messages = 0;

  constructor(d: SpoolFeedDeps) {
    this.#d = d;
    this.reader = SpoolReader.open(d.dataDir, { markEveryMs: d.markEveryMs });
  }

  /** Begin following the broker's commits. */
  start(): void {
    this.#running = true;
    this.#timer = setInterval(() => {
      this.#watch();
      this.pump();
    }, POLL_MS);
    this.#timer.unref();
    this.#watch();
    this.pump();
  }

  #watch(): void {
    if (this.#watcher || !this.#running) return;
    try {
      this.#watcher = watch(join(spoolDir(this.#d.dataDir), 'committed'), { persistent: false }, () => this.pump());
      this.#watcher.on('error', () => {
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      // No marker yet (the broker has not opened the spool): the poll tries again.
    }
  }

  /** Hand over what is committed, as far as the bound allows (also after every store write). */
  pump(): void {
    if (!this.#running) return;
    for (;;) {
      const room = this.#d.maxBacklog - this.#d.backlog();
      if (room <= 0) return;
      let entries: SpoolEntry[];
      try {
        entries = this.reader.read(Math.min(room, this.#d.chunk), Number.POSITIVE_INFINITY, true);
      } catch (err) {
        // An unreadable spool must not crash the ingest; the poll tries again.
        this.#d.logger.error({ err: String(err) }, 'spool read failed');
        return;
      }
      if (!entries.length) return;
      this.messages += entries.length;
      this.#d.push(entries);
    }
  }

  /** Committed entries not read yet. */
  unread(): number {
    return Math.max(0, this.reader.committed() - this.reader.position + 1);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) clearInterval(this.#timer);
    this.#watcher?.close();
    this.#watcher = this.#timer = undefined;
  }

  close(): void {
    this.stop();
    this.reader.close();
  }
}
