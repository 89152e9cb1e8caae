/**
 * The journal on disk: `journal-<generation>.log` in one directory, one JSON record per line.
 * Owns the file descriptor, the group write (one write() per event-loop turn, every caller of
 * that turn released by it), the background fdatasync, compaction into the next generation,
 * and replay at start. Knows nothing of what the records mean (journal.persistence.ts).
 *
 * Compaction writes generation n+1 complete (the snapshot records the owner gives), fsyncs
 * it, renames it into place, fsyncs the directory, then removes n; on start the highest
 * complete generation wins. A torn last line (a crash mid-write) is skipped and counted.
 *
 * A failed write (ENOSPC, EIO, a closed descriptor) rejects every caller of that write, so no
 * PUBACK follows it (issue 17), and the file is then *failing*: nothing more is appended to it
 * (its tail may be torn). The in-memory state is the truth and already holds what the failed
 * records described, so recovery is a compaction — the whole live state written as the next
 * generation — tried on the next write and every `retryMs` until it succeeds; the callers
 * waiting on it are released by it. Nothing here throws out of a timer or setImmediate.
 */
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import type { Rec } from './journal.codec.ts';

/** The fs calls the journal makes: the real ones, or a wrapper that injects faults (tests). */
export type JournalFs = Pick<
  typeof nodeFs,
  | 'closeSync'
  | 'fdatasync'
  | 'fsyncSync'
  | 'mkdirSync'
  | 'openSync'
  | 'readFileSync'
  | 'readdirSync'
  | 'renameSync'
  | 'unlinkSync'
  | 'writeSync'
>;

export interface JournalFileOptions {
  /** Compact once the journal file has grown past this many bytes. */
  readonly compactBytes?: number;
  /** Called on a failed write or fsync (the broker logs it). */
  readonly onError?: (err: Error) => void;
  /** While failing, retry the recovery compaction this often (also with no traffic). */
  readonly retryMs?: number;
  readonly fs?: JournalFs;
}

const throwIfFailed = (err: Error | undefined): void => {
  if (err) throw err;
};
const ignore = (): void => {};

/** Lines per write() while compacting. */
const COMPACT_CHUNK_LINES = 4096;

export class JournalFile {
  readonly #dir: string;
  readonly #compactBytes: number;
  readonly #onError: (err: Error) => void;
  /** The live state as records, for compaction. */
  readonly #snapshot: () => Iterable<Rec>;

  #fd: number | undefined;
  #generation = 0;
  #bytes = 0;
  /** Compact past this size: the bound, or twice the live state last written (see #compact). */
  #compactAt: number;
  #pending: string[] = [];
  /** Settles the current batch: undefined when written, the error when not (never rejects). */
  #release: ((err?: Error) => void) | undefined;
  #written: Promise<Error | undefined> | undefined;
  #syncing = false;
  #syncAgain = false;
  #closed = false;
  /** Set by a failed write, fsync or compaction; cleared by the compaction that recovers. */
  #failing: Error | undefined;
  #retry: NodeJS.Timeout | undefined;
  readonly #retryMs: number;
  readonly #fs: JournalFs;
  readonly stats = { writes: 0, records: 0, compactions: 0, skippedOnLoad: 0, writeErrors: 0, recoveries: 0 };

  constructor(dir: string, opts: JournalFileOptions, snapshot: () => Iterable<Rec>) {
    this.#dir = dir;
    this.#compactBytes = opts.compactBytes ?? 64 * 1024 * 1024;
    this.#compactAt = this.#compactBytes;
    this.#onError = opts.onError ?? (() => {});
    this.#retryMs = opts.retryMs ?? 1_000;
    this.#fs = opts.fs ?? nodeFs;
    this.#snapshot = snapshot;
  }

  /** The error that made the journal stop appending, until a compaction has recovered it. */
  get failing(): Error | undefined {
    return this.#failing;
  }

  get generation(): number {
    return this.#generation;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Replay the newest generation through `apply`, then start on a compact file of the replayed state. */
  open(apply: (rec: Rec) => void): void {
    this.#fs.mkdirSync(this.#dir, { recursive: true });
    const gens = this.#fs
      .readdirSync(this.#dir)
      .map((f) => /^journal-(\d+)\.log$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const last = gens[gens.length - 1];
    if (last !== undefined) {
      this.#generation = last;
      this.#load(join(this.#dir, `journal-${last}.log`), apply);
    }
    // Start on a compact file: the replayed history collapses to the live state.
    this.#compact();
    for (const g of gens) if (g !== this.#generation) this.#unlink(g);
    for (const f of this.#fs.readdirSync(this.#dir)) if (f.endsWith('.tmp')) this.#fs.unlinkSync(join(this.#dir, f));
  }

  /** Append a record; resolves once it has been written to the OS (one write per loop turn). */
  append(rec: Rec): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('persistence destroyed'));
    this.#pending.push(JSON.stringify(rec));
    if (!this.#written) {
      this.#written = new Promise<Error | undefined>((res) => (this.#release = res));
      setImmediate(() => this.flush());
    }
    // One `then` for appenders and for pending() alike, so calls stay answered in call order.
    return this.#written.then(throwIfFailed);
  }

  /** Resolves when the records appended so far have been written or refused (now, if none wait). */
  pending(): Promise<void> {
    return this.#written?.then(ignore) ?? Promise.resolve();
  }

  /** Write what is pending now and release its callers (or reject them when the write failed). */
  flush(): void {
    const release = this.#release;
    this.#release = undefined;
    this.#written = undefined;
    if (!this.#pending.length) return release?.();
    const lines = this.#pending;
    this.#pending = [];
    try {
      if (this.#failing || this.#fd === undefined) {
        // The file is behind the memory: the live state, which includes these records'
        // effects, is written whole instead (and the waiting callers are released by it).
        this.#recover();
      } else {
        const buf = Buffer.from(`${lines.join('\n')}\n`);
        let off = 0;
        while (off < buf.length) off += this.#fs.writeSync(this.#fd, buf, off);
        this.#bytes += buf.length;
        this.stats.records += lines.length;
        this.stats.writes++;
        this.#sync();
        if (this.#bytes > this.#compactAt) this.#compactOrFail();
      }
    } catch (e) {
      this.#fail(e as Error);
      release?.(e as Error);
      return;
    }
    release?.();
  }

  /** Flush, make the file durable and close it; later appends are refused. Never throws. */
  close(): void {
    this.flush();
    if (this.#failing) {
      try {
        this.#recover();
      } catch (e) {
        this.#onError(e as Error);
      }
    }
    this.#closed = true;
    if (this.#retry) clearInterval(this.#retry);
    this.#retry = undefined;
    if (this.#fd === undefined) return;
    try {
      this.#fs.fsyncSync(this.#fd);
      this.#fs.closeSync(this.#fd);
    } catch (e) {
      this.#onError(e as Error);
    }
    this.#fd = undefined;
  }

  /** Stop appending to the current file; retry the recovery compaction until it succeeds. */
  #fail(err: Error): void {
    this.stats.writeErrors++;
    const first = !this.#failing;
    this.#failing = err;
    // Reported once per failing spell (every refused write is counted in stats.writeErrors).
    if (first) this.#onError(err);
    if (first && !this.#closed) {
      this.#retry = setInterval(() => {
        if (!this.#failing || this.#written) return; // recovered, or the next flush will try
        try {
          this.#recover();
        } catch (e) {
          this.stats.writeErrors++;
          this.#failing = e as Error;
        }
      }, this.#retryMs);
      this.#retry.unref();
    }
  }

  /** Compaction as recovery: the live state becomes the next generation; throws when it fails. */
  #recover(): void {
    this.#compact();
    if (!this.#failing) return;
    this.#failing = undefined;
    this.stats.recoveries++;
    if (this.#retry) clearInterval(this.#retry);
    this.#retry = undefined;
  }

  /** A size-triggered compaction after a good write: its failure fails the file, not that write's callers. */
  #compactOrFail(): void {
    try {
      this.#compact();
    } catch (e) {
      // The records just written are in the current generation (or, if the rename happened,
      // in the next one, whose snapshot was taken after them): durable either way.
      this.#fail(e as Error);
    }
  }

  /** fdatasync in the background, at most one at a time (a later write asks for another). */
  #sync(): void {
    if (this.#syncing) {
      this.#syncAgain = true;
      return;
    }
    const fd = this.#fd;
    if (fd === undefined) return;
    this.#syncing = true;
    this.#fs.fdatasync(fd, (err) => {
      this.#syncing = false;
      // EBADF: the file was swapped by a compaction (which fsyncs the new one itself). Any
      // other error: the OS may have dropped written pages, so rewrite the whole state.
      if (err && err.code !== 'EBADF' && fd === this.#fd && !this.#closed) this.#fail(err);
      if (this.#syncAgain) {
        this.#syncAgain = false;
        this.#sync();
      }
    });
  }

  /** Write the live state as generation n+1, make it durable, switch to it, drop n. */
  #compact(): void {
    const next = this.#generation + 1;
    const tmp = join(this.#dir, `journal-${next}.log.tmp`);
    const fd = this.#fs.openSync(tmp, 'w');
    let switched = false;
    try {
      this.#writeGeneration(fd, tmp, next);
      switched = true;
    } finally {
      if (!switched) {
        // A failed compaction leaves the current generation as it was; the partial file goes.
        try {
          this.#fs.closeSync(fd);
        } catch {
          // already closed
        }
        try {
          this.#fs.unlinkSync(tmp);
        } catch {
          // renamed already, or never written
        }
      }
    }
  }

  #writeGeneration(fd: number, tmp: string, next: number): void {
    let bytes = 0;
    let chunk: string[] = [];
    const out = () => {
      if (!chunk.length) return;
      const buf = Buffer.from(`${chunk.join('\n')}\n`);
      let off = 0;
      while (off < buf.length) off += this.#fs.writeSync(fd, buf, off);
      bytes += buf.length;
      chunk = [];
    };
    for (const rec of this.#snapshot()) {
      chunk.push(JSON.stringify(rec));
      if (chunk.length >= COMPACT_CHUNK_LINES) out();
    }
    out();
    this.#fs.fsyncSync(fd);
    const file = join(this.#dir, `journal-${next}.log`);
    this.#fs.renameSync(tmp, file);
    // The rename itself must survive a power cut before the old generation goes.
    const d = this.#fs.openSync(this.#dir, 'r');
    this.#fs.fsyncSync(d);
    this.#fs.closeSync(d);
    const old = this.#fd;
    const oldGen = this.#generation;
    this.#fd = this.#fs.openSync(file, 'a');
    this.#fs.closeSync(fd);
    this.#generation = next;
    this.#bytes = bytes;
    // A large live state (an offline ingest's queue: 100,000 messages ≈ 50 MB) must not be
    // rewritten after every few MB of appends: the next compaction waits until the journal
    // has at least doubled, so its cost stays proportional to what was appended.
    this.#compactAt = Math.max(this.#compactBytes, 2 * bytes);
    this.stats.compactions++;
    if (old !== undefined) {
      this.#fs.closeSync(old);
      this.#unlink(oldGen);
    }
  }

  #unlink(gen: number): void {
    try {
      this.#fs.unlinkSync(join(this.#dir, `journal-${gen}.log`));
    } catch {
      // already gone
    }
  }

  /** Replay a journal file (no records written); a line that does not parse or apply is skipped. */
  #load(file: string, apply: (rec: Rec) => void): void {
    const text = this.#fs.readFileSync(file, 'utf8');
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const line = text.slice(start, end);
      start = end + 1;
      if (!line) continue;
      let rec: Rec;
      try {
        rec = JSON.parse(line) as Rec;
      } catch {
        // A torn write at the tail (a crash mid-write): that operation never completed.
        this.stats.skippedOnLoad++;
        continue;
      }
      try {
        apply(rec);
      } catch {
        this.stats.skippedOnLoad++;
      }
    }
  }
}
