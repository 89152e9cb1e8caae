/**
 * The broker's on-disk persistence: every session, subscription, retained message, will and
 * queued QoS > 0 message lives in memory, and every change to them is appended to a journal
 * file in the persistence dir. On start the journal is replayed; when it grows past a bound
 * it is compacted into a fresh file that holds only the live state.
 *
 * Why not LevelDB (aedes-persistence-level): with the ingest's persistent session every
 * QoS 1 telemetry message costs three store operations (enqueue for the session, messageId
 * update on delivery, clear on PUBACK). Through LevelDB these were ~260 µs of broker CPU per
 * message, three times the cost of routing it; a journal append is a few µs, and many
 * operations share one write.
 *
 * Durability: operations are gathered and written with one write() per event-loop turn; a
 * call resolves once its record has reached the OS, so a SIGKILLed broker loses nothing that
 * was acknowledged to the caller (the same guarantee LevelDB without `sync` gave). The file
 * is fdatasync'ed after each write in the background, so a power cut loses at most the last
 * few milliseconds.
 *
 * Ordering: calls are answered in call order (aedes numbers publishes and drops a packet that
 * overtakes a later one — see `inOrder` in persistence.factory.ts), since every answer is
 * released by the same write, first in, first out.
 *
 * This file owns the aedes persistence interface and the in-memory state; the file, its group
 * write and compaction are journal.file.ts, the record format journal.codec.ts, a session's
 * outgoing queue journal.queue.ts.
 */
/* eslint-disable @typescript-eslint/require-await -- the aedes persistence interface is
   promise-based (aedes checks that setup() is an AsyncFunction); answers come from memory. */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { decode, encode, type Rec, type StoredPacket, type Sub, type SubRecord, type TrieSub } from './journal.codec.ts';
import { JournalFile, type JournalFileOptions } from './journal.file.ts';
import { MessageIdFlow, type FlowClient } from './journal.id-flow.ts';
import { SessionQueues } from './journal.queue.ts';
import { moveNextIdPast } from './patches/next-id.patch.ts';

export type { StoredPacket } from './journal.codec.ts';

const require = createRequire(import.meta.url);

interface Client {
  readonly id: string;
}
interface BrokerLike {
  readonly id: string;
}

interface QlobberSubT {
  subscriptionsCount: number;
  add(topic: string, sub: TrieSub): void;
  remove(topic: string, sub: { clientId: string; topic: string }): void;
  match(topic: string): TrieSub[];
}
interface QlobberTrueT {
  add(topic: string): void;
  test(topic: string): boolean;
}
type PacketCtor = new (original: StoredPacket, broker?: unknown) => StoredPacket;

const QlobberSub = require('qlobber/aedes/qlobber-sub') as new (o: object) => QlobberSubT;
const { QlobberTrue } = require('qlobber') as { QlobberTrue: new (o: object) => QlobberTrueT };
const Packet = require('aedes-packet') as PacketCtor;

const QLOBBER = { wildcard_one: '+', wildcard_some: '#', separator: '/' };

export type JournalOptions = JournalFileOptions;

export interface JournalStats {
  readonly generation: number;
  readonly journalBytes: number;
  readonly writes: number;
  readonly records: number;
  readonly compactions: number;
  /** Lines skipped at the last start (a torn tail after a crash). */
  readonly skippedOnLoad: number;
  /** Packets queued for persistent sessions, all clients. */
  readonly queued: number;
  /** Failed writes, fsyncs and compactions since start (each refused its callers). */
  readonly writeErrors: number;
  /** Recoveries: the live state rewritten after a failure. */
  readonly recoveries: number;
  /** The error the journal is failing with now (writes refused until it recovers), or null. */
  readonly failing: string | null;
  /** Deliveries renumbered because their id was still held by an unacknowledged packet. */
  readonly renumbered: number;
  /** Deliveries that waited for a PUBACK because all 65,535 ids of their session were held. */
  readonly idWaits: number;
  /** Deliveries waiting for a free id now. */
  readonly waitingForId: number;
}

export class JournalPersistence {
  readonly #file: JournalFile;
  #broker: BrokerLike | undefined;
  readonly #retained = new Map<string, StoredPacket>();
  readonly #subs = new Map<string, Map<string, SubRecord>>();
  readonly #trie = new QlobberSub(QLOBBER);
  readonly #outgoing = new SessionQueues((p) => new Packet(p));
  readonly #flow = new MessageIdFlow(this.#outgoing);
  readonly #incoming = new Map<string, Map<number, StoredPacket>>();
  readonly #wills = new Map<string, StoredPacket>();

  #destroyed = false;

  constructor(dir: string, opts: JournalOptions = {}) {
    this.#file = new JournalFile(dir, opts, () => this.#snapshot());
  }

  get broker(): BrokerLike | undefined {
    return this.#broker;
  }

  /** aedes calls this once; it must be an async function (aedes checks). */
  async setup(broker: BrokerLike): Promise<void> {
    this.#broker = broker;
    this.#file.open((rec) => this.#apply(rec));
  }

  stats(): JournalStats {
    const failing = this.#file.failing;
    return {
      generation: this.#file.generation,
      journalBytes: this.#file.bytes,
      ...this.#file.stats,
      queued: this.#outgoing.queued(),
      renumbered: this.#outgoing.renumbered,
      idWaits: this.#flow.waits,
      waitingForId: this.#flow.waitingNow,
      failing: failing ? `${(failing as NodeJS.ErrnoException).code ?? ''} ${failing.message}`.trim() : null,
    };
  }

  // ---- retained -----------------------------------------------------------------------------

  async storeRetained(pkt: StoredPacket): Promise<void> {
    this.#applyRetained({ ...pkt });
    return this.#log(['r', encode(pkt)]);
  }

  #applyRetained(p: StoredPacket): void {
    if (!p.payload || p.payload.length === 0) this.#retained.delete(p.topic!);
    else this.#retained.set(p.topic!, p);
  }

  createRetainedStreamCombi(patterns: string[]): Readable {
    const q = new QlobberTrue(QLOBBER);
    for (const p of patterns) q.add(p);
    const out: StoredPacket[] = [];
    for (const [topic, p] of this.#retained) if (q.test(topic)) out.push(p);
    return Readable.from(out);
  }

  createRetainedStream(pattern: string): Readable {
    return this.createRetainedStreamCombi([pattern]);
  }

  // ---- subscriptions ------------------------------------------------------------------------

  async addSubscriptions(client: Client, subs: Sub[]): Promise<void> {
    this.#applyAdd(client.id, subs);
    return this.#log(['s', client.id, subs.map((s) => ({ ...s }))]);
  }

  #applyAdd(clientId: string, subs: Sub[]): void {
    let stored = this.#subs.get(clientId);
    if (!stored) this.#subs.set(clientId, (stored = new Map()));
    for (const s of subs) {
      const before = stored.get(s.topic);
      const rec: SubRecord = { qos: s.qos, rh: s.rh, rap: s.rap, nl: s.nl };
      if (s.subscriptionIdentifier !== undefined) rec.subscriptionIdentifier = s.subscriptionIdentifier;
      // Only QoS > 0 subscriptions of persistent sessions queue messages: the trie matches those.
      if (s.qos > 0) this.#trie.add(s.topic, { clientId, topic: s.topic, qos: s.qos, rh: s.rh, rap: s.rap, nl: s.nl });
      else if (before && before.qos > 0) this.#trie.remove(s.topic, { clientId, topic: s.topic });
      stored.set(s.topic, rec);
    }
  }

  async removeSubscriptions(client: Client, topicsToRemove: string[]): Promise<void> {
    this.#applyRemove(client.id, topicsToRemove);
    return this.#log(['u', client.id, [...topicsToRemove]]);
  }

  #applyRemove(clientId: string, topicsToRemove: string[]): void {
    const stored = this.#subs.get(clientId);
    if (!stored) return;
    for (const t of topicsToRemove) {
      const s = stored.get(t);
      if (!s) continue;
      if (s.qos > 0) this.#trie.remove(t, { clientId, topic: t });
      stored.delete(t);
    }
    if (stored.size === 0) this.#subs.delete(clientId);
  }

  async cleanSubscriptions(client: Client): Promise<void> {
    this.#applyClean(client.id);
    return this.#log(['c', client.id]);
  }

  #applyClean(clientId: string): void {
    const stored = this.#subs.get(clientId);
    if (!stored) return;
    for (const [t, s] of stored) if (s.qos > 0) this.#trie.remove(t, { clientId, topic: t });
    this.#subs.delete(clientId);
  }

  async subscriptionsByClient(client: Client): Promise<Sub[]> {
    const stored = this.#subs.get(client.id);
    return stored ? [...stored].map(([topic, s]) => ({ topic, ...s })) : [];
  }

  async subscriptionsByTopic(topic: string): Promise<TrieSub[]> {
    return this.#trie.match(topic);
  }

  async countOffline(): Promise<{ subsCount: number; clientsCount: number }> {
    return { subsCount: this.#trie.subscriptionsCount, clientsCount: this.#subs.size };
  }

  getClientList(topic: string): Readable {
    const ids: string[] = [];
    for (const [id, stored] of this.#subs) if (stored.has(topic)) ids.push(id);
    return Readable.from(ids);
  }

  // ---- outgoing queues ----------------------------------------------------------------------

  async outgoingEnqueue(sub: { clientId: string }, packet: StoredPacket): Promise<void> {
    return this.outgoingEnqueueCombi([sub], packet);
  }

  async outgoingEnqueueCombi(subs: readonly { clientId: string }[], packet: StoredPacket): Promise<void> {
    // Nothing to store, but answered in call order: after the calls already waiting.
    if (subs.length === 0) return this.#file.pending();
    const ids = subs.map((s) => s.clientId);
    this.#outgoing.enqueue(ids, packet);
    return this.#log(['e', ids, encode(packet)]);
  }

  /**
   * aedes calls this with the packet it is about to write, numbered by the connection's
   * counter. When that id is still held by another unacknowledged packet of the session, the
   * packet gets the next free id instead (it is the object aedes then writes), and the
   * connection's counter moves past it (journal.queue.ts `assign` says why). When every id is
   * held, the call waits for a PUBACK to free one (journal.id-flow.ts).
   */
  async outgoingUpdate(client: FlowClient, packet: StoredPacket): Promise<void> {
    const wanted = packet.messageId;
    const how = await this.#flow.update(client, packet);
    if (packet.messageId !== wanted) moveNextIdPast(client, packet.messageId!);
    if (how === 'id') return this.#log(['m', client.id, packet.brokerId, packet.brokerCounter, packet.messageId!]);
    return this.#log(['p', client.id, encode(packet)]);
  }

  async outgoingClearMessageId(client: Client, packet: { messageId?: number }): Promise<StoredPacket | undefined> {
    const removed = this.#outgoing.clear(client.id, packet.messageId);
    if (!removed) return undefined;
    const logged = this.#log(['x', client.id, packet.messageId!]);
    // The freed id goes to the oldest waiting delivery; its 'm' record follows this 'x'.
    if (this.#flow.waitingNow > 0) this.#flow.resume(client.id);
    await logged;
    return removed;
  }

  outgoingStream(client: Client): Readable {
    // A copy: the queue changes while aedes streams it.
    return Readable.from(this.#outgoing.packets(client.id));
  }

  // ---- incoming (QoS 2) ---------------------------------------------------------------------

  async incomingStorePacket(client: Client, packet: StoredPacket): Promise<void> {
    this.#applyIncoming(client.id, packet);
    return this.#log(['i', client.id, encode(packet)]);
  }

  #applyIncoming(clientId: string, packet: StoredPacket): void {
    let m = this.#incoming.get(clientId);
    if (!m) this.#incoming.set(clientId, (m = new Map()));
    const p = new Packet(packet);
    p.messageId = packet.messageId;
    m.set(packet.messageId!, p);
  }

  async incomingGetPacket(client: Client, packet: { messageId?: number }): Promise<StoredPacket> {
    const p = this.#incoming.get(client.id)?.get(packet.messageId!);
    if (!p) throw new Error('no such packet');
    return p;
  }

  async incomingDelPacket(client: Client, packet: { messageId?: number }): Promise<void> {
    const m = this.#incoming.get(client.id);
    if (!m?.has(packet.messageId!)) throw new Error('no such packet');
    m.delete(packet.messageId!);
    if (m.size === 0) this.#incoming.delete(client.id);
    return this.#log(['j', client.id, packet.messageId!]);
  }

  async cleanIncoming(client: Client): Promise<void> {
    if (!this.#incoming.delete(client.id)) return;
    return this.#log(['k', client.id]);
  }

  // ---- wills --------------------------------------------------------------------------------

  async putWill(client: Client, packet: StoredPacket): Promise<void> {
    packet.brokerId = this.#broker?.id;
    packet.clientId = client.id;
    this.#wills.set(client.id, packet);
    return this.#log(['w', client.id, encode(packet)]);
  }

  async getWill(client: Client): Promise<StoredPacket | undefined> {
    return this.#wills.get(client.id);
  }

  async delWill(client: Client): Promise<StoredPacket | undefined> {
    const w = this.#wills.get(client.id);
    if (!w) return undefined;
    this.#wills.delete(client.id);
    await this.#log(['v', client.id]);
    return w;
  }

  /** Wills of brokers not in `brokers` (dead ones: after a restart, the previous process). */
  streamWill(brokers: Record<string, unknown> = {}): Readable {
    return Readable.from([...this.#wills.values()].filter((w) => !brokers[w.brokerId!]));
  }

  /** A connection closed (aedes `clientDisconnect`): its deliveries waiting for an id are dropped. */
  connectionClosed(client: FlowClient): void {
    this.#flow.closed(client);
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) throw new Error('destroyed called twice!');
    this.#destroyed = true;
    this.#flow.close();
    this.#file.close();
  }

  /** Append a record; resolves once it has been written to the OS (one write per loop turn). */
  #log(rec: Rec): Promise<void> {
    return this.#file.append(rec);
  }

  /** The live state as records (compaction writes exactly these). */
  *#snapshot(): Generator<Rec> {
    for (const p of this.#retained.values()) yield ['r', encode(p)];
    for (const [id, stored] of this.#subs) yield ['s', id, [...stored].map(([topic, s]) => ({ topic, ...s }))];
    for (const [id, p] of this.#outgoing.all()) yield ['o', id, encode(p)];
    for (const [id, m] of this.#incoming) for (const p of m.values()) yield ['i', id, encode(p)];
    for (const [id, w] of this.#wills) yield ['w', id, encode(w)];
  }

  #apply(rec: Rec): void {
    switch (rec[0]) {
      case 'r':
        return this.#applyRetained(decode(rec[1]));
      case 's':
        return this.#applyAdd(rec[1], rec[2]);
      case 'u':
        return this.#applyRemove(rec[1], rec[2]);
      case 'c':
        return this.#applyClean(rec[1]);
      case 'e':
        return this.#outgoing.enqueue(rec[1], decode(rec[2]));
      case 'm':
        this.#outgoing.update(rec[1], { cmd: 'publish', brokerId: rec[2], brokerCounter: rec[3], messageId: rec[4] }, false);
        return;
      case 'p':
        this.#outgoing.update(rec[1], decode(rec[2]), false);
        return;
      case 'x':
        this.#outgoing.clear(rec[1], rec[2]);
        return;
      case 'o':
        return this.#outgoing.restore(rec[1], decode(rec[2]));
      case 'i':
        return this.#applyIncoming(rec[1], decode(rec[2]));
      case 'j': {
        const m = this.#incoming.get(rec[1]);
        m?.delete(rec[2]);
        if (m?.size === 0) this.#incoming.delete(rec[1]);
        return;
      }
      case 'k':
        this.#incoming.delete(rec[1]);
        return;
      case 'w':
        this.#wills.set(rec[1], decode(rec[2]));
        return;
      case 'v':
        this.#wills.delete(rec[1]);
        return;
    }
  }
}
