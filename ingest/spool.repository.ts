/**
 * The ingest's local durable spool: raw telemetry messages (topic, payload, arrival time) in
 * append-only segment files under `${dataDir}/spool/`. A message is PUBACKed only after the
 * write holding it has been fdatasync'd; it is forgotten only after its readings are stored.
 *
 * Why files and not SQLite: better-sqlite3 commits on the event loop, and an fsync here costs
 * ~6 ms (measured: SQLite synchronous=FULL peaks at ~32k msgs/s in batches of 1000 while
 * blocking the loop for the whole fsync). A file write + fdatasync runs on libuv's thread
 * pool, so the ingest keeps reading the socket while the disk syncs, and everything that
 * arrives meanwhile goes into the next sync (group commit: batches grow with the load).
 *
 * Record: u32 bodyLength, u32 crc32(body), body = f64 arrivedAt, u16 topicLength, topic,
 * payload. A torn record at the tail (crash mid-write) fails its length or CRC and is cut off.
 * Trimming deletes whole segments; the last trimmed sequence number is kept in `trimmed`
 * (written atomically, not fsync'd: losing it only means re-storing readings, which overwrite
 * themselves). Entries can be stored and still kept (the ingest keeps them until a rules
 * snapshot covers them): the last stored sequence number is kept the same way in `stored`.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, ftruncateSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export interface SpoolEntry {
  readonly seq: number;
  readonly topic: string;
  readonly payload: Buffer;
  /** Arrival time on the ingest clock, epoch ms (validation "now" on every replay of it). */
  readonly at: number;
}

/** `full`: fdatasync before acking (power-cut safe). `normal`: written to the OS only (process-crash safe). */
export type SpoolSync = 'full' | 'normal';

interface Segment {
  readonly firstSeq: number;
  lastSeq: number;
  readonly file: string;
  bytes: number;
}

const SEGMENT_MAX_BYTES = 64 * 1024 * 1024;
const HEADER = 8;
const segName = (firstSeq: number) => `${String(firstSeq).padStart(16, '0')}.seg`;

export class SpoolRepository {
  readonly #dir: string;
  readonly #sync: SpoolSync;
  #segments: Segment[] = [];
  #fh: FileHandle | undefined;
  #nextSeq = 1;
  #trimmed = 0;
  #stored = 0;
  #recovered: SpoolEntry[] = [];
  #writing: Promise<unknown> = Promise.resolve();
  /** Appends that failed (their callers were refused); surfaced in the ingest's metrics. */
  writeErrors = 0;

  private constructor(dir: string, sync: SpoolSync) {
    this.#dir = dir;
    this.#sync = sync;
  }

  /** Open `${dataDir}/spool`, recover its entries (cutting a torn tail), ready to append. */
  static open(dataDir: string, sync: SpoolSync = 'full'): SpoolRepository {
    const dir = join(dataDir, 'spool');
    mkdirSync(dir, { recursive: true });
    const s = new SpoolRepository(dir, sync);
    s.#recover();
    return s;
  }

  /** Entries in `${dataDir}/spool` not yet in the store, read without touching the files (tests, health). */
  static pending(dataDir: string): number {
    const s = new SpoolRepository(join(dataDir, 'spool'), 'normal');
    s.#recover(true);
    return s.#recovered.filter((e) => e.seq > s.#stored).length;
  }

  #recover(readOnly = false): void {
    const tf = join(this.#dir, 'trimmed');
    this.#trimmed = existsSync(tf) ? Number(readFileSync(tf, 'utf8')) || 0 : 0;
    const sf = join(this.#dir, 'stored');
    this.#stored = Math.max(this.#trimmed, existsSync(sf) ? Number(readFileSync(sf, 'utf8')) || 0 : 0);
    const files = readdirSync(this.#dir).filter((f) => f.endsWith('.seg')).sort();
    for (const f of files) {
      const firstSeq = Number(f.slice(0, -4));
      const path = join(this.#dir, f);
      const buf = readFileSync(path);
      let off = 0;
      let seq = firstSeq;
      while (off + HEADER <= buf.length) {
        const len = buf.readUInt32LE(off);
        const crc = buf.readUInt32LE(off + 4);
        if (len < 10 || off + HEADER + len > buf.length) break;
        const body = buf.subarray(off + HEADER, off + HEADER + len);
        if (crc32(body) !== crc) break;
        const at = body.readDoubleLE(0);
        const tlen = body.readUInt16LE(8);
        const topic = body.toString('utf8', 10, 10 + tlen);
        if (seq > this.#trimmed) this.#recovered.push({ seq, topic, payload: Buffer.from(body.subarray(10 + tlen)), at });
        off += HEADER + len;
        seq++;
      }
      if (readOnly) continue;
      if (off === 0) {
        rmSync(path, { force: true });
        continue;
      }
      if (off < buf.length) {
        // Torn tail from a crash mid-write: never acknowledged, so the broker still has it.
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
   * (ENOSPC, EIO) rejects — the caller must not acknowledge — and leaves no trace: the next
   * batch overwrites the torn bytes at the same offset, and sequence numbers are given only
   * to written batches, so they keep matching the records' positions on disk (a gap would
   * shift every later number against what a restart reads back, and trimming by them would
   * then drop entries never stored).
   */
  append(items: readonly Omit<SpoolEntry, 'seq'>[]): Promise<SpoolEntry[]> {
    const parts: Buffer[] = [];
    for (const e of items) {
      const topic = Buffer.from(e.topic, 'utf8');
      const body = Buffer.allocUnsafe(10 + topic.length + e.payload.length);
      body.writeDoubleLE(e.at, 0);
      body.writeUInt16LE(topic.length, 8);
      topic.copy(body, 10);
      e.payload.copy(body, 10 + topic.length);
      const head = Buffer.allocUnsafe(HEADER);
      head.writeUInt32LE(body.length, 0);
      head.writeUInt32LE(crc32(body), 4);
      parts.push(head, body);
    }
    const buf = Buffer.concat(parts);
    const p = this.#writing.then(async () => {
      const first = this.#nextSeq;
      const entries = items.map((it, i) => ({ ...it, seq: first + i }));
      if (!items.length) return entries;
      const seg = await this.#segmentFor(first, buf.length);
      try {
        await this.#fh!.write(buf, 0, buf.length, seg.bytes);
        if (this.#sync === 'full') await this.#fh!.datasync();
      } catch (e) {
        this.writeErrors++;
        throw e;
      }
      seg.bytes += buf.length;
      seg.lastSeq = first + items.length - 1;
      this.#nextSeq = first + items.length;
      return entries;
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

  /**
   * The `trimmed` / `stored` markers are advisory (a stale one only means re-storing readings,
   * which overwrite themselves), so a failed write of one (ENOSPC, EIO) is counted and the
   * next call writes the newer value; it must not throw into the ingest's store loop.
   */
  #writeMarker(name: 'trimmed' | 'stored', seq: number): void {
    const f = join(this.#dir, name);
    try {
      writeFileSync(`${f}.tmp`, String(seq));
      renameSync(`${f}.tmp`, f);
    } catch {
      this.writeErrors++;
    }
  }

  /** The last sequence number known to be in the store (at open: as the previous run left it). */
  storedThrough(): number {
    return this.#stored;
  }

  /** Entries appended and not yet trimmed. */
  count(): number {
    return this.#nextSeq - 1 - this.#trimmed;
  }

  async close(): Promise<void> {
    await this.#writing;
    await this.#fh?.close();
    this.#fh = undefined;
  }
}
