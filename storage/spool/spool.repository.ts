/**
 * The telemetry spool's writer: raw telemetry messages (topic, payload, arrival time) appended
 * to segment files under `${dataDir}/spool/` (format: spool.format.ts). A message is
 * acknowledged only after the write holding it has been fdatasync'd; it is forgotten only
 * after its readings are stored. Written by the ingest itself (MQTT mode: it spools what its
 * broker session delivers) or by the broker (spool mode, broker/telemetry-spool.ts: the
 * device's PUBACK waits for this write, and the ingest reads the files with spool.reader.ts).
 *
 * Why files and not SQLite: better-sqlite3 commits on the event loop, and an fsync here costs
 * ~6 ms (measured: SQLite synchronous=FULL peaks at ~32k msgs/s in batches of 1000 while
 * blocking the loop for the whole fsync). A file write + fdatasync runs on libuv's thread
 * pool, so the process keeps reading its sockets while the disk syncs, and everything that
 * arrives meanwhile goes into the next sync (group commit: batches grow with the load).
 *
 * A torn record at the tail (crash mid-write) fails its length or CRC and is cut off.
 * Trimming deletes whole segments; the last trimmed sequence number is kept in `trimmed`
 * (written atomically, not fsync'd: losing it only means re-storing readings, which overwrite
 * themselves). Entries can be stored and still kept (the ingest keeps them until a rules
 * snapshot covers them): the last stored sequence number is kept the same way in `stored`.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CommittedMarker,
  columnsOf,
  decodeRecord,
  encodeColumns,
  readMarker,
  SEGMENT_MAX_BYTES,
  segName,
  spoolDir,
  writeMarker,
  type SpoolColumns,
  type SpoolEntry,
} from './spool.format.ts';

export type { SpoolColumns, SpoolEntry } from './spool.format.ts';

/** `full`: fdatasync before acking (power-cut safe). `normal`: written to the OS only (process-crash safe). */
export type SpoolSync = 'full' | 'normal';

export interface SpoolOpenOptions {
  /**
   * Another process reads the spool (spool mode): keep no recovered entries in memory, publish
   * the `committed` marker after every durable append, and take `trimmed` / `stored` from the
   * reader's markers (`refreshMarks()`) instead of being told.
   */
  readonly sharedWithReader?: boolean;
}

interface Segment {
  readonly firstSeq: number;
  lastSeq: number;
  readonly file: string;
  bytes: number;
}

export class SpoolRepository {
  readonly #dir: string;
  readonly #sync: SpoolSync;
  readonly #shared: boolean;
  #segments: Segment[] = [];
  #fh: FileHandle | undefined;
  #nextSeq = 1;
  #trimmed = 0;
  #stored = 0;
  #recovered: SpoolEntry[] = [];
  #writing: Promise<unknown> = Promise.resolve();
  /** A failed write may have left bytes past the last good record: cut before the next write. */
  #tailDirty = false;
  #committed: CommittedMarker | undefined;
  /** Appends that failed (their callers were refused); surfaced in the metrics. */
  writeErrors = 0;
  /** The error the last append failed with, until an append succeeds again (/health); null when writing. */
  failing: string | null = null;

  private constructor(dir: string, sync: SpoolSync, shared: boolean) {
    this.#dir = dir;
    this.#sync = sync;
    this.#shared = shared;
  }

  /**
   * Open `${dataDir}/spool`, recover its entries (cutting a torn tail), ready to append.
   * Throws when another live process is its writer (a broker in spool mode and an ingest in
   * MQTT mode on one DATA_DIR: two writers would interleave records and break the numbering).
   */
  static open(dataDir: string, sync: SpoolSync = 'full', o: SpoolOpenOptions = {}): SpoolRepository {
    const dir = spoolDir(dataDir);
    mkdirSync(dir, { recursive: true });
    takeWriterLock(dir);
    const s = new SpoolRepository(dir, sync, o.sharedWithReader ?? false);
    s.#recover();
    if (s.#shared) {
      // Everything recovered is durable (it survived this process): the reader may take it.
      s.#committed = new CommittedMarker(dir);
      s.#committed.write(s.#nextSeq - 1);
    }
    return s;
  }

  /** Entries in `${dataDir}/spool` not yet in the store, read without touching the files (tests, health). */
  static pending(dataDir: string): number {
    const s = new SpoolRepository(spoolDir(dataDir), 'normal', false);
    s.#recover(true);
    return s.#recovered.filter((e) => e.seq > s.#stored).length;
  }

  #recover(readOnly = false): void {
    this.#trimmed = readMarker(this.#dir, 'trimmed');
    this.#stored = Math.max(this.#trimmed, readMarker(this.#dir, 'stored'));
    const files = readdirSync(this.#dir)
      .filter((f) => f.endsWith('.seg'))
      .sort();
    for (const f of files) {
      const firstSeq = Number(f.slice(0, -4));
      const path = join(this.#dir, f);
      const buf = readFileSync(path);
      let off = 0;
      let seq = firstSeq;
      for (;;) {
        const r = decodeRecord(buf, off, seq, true);
        if (!r) break;
        if (seq > this.#trimmed && !(this.#shared && !readOnly)) this.#recovered.push(r.entry);
        off = r.next;
        seq++;
      }
      if (readOnly) continue;
      if (off === 0) {
        rmSync(path, { force: true });
        continue;
      }
      if (off < buf.length) {
        // Torn tail from a crash mid-write: never acknowledged, so its sender still has it.
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, off);
        closeSync(fd);
      }
      this.#segments.push({ firstSeq, lastSeq: seq - 1, file: path, bytes: off });
      this.#nextSeq = Math.max(this.#nextSeq, seq);
    }
    this.#nextSeq = Math.max(this.#nextSeq, this.#trimmed + 1);
    this.#dropTrimmedSegments();
  }

  /** Entries left by the previous run, oldest first (drained before anything new). */
  all(): SpoolEntry[] {
    const r = this.#recovered;
    this.#recovered = [];
    return r;
  }

  /**
   * Append one batch with one write and (sync=full) one fdatasync, off the event loop.
   * Resolves once durable; batches are written strictly in call order. A failed write or sync
   * (ENOSPC, EIO) rejects — the caller must not acknowledge — and leaves no trace: the bytes
   * it may have written are cut before the next write, and sequence numbers are given only
   * to written batches, so they keep matching the records' positions on disk (a gap would
   * shift every later number against what a restart reads back, and trimming by them would
   * then drop entries never stored).
   */
  async append(items: readonly Omit<SpoolEntry, 'seq'>[]): Promise<SpoolEntry[]> {
    const first = await this.appendBatch(items);
    return items.map((it, i) => ({ topic: it.topic, payload: it.payload, at: it.at, seq: first + i }));
  }

  /** `append` without building the entries: resolves with the first sequence number. */
  appendBatch(items: readonly Omit<SpoolEntry, 'seq'>[]): Promise<number> {
    return this.appendColumns(columnsOf(items));
  }

  /**
   * `appendBatch` of columns (the broker's spool mode): encoded before this returns, so the
   * caller may reuse the arrays at once; resolves with the first sequence number.
   */
  appendColumns(records: SpoolColumns): Promise<number> {
    const buf = encodeColumns(records);
    const count = records.length;
    const p = this.#writing.then(async () => {
      const first = this.#nextSeq;
      if (!count) return first;
      try {
        if (this.#tailDirty && this.#fh) {
          // A reader must never find a failed batch's records after the good ones (they would
          // take the sequence numbers of the next batch, which may go to a new segment).
          await this.#fh.truncate(this.#segments[this.#segments.length - 1]!.bytes);
          this.#tailDirty = false;
        }
        const seg = await this.#segmentFor(first, buf.length);
        await this.#fh!.write(buf, 0, buf.length, seg.bytes);
        if (this.#sync === 'full') await this.#fh!.datasync();
        seg.bytes += buf.length;
        seg.lastSeq = first + count - 1;
      } catch (e) {
        this.writeErrors++;
        this.failing = String(e).slice(0, 300);
        this.#tailDirty = true;
        throw e;
      }
      this.failing = null;
      this.#nextSeq = first + count;
      this.#committed?.write(this.#nextSeq - 1);
      return first;
    });
    this.#writing = p.catch(() => undefined);
    return p;
  }

  async #segmentFor(firstSeq: number, bytes: number): Promise<Segment> {
    const cur = this.#segments[this.#segments.length - 1];
    if (cur && this.#fh && cur.bytes + bytes <= SEGMENT_MAX_BYTES) return cur;
    const old = this.#fh;
    // Cleared first: a failed open must not leave a closed handle to write to next time.
    this.#fh = undefined;
    if (old) await old.close();
    const seg: Segment = { firstSeq, lastSeq: firstSeq - 1, file: join(this.#dir, segName(firstSeq)), bytes: 0 };
    this.#fh = await open(seg.file, 'w');
    if (this.#sync === 'full') {
      // Make the new file's directory entry durable too.
      const d = await open(this.#dir, 'r');
      await d.sync().catch(() => undefined);
      await d.close();
    }
    this.#segments.push(seg);
    return seg;
  }

  /** Everything up to and including `seq` is stored: forget it. */
  trimThrough(seq: number): void {
    if (seq <= this.#trimmed) return;
    this.#trimmed = seq;
    this.#stored = Math.max(this.#stored, seq);
    this.#writeMarker('trimmed', seq);
    this.#dropTrimmedSegments();
  }

  /**
   * Spool mode: the reader (another process) writes `trimmed` and `stored`; take them from
   * there and delete the segments it no longer needs. Returns the stored mark.
   */
  refreshMarks(): number {
    const trimmed = readMarker(this.#dir, 'trimmed');
    this.#stored = Math.max(this.#stored, trimmed, readMarker(this.#dir, 'stored'));
    if (trimmed > this.#trimmed) {
      this.#trimmed = trimmed;
      this.#dropTrimmedSegments();
    }
    return this.#stored;
  }

  #dropTrimmedSegments(): void {
    // Keep the segment being appended to, even when fully trimmed.
    while (this.#segments.length > 1 && this.#segments[0]!.lastSeq <= this.#trimmed) {
      rmSync(this.#segments.shift()!.file, { force: true });
    }
  }

  /** Everything up to and including `seq` is in the store, but kept (see the header). */
  markStored(seq: number): void {
    if (seq <= this.#stored) return;
    this.#stored = seq;
    this.#writeMarker('stored', seq);
  }

  /** An advisory marker (spool.format.ts writeMarker): a failed write is counted, never thrown. */
  #writeMarker(name: 'trimmed' | 'stored', seq: number): void {
    if (!writeMarker(this.#dir, name, seq)) this.writeErrors++;
  }

  /** The last sequence number known to be in the store (at open: as the previous run left it). */
  storedThrough(): number {
    return this.#stored;
  }

  /** Entries appended and not yet trimmed. */
  count(): number {
    return this.#nextSeq - 1 - this.#trimmed;
  }

  /** Entries appended and not yet stored (spool mode: as of the last `refreshMarks()`). */
  unstored(): number {
    return this.#nextSeq - 1 - this.#stored;
  }

  async close(): Promise<void> {
    await this.#writing;
    await this.#fh?.close();
    this.#fh = undefined;
    this.#committed?.close();
    this.#committed = undefined;
    rmSync(join(this.#dir, WRITER_LOCK), { force: true });
  }
}

const WRITER_LOCK = 'writer.pid';

/** One writer per spool: its pid in `writer.pid`; a dead holder's (SIGKILL) is taken over. */
function takeWriterLock(dir: string): void {
  const f = join(dir, WRITER_LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(f, String(process.pid), { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number(readFileSync(f, 'utf8').trim());
    if (holder === process.pid) return; // reopened by this process
    if (holder > 0 && alive(holder)) {
      throw new Error(
        `the spool in ${dir} is written by process ${holder}: a broker in spool mode and an ingest in MQTT mode on one DATA_DIR? Give both the same INGEST_FEED`,
      );
    }
    rmSync(f, { force: true }); // left by a process that died
  }
  throw new Error(`could not take the spool writer lock ${f}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
