/**
 * The telemetry spool's reader in another process than its writer (spool mode: the broker
 * writes `${dataDir}/spool`, the ingest reads it). Reads forward from the first entry not yet
 * trimmed, never past the writer's `committed` marker (so never a record that is not durable
 * yet, or one a failed write left behind), and keeps the consumer's marks: `stored` and
 * `trimmed` (which also deletes the segments before it; the writer never writes to an older
 * segment again, and keeps the newest one).
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecord, decodeRecords, HEADER, readMarker, segName, spoolDir, writeMarker, type SpoolEntry } from './spool.format.ts';

const CHUNK = 1 << 20;

export class SpoolReader {
  readonly #dir: string;
  #fd: number | undefined;
  /** Byte offset in the open segment of the record `#nextSeq`. */
  #off = 0;
  #nextSeq: number;
  #trimmed: number;
  #stored: number;
  #committedFd: number | undefined;
  #committed = 0;
  /** One read buffer, reused: the entries get their own copies of their payloads. */
  #buf = Buffer.allocUnsafe(CHUNK);
  /** Marker writes that failed (advisory: retried with the next value). */
  writeErrors = 0;

  private constructor(dir: string) {
    this.#dir = dir;
    this.#trimmed = readMarker(dir, 'trimmed');
    this.#stored = Math.max(this.#trimmed, readMarker(dir, 'stored'));
    this.#nextSeq = this.#trimmed + 1;
  }

  /** Open `${dataDir}/spool` for reading, positioned at the first entry not yet trimmed. */
  static open(dataDir: string): SpoolReader {
    const r = new SpoolReader(spoolDir(dataDir));
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

  /** Up to `max` committed entries (and none past `until`) from the current position, oldest first. */
  read(max: number, until = Number.POSITIVE_INFINITY): SpoolEntry[] {
    const through = Math.min(this.committed(), until);
    const out: SpoolEntry[] = [];
    while (out.length < max && this.#nextSeq <= through) {
      if (this.#fd === undefined && !this.#openNamed()) break;
      const buf = this.#buf;
      const n = readSync(this.#fd!, buf, 0, buf.length, this.#off);
      const data = buf.subarray(0, n);
      const got = decodeRecords(data, this.#nextSeq, through, out, max);
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
    this.#mark('stored', seq);
  }

  /** Everything through `seq` is stored and may be forgotten: delete the segments before it. */
  trimThrough(seq: number): void {
    if (seq <= this.#trimmed) return;
    this.#trimmed = seq;
    this.#stored = Math.max(this.#stored, seq);
    this.#mark('trimmed', seq);
    const segs = this.#segments();
    // A segment ends where the next begins; the newest (the writer's) is always kept.
    for (let i = 0; i + 1 < segs.length && segs[i + 1]!.firstSeq - 1 <= seq; i++) rmSync(segs[i]!.file, { force: true });
  }

  #mark(name: 'stored' | 'trimmed', seq: number): void {
    if (!writeMarker(this.#dir, name, seq)) this.writeErrors++;
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    if (this.#committedFd !== undefined) closeSync(this.#committedFd);
    this.#fd = this.#committedFd = undefined;
  }
}
