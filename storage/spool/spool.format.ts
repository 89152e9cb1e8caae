/**
 * The telemetry spool's on-disk format, shared by its one writer (the ingest's group commit
 * in MQTT mode, the broker's telemetry spool in spool mode) and its reader (the ingest).
 *
 * `${dataDir}/spool/` holds append-only segment files named by the sequence number of their
 * first record (`0000000000000001.seg`). Record: u32 bodyLength, u32 crc32(body), body =
 * f64 arrivedAt, u16 topicLength, topic, payload. Markers beside them, each a decimal
 * sequence number: `trimmed` (forgotten through), `stored` (in the store through) — written
 * by the consumer; `committed` (durable through) — written by a writer in another process
 * after each durable append, so the consumer never reads a record that is not yet durable or
 * that a failed write left behind.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32Range } from './crc32.ts';

export interface SpoolEntry {
  readonly seq: number;
  readonly topic: string;
  readonly payload: Buffer;
  /** Arrival time on the receiving clock, epoch ms (validation "now" on every replay of it). */
  readonly at: number;
}

export const SEGMENT_MAX_BYTES = 64 * 1024 * 1024;
export const HEADER = 8;
export const segName = (firstSeq: number): string => `${String(firstSeq).padStart(16, '0')}.seg`;
export const spoolDir = (dataDir: string): string => join(dataDir, 'spool');

/**
 * Records to append as columns, record i < length = (topics[i], payloads[i], ats[i]): the
 * broker's spool mode gathers them per reading into arrays it reuses (so they may be longer
 * than `length`), no object per record.
 */
export interface SpoolColumns {
  readonly length: number;
  readonly topics: readonly (string | undefined)[];
  readonly payloads: readonly (Buffer | undefined)[];
  readonly ats: readonly number[];
}

export const columnsOf = (items: readonly Omit<SpoolEntry, 'seq'>[]): SpoolColumns => ({
  length: items.length,
  topics: items.map((e) => e.topic),
  payloads: items.map((e) => e.payload),
  ats: items.map((e) => e.at),
});

/** Records for `items`, one buffer (one write). */
export const encodeRecords = (items: readonly Omit<SpoolEntry, 'seq'>[]): Buffer => encodeColumns(columnsOf(items));

/** Records for `columns`, one buffer (one write). */
export function encodeColumns({ length: n, topics, payloads, ats }: SpoolColumns): Buffer {
  let size = 0;
  for (let i = 0; i < n; i++) size += HEADER + 10 + Buffer.byteLength(topics[i]!, 'utf8') + payloads[i]!.length;
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  for (let i = 0; i < n; i++) {
    const payload = payloads[i]!;
    const bodyAt = off + HEADER;
    buf.writeDoubleLE(ats[i]!, bodyAt);
    const tlen = buf.write(topics[i]!, bodyAt + 10, 'utf8');
    buf.writeUInt16LE(tlen, bodyAt + 8);
    payload.copy(buf, bodyAt + 10 + tlen);
    const end = bodyAt + 10 + tlen + payload.length;
    buf.writeUInt32LE(end - bodyAt, off);
    buf.writeUInt32LE(crc32Range(buf, bodyAt, end), off + 4);
    off = end;
  }
  return buf;
}

/**
 * The record at `off` in `buf`, or undefined when it is incomplete or fails its check (a torn
 * tail). `copy`: the payload is its own buffer (else a view into `buf`, which it keeps alive).
 */
export function decodeRecord(buf: Buffer, off: number, seq: number, copy: boolean): { entry: SpoolEntry; next: number } | undefined {
  if (off + HEADER > buf.length) return undefined;
  const len = buf.readUInt32LE(off);
  if (len < 10 || off + HEADER + len > buf.length) return undefined;
  const body = buf.subarray(off + HEADER, off + HEADER + len);
  if (crc32Range(buf, off + HEADER, off + HEADER + len) !== buf.readUInt32LE(off + 4)) return undefined;
  const tlen = body.readUInt16LE(8);
  const raw = body.subarray(10 + tlen);
  return {
    entry: { seq, topic: body.toString('utf8', 10, 10 + tlen), payload: copy ? Buffer.from(raw) : raw, at: body.readDoubleLE(0) },
    next: off + HEADER + len,
  };
}

/**
 * The complete records at the start of `buf`, numbered from `seq`, appended to `out` while it
 * holds fewer than `max` and the number is at most `through`: how many, and the bytes they
 * take (where the next read starts). `copy` false: the payloads are views into `buf`, valid
 * as long as its bytes are (a reused read buffer: until the next read).
 */
export function decodeRecords(
  buf: Buffer,
  seq: number,
  through: number,
  out: SpoolEntry[],
  max = Number.POSITIVE_INFINITY,
  copy = true,
): { records: number; bytes: number } {
  let pos = 0;
  let records = 0;
  while (out.length < max && seq + records <= through) {
    const r = decodeRecord(buf, pos, seq + records, copy);
    if (!r) break;
    out.push(r.entry);
    pos = r.next;
    records++;
  }
  return { records, bytes: pos };
}

export type MarkerName = 'trimmed' | 'stored' | 'committed';

/** A marker's value (0 when absent or unreadable). */
export function readMarker(dir: string, name: MarkerName): number {
  const f = join(dir, name);
  try {
    return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) || 0 : 0;
  } catch {
    return 0;
  }
}

/**
 * Write a marker atomically (tmp + rename); false when the write failed (ENOSPC, EIO). The
 * `trimmed` / `stored` markers are advisory (a stale one only means re-storing readings, which
 * overwrite themselves), so the caller counts a failure and the next call writes the newer
 * value; it must not throw into the store loop.
 */
export function writeMarker(dir: string, name: Exclude<MarkerName, 'committed'>, seq: number): boolean {
  const f = join(dir, name);
  try {
    writeFileSync(`${f}.tmp`, String(seq));
    renameSync(`${f}.tmp`, f);
    return true;
  } catch {
    return false;
  }
}

/**
 * The `committed` marker, rewritten in place after every durable append (one pwrite, no
 * rename: it changes hundreds of times a second, and the reader watches that one inode).
 * Fixed width, so a reader never sees a shorter number's leftover digits.
 */
export class CommittedMarker {
  readonly #fd: number;
  constructor(dir: string) {
    this.#fd = openSync(join(dir, 'committed'), 'w');
  }
  write(seq: number): void {
    writeSync(this.#fd, String(seq).padStart(20, ' '), 0, 'utf8');
  }
  close(): void {
    closeSync(this.#fd);
  }
}
