/**
 * The telemetry spool's reader in another process than its writer (spool mode: the broker
 * writes `${dataDir}/spool`, the ingest reads it). Reads forward from the first entry not yet
 * trimmed, never past the writer's `committed` marker (so never a record that is not durable
 * yet, or one a failed write left behind), and keeps the consumer's marks: `stored` and
 * `trimmed` (which also deletes the segments before it; the writer never writes to an older
 * segment again, and keeps the newest one).
 *
 * The marks move in memory at once and reach their files at most every `markEveryMs` (a
 * file write + rename + directory listing per store batch was ~4 % of the ingest's CPU in
 * the issue 19 profile), with a trailing write when they moved since and one at `close()`.
 * A mark only ever holds a value the caller gave it, i.e. readings the store acknowledged;
 * one that reaches its file late only means re-storing a few readings after a crash, which
 * overwrite themselves. A segment is deleted only once the `trimmed` file says so.
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecord, decodeRecords, HEADER, readMarker, segName, spoolDir, writeMarker, type SpoolEntry } from './spool.format.ts';

const CHUNK = 1 << 20;

export interface SpoolReaderOptions {
  /** Marker files written at most this often, ms (default 0: on every move). */
  readonly markEveryMs?: number;
}

export class SpoolReader {
  readonly #dir: string;
  #fd: number | undefined;
  /** Byte offset in the open segment of the record `#nextSeq`. */
  #off = 0;
  #nextSeq: number;
  #trimmed: number;
  #stored: number;
  /** The values in the marker files (as of the last write). */
  #trimmedFile: number;
  #storedFile: number;
  readonly #markEveryMs: number;
  #markTimer: NodeJS.Timeout | undefined;
  #markedAt = Number.NEGATIVE_INFINITY;
  #committedFd: number | undefined;
  #committed = 0;
  /** One read buffer, reused: entries get their own copies of their payloads, or views into it (`read`'s `views`). */
  #buf = Buffer.allocUnsafe(CHUNK);
  /** Marker writes that failed (advisory: retried with the next value). */
  writeErrors = 0;

  private constructor(dir: string, o: SpoolReaderOptions) {
    this.#dir = dir;
    this.#trimmed = this.#trimmedFile = readMarker(dir, 'trimmed');
    this.#stored = this.#storedFile = Math.max(this.#trimmed, readMarker(dir, 'stored'));
    this.#nextSeq = this.#trimmed + 1;
    this.#markEveryMs = o.markEveryMs ?? 0;
  }

  /** Open `${dataDir}/spool` for reading, positioned at the first entry not yet trimmed. */
  static open(dataDir: string, o: SpoolReaderOptions = {}): SpoolReader {
    const r = new SpoolReader(spoolDir(dataDir), o);
    r.#position();
    return r;
  }

  /** Find the segment holding `#nextSeq` and the record's offset in it. */
  #position(): void {
    const segs = this.#segments();
    const holder = [...segs].reverse().find((s) => s.firstSeq <= this.#nextSeq);
    if (!holder) return; // nothing written yet: opened by name once committed
    this.#fd = openSync(holder.file, 'r');
    let seq = holder.firstSeq;
    let off = 0;
    const buf = this.#buf;
    while (seq < this.#nextSeq) {
      const n = readSync(this.#fd, buf, 0, buf.length, off);
      let pos = 0;
      for (;;) {
        if (seq >= this.#nextSeq) break;
        const r = decodeRecord(buf.subarray(0, n), pos, seq, false);
        if (!r) break;
        pos = r.next;
        seq++;
      }
      if (pos === 0) break; // end of this segment's records
      off += pos;
    }
    this.#off = off;
    if (seq < this.#nextSeq) {
      // The holder ends before #nextSeq: it starts the segment named by it, when written.
      closeSync(this.#fd);
      this.#fd = undefined;
      this.#off = 0;
    }
  }

  #segments(): { firstSeq: number; file: string }[] {
    if (!existsSync(this.#dir)) return [];
    return readdirSync(this.#dir)
      .filter((f) => f.endsWith('.seg'))
      .sort()
      .map((f) => ({ firstSeq: Number(f.slice(0, -4)), file: join(this.#dir, f) }));
  }

  /** The writer's durable mark (0 until it has opened the spool). */
  committed(): number {
    if (this.#committedFd === undefined) {
      const f = join(this.#dir, 'committed');
      if (!existsSync(f)) return this.#committed;
      this.#committedFd = openSync(f, 'r');
    }
    const b = Buffer.alloc(24);
    const n = readSync(this.#committedFd, b, 0, b.length, 0);
    // Empty for an instant while a restarting writer recreates it: keep the last value.
    const v = Number(b.toString('utf8', 0, n).trim());
    if (v > 0) this.#committed = v;
    return this.#committed;
  }

  /** The next sequence number to read. */
  get position(): number {
    return this.#nextSeq;
  }

  /**
   * Up to `max` committed entries (and none past `until`) from the current position, oldest
   * first. `views`: their payloads are views into the read buffer, which the next `read`
   * overwrites — for a caller done with them before it reads again, who copies what it keeps.
   */
  read(max: number, until = Number.POSITIVE_INFINITY, views = false): SpoolEntry[] {
    const through = Math.min(this.committed(), until);
    const out: SpoolEntry[] = [];
    while (out.length < max && this.#nextSeq <= through) {
      if (this.#fd === undefined && !this.#openNamed()) break;
      if (views && out.length) break; // the next read would overwrite what they view
      const buf = this.#buf;
      const n = readSync(this.#fd!, buf, 0, buf.length, this.#off);
      const data = buf.subarray(0, n);
      const got = decodeRecords(data, this.#nextSeq, through, out, max, !views);
      this.#nextSeq += got.records;
      this.#off += got.bytes;
      if (got.bytes > 0) continue;
      if (n >= HEADER && n === buf.length && data.readUInt32LE(0) + HEADER > n) {
        this.#buf = Buffer.allocUnsafe(data.readUInt32LE(0) + HEADER); // one record larger than the buffer
        continue;
      }
      // No committed record here: this segment has ended, the next one is named by it.
      closeSync(this.#fd!);
      this.#fd = undefined;
      this.#off = 0;
      if (!this.#openNamed()) break;
    }
    return out;
  }

  #openNamed(): boolean {
    const f = join(this.#dir, segName(this.#nextSeq));
    if (!existsSync(f)) return false;
    this.#fd = openSync(f, 'r');
    this.#off = 0;
    return true;
  }

  storedThrough(): number {
    return this.#stored;
  }

  /** Everything through `seq` is in the store, but kept (for the rules). */
  markStored(seq: number): void {
    if (seq <= this.#stored) return;
    this.#stored = seq;
    this.#marksMoved();
  }

  /** Everything through `seq` is stored and may be forgotten: delete the segments before it (once its file says so). */
  trimThrough(seq: number): void {
    if (seq <= this.#trimmed) return;
    this.#trimmed = seq;
    this.#stored = Math.max(this.#stored, seq);
    this.#marksMoved();
  }

  #marksMoved(): void {
    if (this.#markTimer) return; // the trailing write takes the newest values
    // Real time on purpose (I/O batching, as the write pipeline's), never a driven clock.
    const wait = this.#markedAt + this.#markEveryMs - performance.now();
    if (wait <= 0) return this.flushMarks();
    this.#markTimer = setTimeout(() => {
      this.#markTimer = undefined;
      this.flushMarks();
    }, wait);
    this.#markTimer.unref();
  }

  /** Write the marks that moved since their last write (also done by `close()`). */
  flushMarks(): void {
    if (this.#markTimer) clearTimeout(this.#markTimer);
    this.#markTimer = undefined;
    this.#markedAt = performance.now();
    if (this.#stored > this.#storedFile && this.#stored > this.#trimmed) {
      if (this.#mark('stored', this.#stored)) this.#storedFile = this.#stored;
    }
    if (this.#trimmed <= this.#trimmedFile) return;
    const seq = this.#trimmed;
    if (!this.#mark('trimmed', seq)) return; // the segments stay until the mark is on disk
    this.#trimmedFile = seq;
    const segs = this.#segments();
    // A segment ends where the next begins; the newest (the writer's) is always kept.
    for (let i = 0; i + 1 < segs.length && segs[i + 1]!.firstSeq - 1 <= seq; i++) rmSync(segs[i]!.file, { force: true });
  }

  #mark(name: 'stored' | 'trimmed', seq: number): boolean {
    if (writeMarker(this.#dir, name, seq)) return true;
    this.writeErrors++;
    // Advisory: a failed write is tried again with the next move (or at close).
    return false;
  }

  close(): void {
    this.flushMarks();
    if (this.#fd !== undefined) closeSync(this.#fd);
    if (this.#committedFd !== undefined) closeSync(this.#committedFd);
    this.#fd = this.#committedFd = undefined;
  }
}
