/**
 * The outgoing queue of one persistent session: packets in order, found by broker identity
 * (aedes assigns a messageId as it sends) and by messageId (cleared on PUBACK), both O(1).
 */
import type { StoredPacket } from './journal.codec.ts';

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
  readonly #byIdentity = new Map<string, number>();
  /** Positions by messageId, oldest first (ids wrap at 65535, so one may be reused while queued). */
  readonly #byMessageId = new Map<number, number[]>();
  live = 0;

  static identity(p: { brokerId?: string; brokerCounter?: number }): string {
    return `${p.brokerId}\u0000${p.brokerCounter}`;
  }

  push(p: StoredPacket): void {
    const at = this.#base + this.#items.length;
    this.#items.push(p);
    this.#byIdentity.set(OutQueue.identity(p), at);
    if (p.messageId !== undefined) this.#indexMessageId(p.messageId, at);
    this.live++;
  }

  *values(): Generator<StoredPacket> {
    for (let i = this.#head; i < this.#items.length; i++) {
      const p = this.#items[i];
      if (p) yield p;
    }
  }

  /** Give the packet with this broker identity its messageId; false if it is not queued. */
  assign(brokerId: string | undefined, brokerCounter: number | undefined, messageId: number | undefined): boolean {
    const at = this.#byIdentity.get(OutQueue.identity({ brokerId, brokerCounter }));
    const p = at === undefined ? undefined : this.#items[at - this.#base];
    if (!p) return false;
    p.messageId = messageId;
    if (messageId !== undefined) this.#indexMessageId(messageId, at!);
    return true;
  }

  #indexMessageId(messageId: number, at: number): void {
    const list = this.#byMessageId.get(messageId);
    if (list) list.push(at);
    else this.#byMessageId.set(messageId, [at]);
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
    this.#byIdentity.delete(OutQueue.identity(old));
    this.#items[at - this.#base] = packet;
    this.#byIdentity.set(OutQueue.identity(packet), at);
    return true;
  }

  /** Remove and return the packet holding this messageId. */
  clear(messageId: number | undefined): StoredPacket | undefined {
    const at = this.#atMessageId(messageId);
    if (at === undefined) return undefined;
    const i = at - this.#base;
    const p = this.#items[i]!;
    this.#items[i] = undefined;
    const list = this.#byMessageId.get(messageId!)!;
    list.shift();
    if (!list.length) this.#byMessageId.delete(messageId!);
    if (this.#byIdentity.get(OutQueue.identity(p)) === at) this.#byIdentity.delete(OutQueue.identity(p));
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
