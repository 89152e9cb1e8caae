/**
 * The journal on disk: `journal-<generation>.log` in one directory, one JSON record per line.
 * Owns the file descriptor, the group write (one write() per event-loop turn, every caller of
 * that turn released by it), the background fdatasync, compaction into the next generation,
 * and replay at start. Knows nothing of what the records mean (journal.persistence.ts).
 *
 * Compaction writes generation n+1 complete (the snapshot records the owner gives), fsyncs
 * it, renames it into place, fsyncs the directory, then removes n; on start the highest
 * complete generation wins. A torn last line (a crash mid-write) is skipped and counted.
 */
import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Rec } from './journal.codec.ts';

export interface JournalFileOptions {
  /** Compact once the journal file has grown past this many bytes. */
  readonly compactBytes?: number;
  /** Called on a failed write or fsync (the broker logs it). */
  readonly onError?: (err: Error) => void;
}

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
  #release: (() => void) | undefined;
  #written: Promise<void> | undefined;
  #syncing = false;
  #syncAgain = false;
  #closed = false;
  readonly stats = { writes: 0, records: 0, compactions: 0, skippedOnLoad: 0 };

  constructor(dir: string, opts: JournalFileOptions, snapshot: () => Iterable<Rec>) {
    this.#dir = dir;
    this.#compactBytes = opts.compactBytes ?? 64 * 1024 * 1024;
    this.#compactAt = this.#compactBytes;
    this.#onError = opts.onError ?? (() => {});
    this.#snapshot = snapshot;
  }

  get generation(): number {
    return this.#generation;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Replay the newest generation through `apply`, then start on a compact file of the replayed state. */
  open(apply: (rec: Rec) => void): void {
    mkdirSync(this.#dir, { recursive: true });
    const gens = readdirSync(this.#dir)
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
    for (const f of readdirSync(this.#dir)) if (f.endsWith('.tmp')) unlinkSync(join(this.#dir, f));
  }

  /** Append a record; resolves once it has been written to the OS (one write per loop turn). */
  append(rec: Rec): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('persistence destroyed'));
    this.#pending.push(JSON.stringify(rec));
    if (!this.#written) {
      this.#written = new Promise<void>((res) => (this.#release = res));
      setImmediate(() => this.flush());
    }
    return this.#written;
  }

  /** Resolves when the records appended so far have been written (now, if none wait). */
  pending(): Promise<void> {
    return this.#written ?? Promise.resolve();
  }

  /** Write what is pending now and release its callers. */
  flush(): void {
    const release = this.#release;
    this.#release = undefined;
    this.#written = undefined;
    if (this.#pending.length && this.#fd !== undefined) {
      const buf = Buffer.from(`${this.#pending.join('\n')}\n`);
      this.stats.records += this.#pending.length;
      this.#pending = [];
      try {
        let off = 0;
        while (off < buf.length) off += writeSync(this.#fd, buf, off);
        this.#bytes += buf.length;
        this.stats.writes++;
      } catch (e) {
        this.#onError(e as Error);
      }
      this.#sync();
      if (this.#bytes > this.#compactAt) this.#compact();
    }
    release?.();
  }

  /** Flush, make the file durable and close it; later appends are refused. */
  close(): void {
    this.flush();
    this.#closed = true;
    if (this.#fd === undefined) return;
    try {
      fsyncSync(this.#fd);
    } catch (e) {
      this.#onError(e as Error);
    }
    closeSync(this.#fd);
    this.#fd = undefined;
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
    fdatasync(fd, (err) => {
      this.#syncing = false;
      // EBADF: the file was swapped by a compaction (which fsyncs the new one itself).
      if (err && err.code !== 'EBADF') this.#onError(err);
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
    const fd = openSync(tmp, 'w');
    let bytes = 0;
    let chunk: string[] = [];
    const out = () => {
      if (!chunk.length) return;
      const buf = Buffer.from(`${chunk.join('\n')}\n`);
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off);
      bytes += buf.length;
      chunk = [];
    };
    for (const rec of this.#snapshot()) {
      chunk.push(JSON.stringify(rec));
      if (chunk.length >= COMPACT_CHUNK_LINES) out();
    }
    out();
    fsyncSync(fd);
    const file = join(this.#dir, `journal-${next}.log`);
    renameSync(tmp, file);
    // The rename itself must survive a power cut before the old generation goes.
    const d = openSync(this.#dir, 'r');
    fsyncSync(d);
    closeSync(d);
    const old = this.#fd;
    const oldGen = this.#generation;
    this.#fd = openSync(file, 'a');
    closeSync(fd);
    this.#generation = next;
    this.#bytes = bytes;
    // A large live state (an offline ingest's queue: 100,000 messages ≈ 50 MB) must not be
    // rewritten after every few MB of appends: the next compaction waits until the journal
    // has at least doubled, so its cost stays proportional to what was appended.
    this.#compactAt = Math.max(this.#compactBytes, 2 * bytes);
    this.stats.compactions++;
    if (old !== undefined) {
      closeSync(old);
      this.#unlink(oldGen);
    }
  }

  #unlink(gen: number): void {
    try {
      unlinkSync(join(this.#dir, `journal-${gen}.log`));
    } catch {
      // already gone
    }
  }

  /** Replay a journal file (no records written); a line that does not parse or apply is skipped. */
  #load(file: string, apply: (rec: Rec) => void): void {
    const text = readFileSync(file, 'utf8');
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
