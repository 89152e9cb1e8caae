/**
 * Follows the telemetry spool's files from the chaos suite's process, read-only, so a reading
 * that never reaches the store can be named by the spool sequence number it was written
 * under, even after the ingest has trimmed its segment. Reads the on-disk format
 * (storage/spool/spool.format.ts) directly rather than through SpoolRepository/SpoolReader:
 * those take the writer lock or keep the consumer's marks, and this must change nothing.
 *
 * Spool mode (the broker writes, with a `committed` marker): only records up to the marker
 * are taken (a record past it was not acknowledged yet, or a failed write left it). MQTT
 * mode (the ingest writes its own spool, no marker): every complete record (a torn one fails
 * its CRC and is waited for, or cut by the next start).
 */
import { closeSync, existsSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { decodeRecords, readMarker, spoolDir, type SpoolEntry } from '../../storage/spool/spool.format.ts';

export interface SpoolMarks {
  readonly committed: number;
  readonly stored: number;
  readonly trimmed: number;
}

export class SpoolTail {
  readonly #dir: string;
  readonly #withMarker: boolean;
  /** The segment being followed (by its first sequence number) and the offset of record `#nextSeq`. */
  #segFirst: number | undefined;
  #off = 0;
  #nextSeq = 0;

  constructor(dataDir: string, withCommittedMarker: boolean) {
    this.#dir = spoolDir(dataDir);
    this.#withMarker = withCommittedMarker;
  }

  marks(): SpoolMarks {
    const trimmed = readMarker(this.#dir, 'trimmed');
    return {
      committed: this.#withMarker ? committedMark(this.#dir) : Number.POSITIVE_INFINITY,
      stored: Math.max(trimmed, readMarker(this.#dir, 'stored')),
      trimmed,
    };
  }

  #segments(): number[] {
    if (!existsSync(this.#dir)) return [];
    return readdirSync(this.#dir)
      .filter((f) => f.endsWith('.seg'))
      .map((f) => Number(f.slice(0, -4)))
      .sort((a, b) => a - b);
  }

  /** New records since the last call, up to the committed marker (spool mode). */
  poll(): SpoolEntry[] {
    return this.#read(this.marks().committed);
  }

  /** Records written past the committed marker (spool mode), without consuming them. */
  pastCommitted(): SpoolEntry[] {
    if (!this.#withMarker) return [];
    const saved = { seg: this.#segFirst, off: this.#off, next: this.#nextSeq };
    const out = this.#read(Number.POSITIVE_INFINITY).filter((e) => e.seq > this.marks().committed);
    this.#segFirst = saved.seg;
    this.#off = saved.off;
    this.#nextSeq = saved.next;
    return out;
  }

  #read(through: number): SpoolEntry[] {
    const out: SpoolEntry[] = [];
    const segs = this.#segments();
    if (!segs.length) return out;
    if (this.#segFirst === undefined || !segs.includes(this.#segFirst)) {
      // First look, or the segment followed was trimmed away meanwhile: start again at the
      // oldest one left (records already seen are seen again: a key keeps its first seq).
      const first = this.#segFirst === undefined ? segs[0]! : (segs.find((s) => s > this.#segFirst!) ?? segs[segs.length - 1]!);
      this.#segFirst = first;
      this.#off = 0;
      this.#nextSeq = first;
    }
    for (;;) {
      const file = join(this.#dir, `${String(this.#segFirst).padStart(16, '0')}.seg`);
      let buf: Buffer;
      try {
        buf = readFrom(file, this.#off);
      } catch {
        return out; // trimmed between the listing and the read: picked up on the next call
      }
      const got = decodeRecords(buf, this.#nextSeq, through, out);
      this.#nextSeq += got.records;
      this.#off += got.bytes;
      // A newer segment starts where this one's records end: follow it.
      const next = segs.find((s) => s > this.#segFirst!);
      if (next === undefined || next !== this.#nextSeq || this.#nextSeq > through) break;
      this.#segFirst = next;
      this.#off = 0;
    }
    return out;
  }
}

/** The broker's `committed` marker (fixed width, rewritten in place), 0 when absent. */
function committedMark(dir: string): number {
  const f = join(dir, 'committed');
  try {
    return Number(readFrom(f, 0).toString('utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

function readFrom(file: string, off: number): Buffer {
  const fd = openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let at = off;
    for (;;) {
      const b = Buffer.allocUnsafe(1 << 20);
      const n = readSync(fd, b, 0, b.length, at);
      if (n <= 0) break;
      chunks.push(b.subarray(0, n));
      at += n;
    }
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}
