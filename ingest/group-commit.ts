/**
 * Group commit from the MQTT session to the spool: what arrived since the last commit goes
 * into one durable spool append (one write, one fdatasync), and only then are its PUBACKs
 * released. While a write is syncing, new messages gather for the next one, so batches grow
 * with the load. Owns the bound too: past `maxMessages` (spooled and not yet stored, plus
 * what is waiting here) deliveries are parked — MQTT.js stops reading the socket, no PUBACK
 * goes out, and the broker keeps the rest in the persistent session.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import type { Delivery } from './acking-session.mqtt.ts';
import type { SpoolEntry, SpoolRepository } from './spool.repository.ts';

export interface GroupCommitDeps {
  readonly spool: () => SpoolRepository | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Spool bound, messages. */
  readonly maxMessages: number;
  /** Messages spooled and not yet stored (the write pipeline's backlog). */
  readonly backlog: () => number;
  /** The connection the deliveries would be acked on now. */
  readonly generation: () => number;
  /** Send the PUBACKs of a committed batch. */
  readonly release: (ds: readonly Delivery[]) => void;
  /** A failed append: nothing is acked; drop the connection so the broker redelivers. */
  readonly dropConnection: () => void;
  /** The committed entries, in spool order. */
  readonly committed: (entries: SpoolEntry[]) => void;
}

export class GroupCommit {
  readonly #d: GroupCommitDeps;
  #incoming: Delivery[] = [];
  #arrivedAt: number[] = [];
  #scheduled = false;
  #committing: Promise<void> | undefined;
  #committingCount = 0;
  /** Deliveries parked while the spool is full. */
  #blocked: (() => void)[] = [];
  /** Messages spooled (counted once durable). */
  messages = 0;

  constructor(d: GroupCommitDeps) {
    this.#d = d;
  }

  /** A telemetry PUBLISH from the session; `next` lets the session read on. */
  offer(d: Delivery, next: () => void): void {
    const accept = () => {
      // Parked across a reconnect: that connection's messageIds are void; the broker
      // redelivers the message on the new session, so it must be neither spooled nor acked.
      if (d.generation !== this.#d.generation()) return;
      this.#incoming.push(d);
      this.#arrivedAt.push(this.#d.clock.now());
      this.#schedule();
      next();
    };
    if (this.full()) this.#blocked.push(accept);
    else accept();
  }

  /** Waiting for a commit or being committed. */
  pending(): number {
    return this.#committingCount + this.#incoming.length;
  }

  full(): boolean {
    return this.#d.backlog() + this.pending() >= this.#d.maxMessages;
  }

  /** True while deliveries are parked at the bound. */
  get backpressure(): boolean {
    return this.#blocked.length > 0;
  }

  /** Let parked deliveries in as far as the bound allows (after a store write freed room). */
  unblock(): void {
    while (this.#blocked.length && !this.full()) this.#blocked.shift()!();
  }

  /** The connection closed: what was parked belongs to it. */
  dropParked(): void {
    this.#blocked = [];
  }

  #schedule(): void {
    if (!this.#scheduled && !this.#committing) {
      this.#scheduled = true;
      setImmediate(() => void this.commit());
    }
  }

  /** Commit what has arrived (also called on stop); resolves when that commit is over. */
  async commit(): Promise<void> {
    this.#scheduled = false;
    const spool = this.#d.spool();
    if (this.#committing || !this.#incoming.length || !spool) return;
    const batch = this.#incoming;
    const at = this.#arrivedAt;
    this.#incoming = [];
    this.#arrivedAt = [];
    this.#committingCount = batch.length;
    this.#committing = (async () => {
      let entries: SpoolEntry[];
      try {
        entries = await spool.append(batch.map((b, i) => ({ topic: b.topic, payload: b.payload, at: at[i]! })));
      } catch (e) {
        // Not durable, so not acked: the broker redelivers after we reconnect.
        this.#d.logger.error({ err: String(e) }, 'spool append failed; dropping connection so the broker redelivers');
        this.#d.dropConnection();
        return;
      }
      this.messages += entries.length;
      this.#d.release(batch);
      this.#d.committed(entries);
    })().finally(() => {
      this.#committing = undefined;
      this.#committingCount = 0;
      if (this.#incoming.length) void this.commit();
      this.unblock();
    });
    await this.#committing;
  }

  /** The commit running now, if any. */
  settled(): Promise<void> {
    return this.#committing ?? Promise.resolve();
  }
}
