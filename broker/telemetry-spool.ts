/**
 * Spool mode (issue 19): device telemetry goes from the PUBLISH hook straight into the
 * ingest's durable spool (`${dataDir}/spool`, storage/spool/), in this process, and the
 * device's PUBACK waits for the group-commit write that holds it. No second MQTT hop: no
 * per-reading queue entry in the ingest's persistent session, no delivery, no PUBACK back
 * from the ingest. The ingest reads the files (storage/spool/spool.reader.ts) up to the
 * `committed` marker written here, and writes the `stored` / `trimmed` marks this side reads.
 *
 * Group commit: what arrives while a write is syncing goes into the next write (one write,
 * one fdatasync), so batches grow with the load. Order: entries are appended in hook-call
 * order, which is each connection's packet order. Bound: past `maxMessages` spooled and not
 * yet stored, publishes are parked — their hooks do not call back, so aedes reads no more from
 * those connections and sends no PUBACK; the devices keep their readings (QoS 1) until the
 * store catches up. Meanwhile `readAhead` (patches/read-while-parked.patch.ts) reads such a
 * connection on: its PINGREQs are answered, its other packets wait their turn. A failed write refuses every publish in it: aedes closes those
 * connections without a PUBACK, and the devices resend.
 */
import type { Client } from 'aedes';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import { SpoolRepository, type SpoolColumns, type SpoolSync } from '../storage/spool/spool.repository.ts';

export interface TelemetrySpoolOptions {
  readonly dataDir: string;
  readonly sync: SpoolSync;
  /** Messages spooled and not yet stored, past which publishes wait. */
  readonly maxMessages: number;
  /** Arrival time of a message (the ingest validates against it: its clock). */
  readonly clock: Clock;
  readonly logger: Logger;
  /** Told when a client's publish is parked and when it goes on (or is dropped). */
  readonly readAhead?: { parked(client: Client): void; unparked(client: Client): void };
}

type Done = (err?: Error | null) => void;

/**
 * Publishes offered, as columns: entry i < length is (clients[i], topics[i], payloads[i],
 * ats[i], dones[i]), so a reading costs array slots and no object (nor, parked, a copy and a
 * closure). The arrays keep their size from batch to batch: the spool alternates two of these,
 * one filling while the other's write is in flight. `parked[i]`: the entry waited at the bound
 * (readAhead was told), and readAhead is told again once it is done.
 */
class Offers implements SpoolColumns {
  length = 0;
  readonly clients: (Client | undefined)[] = [];
  readonly topics: (string | undefined)[] = [];
  readonly payloads: (Buffer | undefined)[] = [];
  readonly ats: number[] = [];
  readonly dones: (Done | undefined)[] = [];
  readonly parked: boolean[] = [];

  push(client: Client, topic: string, payload: Buffer, at: number, done: Done, parked: boolean): void {
    const i = this.length++;
    this.clients[i] = client;
    this.topics[i] = topic;
    this.payloads[i] = payload;
    this.ats[i] = at;
    this.dones[i] = done;
    this.parked[i] = parked;
  }

  /** Entry i of `from` appended here. */
  take(from: Offers, i: number): void {
    this.push(from.clients[i]!, from.topics[i]!, from.payloads[i]!, from.ats[i]!, from.dones[i]!, from.parked[i]!);
  }

  /** The first n entries dropped (the others move up). */
  shift(n: number): void {
    const end = this.length;
    for (const a of [this.clients, this.topics, this.payloads, this.ats, this.dones, this.parked]) a.copyWithin(0, n, end);
    this.#forget(end - n, end);
    this.length = end - n;
  }

  /** Empty; what the entries held is let go (the sizes stay). */
  clear(): void {
    this.#forget(0, this.length);
    this.length = 0;
  }

  #forget(from: number, to: number): void {
    for (let i = from; i < to; i++) this.clients[i] = this.topics[i] = this.payloads[i] = this.dones[i] = undefined;
  }
}

/** How often the reader's marks are read: while publishes wait at the bound, and otherwise. */
const MARKS_READ_MS = { parked: 20, idle: 1000 } as const;

export interface TelemetrySpoolStats {
  /** Messages made durable here since start. */
  readonly spooled: number;
  /** Spooled and not yet stored, as of the last look at the reader's marks. */
  readonly backlog: number;
  /** Publishes waiting at the bound. */
  readonly parked: number;
  readonly writeErrors: number;
  /** The error the spool's appends fail with now (PUBACKs withheld), or null. */
  readonly failing: string | null;
}

export class TelemetrySpool {
  readonly #o: TelemetrySpoolOptions;
  readonly #spool: SpoolRepository;
  #incoming = new Offers();
  /** The other batch's arrays, empty: the next to fill once the write in flight is done. */
  #spare = new Offers();
  #committing: Promise<void> | undefined;
  #committingCount = 0;
  #scheduled = false;
  #parked = new Offers();
  #spooled = 0;
  #timer: NodeJS.Timeout;
  #timerMs: number = MARKS_READ_MS.idle;
  #closed = false;

  private constructor(o: TelemetrySpoolOptions, spool: SpoolRepository) {
    this.#o = o;
    this.#spool = spool;
    this.#timer = this.#every(MARKS_READ_MS.idle);
  }

  static open(o: TelemetrySpoolOptions): TelemetrySpool {
    return new TelemetrySpool(o, SpoolRepository.open(o.dataDir, o.sync, { sharedWithReader: true }));
  }

  #every(ms: number): NodeJS.Timeout {
    this.#timerMs = ms;
    const t = setInterval(() => this.#refresh(), ms);
    t.unref();
    return t;
  }

  #refresh(): void {
    this.#spool.refreshMarks();
    this.#unpark();
    const want = this.#parked.length ? MARKS_READ_MS.parked : MARKS_READ_MS.idle;
    if (want !== this.#timerMs && !this.#closed) {
      clearInterval(this.#timer);
      this.#timer = this.#every(want);
    }
  }

  #full(): boolean {
    return this.#spool.unstored() + this.#committingCount + this.#incoming.length >= this.#o.maxMessages;
  }

  /** A telemetry PUBLISH (any QoS): `done` once it is durable (aedes then sends the PUBACK). */
  offer(client: Client, topic: string, payload: Buffer, done: Done): void {
    if (this.#closed) return done(new Error('telemetry spool closed'));
    const at = this.#o.clock.now();
    if (this.#parked.length || this.#full()) {
      // Behind others already waiting too: a device's later message must not overtake its earlier one.
      const ra = this.#o.readAhead;
      // Its connection is read on meanwhile; the packets after it go on once its PUBACK is out.
      this.#parked.push(client, topic, payload, at, done, ra !== undefined);
      ra?.parked(client);
      if (this.#timerMs !== MARKS_READ_MS.parked) this.#refresh();
      return;
    }
    this.#incoming.push(client, topic, payload, at, done, false);
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#scheduled && !this.#committing) {
      this.#scheduled = true;
      setImmediate(() => void this.#commit());
    }
  }

  #unpark(): void {
    const parked = this.#parked;
    let i = 0;
    while (i < parked.length && !this.#full()) {
      // A connection closed meanwhile: its device resends on the next one; nothing to ack.
      if (!(parked.clients[i] as Client & { closed?: boolean }).closed) {
        this.#incoming.take(parked, i);
        this.#schedule();
      } else this.#o.readAhead?.unparked(parked.clients[i]!);
      i++;
    }
    if (i) parked.shift(i);
  }

  async #commit(): Promise<void> {
    this.#scheduled = false;
    if (this.#committing || !this.#incoming.length) return;
    const batch = this.#incoming;
    this.#incoming = this.#spare;
    this.#committingCount = batch.length;
    this.#committing = (async () => {
      try {
        await this.#spool.appendColumns(batch);
      } catch (e) {
        this.#o.logger.error(
          { err: String(e), messages: batch.length },
          'telemetry spool write failed: not acknowledged, the devices resend',
        );
        this.#finish(batch, new Error(`telemetry spool write failed: ${String(e)}`));
        return;
      }
      this.#spooled += batch.length;
      this.#finish(batch, null);
    })().finally(() => {
      batch.clear();
      this.#spare = batch;
      this.#committing = undefined;
      this.#committingCount = 0;
      this.#unpark();
      if (this.#incoming.length) void this.#commit();
    });
    await this.#committing;
  }

  #finish(batch: Offers, err: Error | null): void {
    const ra = this.#o.readAhead;
    const { dones, parked, clients } = batch;
    for (let i = 0; i < batch.length; i++) {
      dones[i]!(err);
      if (parked[i]) ra!.unparked(clients[i]!);
    }
  }

  stats(): TelemetrySpoolStats {
    return {
      spooled: this.#spooled,
      backlog: this.#spool.unstored(),
      parked: this.#parked.length,
      writeErrors: this.#spool.writeErrors,
      failing: this.#spool.failing,
    };
  }

  /** Finish the write in flight (its publishes are acked); parked ones are not (their devices resend). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    for (let i = 0; i < this.#parked.length; i++) this.#o.readAhead?.unparked(this.#parked.clients[i]!);
    this.#parked.clear();
    while (this.#committing || this.#incoming.length) {
      if (this.#committing) await this.#committing;
      else await this.#commit();
    }
    await this.#spool.close();
  }
}
