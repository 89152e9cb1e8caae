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
import { SpoolRepository, type SpoolSync } from '../storage/spool/spool.repository.ts';

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

interface Offer {
  readonly client: Client;
  readonly topic: string;
  readonly payload: Buffer;
  readonly at: number;
  readonly done: Done;
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
  #incoming: Offer[] = [];
  #committing: Promise<void> | undefined;
  #committingCount = 0;
  #scheduled = false;
  #parked: Offer[] = [];
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
    const o: Offer = { client, topic, payload, at: this.#o.clock.now(), done };
    if (this.#closed) return done(new Error('telemetry spool closed'));
    if (this.#parked.length || this.#full()) {
      // Behind others already waiting too: a device's later message must not overtake its earlier one.
      const ra = this.#o.readAhead;
      // Its connection is read on meanwhile; the packets after it go on once its PUBACK is out.
      this.#parked.push(ra ? { ...o, done: (err) => (o.done(err), ra.unparked(client)) } : o);
      ra?.parked(client);
      if (this.#timerMs !== MARKS_READ_MS.parked) this.#refresh();
      return;
    }
    this.#accept(o);
  }

  #accept(o: Offer): void {
    this.#incoming.push(o);
    if (!this.#scheduled && !this.#committing) {
      this.#scheduled = true;
      setImmediate(() => void this.#commit());
    }
  }

  #unpark(): void {
    let i = 0;
    while (i < this.#parked.length && !this.#full()) {
      const o = this.#parked[i++]!;
      // A connection closed meanwhile: its device resends on the next one; nothing to ack.
      if (!(o.client as Client & { closed?: boolean }).closed) this.#accept(o);
      else this.#o.readAhead?.unparked(o.client);
    }
    if (i) this.#parked = this.#parked.slice(i);
  }

  async #commit(): Promise<void> {
    this.#scheduled = false;
    if (this.#committing || !this.#incoming.length) return;
    const batch = this.#incoming;
    this.#incoming = [];
    this.#committingCount = batch.length;
    this.#committing = (async () => {
      try {
        await this.#spool.appendBatch(batch);
      } catch (e) {
        this.#o.logger.error(
          { err: String(e), messages: batch.length },
          'telemetry spool write failed: not acknowledged, the devices resend',
        );
        const err = new Error(`telemetry spool write failed: ${String(e)}`);
        for (const o of batch) o.done(err);
        return;
      }
      this.#spooled += batch.length;
      for (const o of batch) o.done(null);
    })().finally(() => {
      this.#committing = undefined;
      this.#committingCount = 0;
      this.#unpark();
      if (this.#incoming.length) void this.#commit();
    });
    await this.#committing;
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
    for (const o of this.#parked) this.#o.readAhead?.unparked(o.client);
    this.#parked = [];
    while (this.#committing || this.#incoming.length) {
      if (this.#committing) await this.#committing;
      else await this.#commit();
    }
    await this.#spool.close();
  }
}
