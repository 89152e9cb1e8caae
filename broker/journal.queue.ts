/**
 * The outgoing queue of one persistent session: packets in order, found by broker identity
 * (aedes assigns a messageId as it sends) and by messageId (cleared on PUBACK), both O(1);
 * and the session's message ids in use, so a new delivery never shares one with a message
 * still unacknowledged (see `assign`).
 */
import type { StoredPacket } from './journal.codec.ts';
import { IdentityIndex } from './journal.identity.ts';

/** MQTT packet identifiers are 1…65535. */
const MAX_MESSAGE_ID = 65_535;

/**
 * A client's queue of outgoing packets. Two things must stay cheap at 200,000 queued packets
 * (an ingest that was offline, reconnecting): aedes assigns a messageId to each packet as it
 * sends it (found by broker id + counter), and clears each on PUBACK (found by messageId).
 * Both are found through an index, and cleared slots are reclaimed lazily from the head, so
 * neither is a scan or an Array#splice that moves the whole queue.
 */
export class OutQueue {
  #items: (StoredPacket | undefined)[] = [];
  /** Absolute position of #items[0]. */
  #base = 0;
  #head = 0;
  readonly #byIdentity = new IdentityIndex();
  /** Positions by messageId, oldest first (ids wrap at 65535, so one may be reused while queued). */
  readonly #byMessageId = new Map<number, number[]>();
  /** Live packets holding each messageId (normally 0 or 1; 2+ only in a journal written before ids were kept unique). */
  readonly #holders = new Map<number, number>();
  live = 0;

  push(p: StoredPacket): void {
    const at = this.#base + this.#items.length;
    this.#items.push(p);
    this.#byIdentity.set(p.brokerId, p.brokerCounter, at);
    if (p.messageId !== undefined) this.#hold(p.messageId, at);
    this.live++;
  }

  *values(): Generator<StoredPacket> {
    for (let i = this.#head; i < this.#items.length; i++) {
      const p = this.#items[i];
      if (p) yield p;
    }
  }

  /**
   * Give the packet with this broker identity its messageId; returns the id it got, or
   * undefined if the packet is not queued.
   *
   * `unique` (a live delivery): when another queued packet holds the id, the next free one
   * is given instead. aedes numbers a connection's new deliveries from a random start
   * (lib/client.js `_nextId`) but resends a resumed session's unacknowledged packets with
   * their original ids ([MQTT-4.4.0-1]), so without this the two could meet on one
   * connection — against [MQTT-2.3.1-2] — and the PUBACK for the new message cleared the old
   * one, which the subscriber had not stored yet (tests/broker-message-ids.test.ts). Journal
   * replay passes `unique` false: its records hold the ids as they were given.
   */
  assign(
    brokerId: string | undefined,
    brokerCounter: number | undefined,
    messageId: number | undefined,
    unique = false,
  ): { messageId: number | undefined } | 'full' | undefined {
    const at = this.#byIdentity.get(brokerId, brokerCounter);
    const p = at === undefined ? undefined : this.#items[at - this.#base];
    if (!p) return undefined;
    const id = unique && messageId !== undefined ? this.#freeId(messageId, p) : messageId;
    if (id === 'full') return 'full';
    if (p.messageId !== undefined) this.#release(p.messageId);
    p.messageId = id;
    if (id !== undefined) this.#hold(id, at!);
    return { messageId: id };
  }

  /**
   * `wanted` if no packet but `self` holds it, else the next id after it that none holds;
   * 'full' when 65,535 other packets of the session hold every id (the caller waits for a
   * PUBACK: journal.persistence.ts `outgoingUpdate`). The scan is skipped when the count of
   * held ids already says none is free, so a session at its limit costs O(1) per delivery.
   */
  #freeId(wanted: number, self: StoredPacket): number | 'full' {
    const selfHolds = self.messageId !== undefined && (this.#holders.get(self.messageId) ?? 0) > 0 ? 1 : 0;
    if (this.#holders.size - selfHolds >= MAX_MESSAGE_ID) return 'full';
    for (let i = 0, id = wanted; i < MAX_MESSAGE_ID; i++, id = (id % MAX_MESSAGE_ID) + 1) if (!this.#taken(id, self)) return id;
    return 'full';
  }

  /** Whether a packet other than `self` holds this id (a method, not a closure per call: tsx's keepNames wraps each). */
  #taken(id: number, self: StoredPacket): boolean {
    return (this.#holders.get(id) ?? 0) - (self.messageId === id ? 1 : 0) > 0;
  }

  /** Whether the queued packet with this identity holds `messageId` alone (a resend keeps it). */
  keepsId(brokerId: string | undefined, brokerCounter: number | undefined, messageId: number | undefined): boolean {
    if (messageId === undefined) return false;
    const at = this.#byIdentity.get(brokerId, brokerCounter);
    const p = at === undefined ? undefined : this.#items[at - this.#base];
    return p?.messageId === messageId && this.#holders.get(messageId) === 1;
  }

  /** Whether a live delivery could get an id now (some id is held by no packet). */
  get hasFreeId(): boolean {
    return this.#holders.size < MAX_MESSAGE_ID;
  }

  #hold(messageId: number, at: number): void {
    this.#holders.set(messageId, (this.#holders.get(messageId) ?? 0) + 1);
    const list = this.#byMessageId.get(messageId);
    if (list) list.push(at);
    else this.#byMessageId.set(messageId, [at]);
  }

  #release(messageId: number): void {
    const n = (this.#holders.get(messageId) ?? 1) - 1;
    if (n > 0) this.#holders.set(messageId, n);
    else this.#holders.delete(messageId);
  }

  /** The oldest queued position holding this messageId (stale index entries are dropped). */
  #atMessageId(messageId: number | undefined): number | undefined {
    if (messageId === undefined) return undefined;
    const list = this.#byMessageId.get(messageId);
    while (list?.length) {
      const at = list[0]!;
      if (this.#items[at - this.#base]?.messageId === messageId) return at;
      list.shift();
    }
    this.#byMessageId.delete(messageId);
    return undefined;
  }

  /** Replace the packet holding this messageId (e.g. a PUBREL for a publish); false if none. */
  replace(packet: StoredPacket): boolean {
    const at = this.#atMessageId(packet.messageId);
    if (at === undefined) return false;
    const old = this.#items[at - this.#base]!;
    this.#byIdentity.delete(old.brokerId, old.brokerCounter);
    this.#release(old.messageId!);
    this.#holders.set(packet.messageId!, (this.#holders.get(packet.messageId!) ?? 0) + 1);
    this.#items[at - this.#base] = packet;
    this.#byIdentity.set(packet.brokerId, packet.brokerCounter, at);
    return true;
  }

  /** Remove and return the packet holding this messageId. */
  clear(messageId: number | undefined): StoredPacket | undefined {
    const at = this.#atMessageId(messageId);
    if (at === undefined) return undefined;
    const i = at - this.#base;
    const p = this.#items[i]!;
    this.#items[i] = undefined;
    this.#release(messageId!);
    const list = this.#byMessageId.get(messageId!)!;
    list.shift();
    if (!list.length) this.#byMessageId.delete(messageId!);
    if (this.#byIdentity.get(p.brokerId, p.brokerCounter) === at) this.#byIdentity.delete(p.brokerId, p.brokerCounter);
    this.live--;
    while (this.#head < this.#items.length && this.#items[this.#head] === undefined) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#base += this.#head;
      this.#head = 0;
    }
    return p;
  }
}

/**
 * Every persistent session's outgoing queue, with the calls journal.persistence.ts makes (live
 * and when replaying its records; `live` is false on replay, whose records hold the ids as
 * they were given).
 */
export class SessionQueues {
  readonly #queues = new Map<string, OutQueue>();
  /** Deliveries given another id than aedes chose, because a queued packet still held it. */
  renumbered = 0;

  /** @param copy the queued copy of a published packet (aedes-packet: a fresh, unset messageId). */
  constructor(private readonly copy: (p: StoredPacket) => StoredPacket) {}

  #queue(clientId: string): OutQueue {
    let q = this.#queues.get(clientId);
    if (!q) this.#queues.set(clientId, (q = new OutQueue()));
    return q;
  }

  enqueue(clientIds: readonly string[], packet: StoredPacket): void {
    for (const id of clientIds) this.#queue(id).push(this.copy(packet));
  }

  /** A packet as the journal's snapshot holds it (messageId included). */
  restore(clientId: string, packet: StoredPacket): void {
    this.#queue(clientId).push(packet);
  }

  /**
   * The queued packet with the same broker identity gets the messageId (`live`: a free one,
   * written back into `packet`); otherwise one with the same messageId is replaced
   * (aedes-persistence semantics, e.g. a PUBREL for its PUBLISH).
   */
  update(clientId: string, packet: StoredPacket, live: boolean): 'id' | 'replace' | 'full' {
    const q = this.#queues.get(clientId);
    const given = q?.assign(packet.brokerId, packet.brokerCounter, packet.messageId, live);
    if (given === 'full') return 'full';
    if (given) {
      if (given.messageId !== packet.messageId) this.renumbered++;
      packet.messageId = given.messageId;
      return 'id';
    }
    if (q?.replace(packet)) return 'replace';
    throw new Error('no such packet');
  }

  /** Whether this delivery is a resend that keeps the id its queued packet holds alone. */
  keepsId(clientId: string, packet: StoredPacket): boolean {
    return this.#queues.get(clientId)?.keepsId(packet.brokerId, packet.brokerCounter, packet.messageId) ?? false;
  }

  clear(clientId: string, messageId: number | undefined): StoredPacket | undefined {
    const q = this.#queues.get(clientId);
    const p = q?.clear(messageId);
    if (q?.live === 0) this.#queues.delete(clientId);
    return p;
  }

  /** A copy of one session's queue, in order. */
  packets(clientId: string): StoredPacket[] {
    const q = this.#queues.get(clientId);
    return q ? [...q.values()] : [];
  }

  *all(): Generator<[string, StoredPacket]> {
    for (const [id, q] of this.#queues) for (const p of q.values()) yield [id, p];
  }

  queued(): number {
    let n = 0;
    for (const q of this.#queues.values()) n += q.live;
    return n;
  }
}
