/**
 * Message-id flow control for the journal's persistent sessions: a delivery that finds all
 * 65,535 packet identifiers of its session held by unacknowledged packets waits (first in,
 * first out per session) until a PUBACK frees one, instead of failing.
 *
 * Why: MQTT 3.1.1 gives a session 65,535 ids [MQTT-2.3.1-2]. An ingest that acknowledges
 * slower than the broker delivers (the MQTT feed with 10 readings per message) reached that,
 * the delivery failed, aedes closed the connection and on the reconnect resent the whole
 * queue: ~120 s of broker CPU for 100,000 messages, again and again. Waiting is what the
 * protocol expects of a sender at its in-flight limit (MQTT 5 calls it Receive Maximum).
 *
 * The waiting delivery gives its aedes slot back at once (patches/qos-write-callback.patch.ts):
 * the message is already in the session's queue on disk, so the publisher's PUBACK and every
 * other subscriber's delivery need not wait for this subscriber's acknowledgements. A waiter
 * whose connection has closed is dropped (rejected, never written): the packet stays queued
 * and the next connection of the session sends it.
 */
import { releaseWriteCallback } from './patches/qos-write-callback.patch.ts';
import type { StoredPacket } from './journal.codec.ts';
import type { SessionQueues } from './journal.queue.ts';

/** The aedes client fields read here (lib/client.js). */
export interface FlowClient {
  readonly id: string;
  /** Set by aedes' Client#close. */
  readonly closed?: boolean;
}

interface Waiter {
  readonly client: FlowClient;
  readonly packet: StoredPacket;
  readonly resolve: (how: 'id' | 'replace') => void;
  readonly reject: (err: Error) => void;
}

export class MessageIdFlow {
  /** Deliveries waiting for a free id, per client id, in call order. */
  readonly #waiting = new Map<string, Waiter[]>();
  #count = 0;
  /** Deliveries that had to wait, since start. */
  waits = 0;
  /** Waiters dropped because their connection closed first. */
  dropped = 0;

  constructor(private readonly queues: SessionQueues) {}

  /** Deliveries waiting now, all sessions. */
  get waitingNow(): number {
    return this.#count;
  }

  /**
   * Give the packet its id (or replace, see SessionQueues.update) now, or once an id is free.
   * A resend that keeps the id it already holds never waits, also not behind others: the
   * subscriber can only free ids by acknowledging what it has been sent.
   */
  update(client: FlowClient, packet: StoredPacket): 'id' | 'replace' | Promise<'id' | 'replace'> {
    const list = this.#waiting.get(client.id);
    if (list) this.#prune(client.id, list);
    const queued = this.#waiting.get(client.id);
    if (!queued || this.queues.keepsId(client.id, packet)) {
      const how = this.queues.update(client.id, packet, true);
      if (how !== 'full') return how;
    }
    this.waits++;
    return new Promise<'id' | 'replace'>((resolve, reject) => {
      const w: Waiter = { client, packet, resolve, reject };
      const l = this.#waiting.get(client.id);
      if (l) l.push(w);
      else this.#waiting.set(client.id, [w]);
      this.#count++;
      releaseWriteCallback(packet);
    });
  }

  /** An id of this session was freed (PUBACK): resume its waiters while ids are free. */
  resume(clientId: string): void {
    const list = this.#waiting.get(clientId);
    if (!list) return;
    let i = 0;
    for (; i < list.length; i++) {
      const w = list[i]!;
      if (w.client.closed) {
        this.#drop(w);
        continue;
      }
      let how: 'id' | 'replace' | 'full';
      try {
        how = this.queues.update(clientId, w.packet, true);
      } catch (err) {
        // The packet left the queue while it waited (the session was cleaned): nothing to send.
        this.#count--;
        w.reject(err as Error);
        continue;
      }
      if (how === 'full') break;
      this.#count--;
      w.resolve(how);
    }
    if (i >= list.length) this.#waiting.delete(clientId);
    else list.splice(0, i);
  }

  /** The connection closed: its waiters are dropped, not resumed. */
  closed(client: FlowClient): void {
    const list = this.#waiting.get(client.id);
    if (!list) return;
    const keep = list.filter((w) => (w.client === client || w.client.closed ? (this.#drop(w), false) : true));
    if (keep.length) this.#waiting.set(client.id, keep);
    else this.#waiting.delete(client.id);
  }

  /** Everything waiting is dropped (the store closes). */
  close(): void {
    for (const list of this.#waiting.values()) for (const w of list) this.#drop(w);
    this.#waiting.clear();
  }

  /** Waiters of closed connections at the head of the list go (a missed close notice). */
  #prune(clientId: string, list: Waiter[]): void {
    let i = 0;
    while (i < list.length && list[i]!.client.closed) this.#drop(list[i++]!);
    if (i === list.length) this.#waiting.delete(clientId);
    else if (i > 0) list.splice(0, i);
  }

  #drop(w: Waiter): void {
    this.#count--;
    this.dropped++;
    w.reject(new Error('connection closed while its delivery waited for a free message id'));
  }
}
