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
 * Files: `journal-<generation>.log`, one JSON record per line. Compaction writes generation
 * n+1 complete (snapshot records), fsyncs it, renames it into place, then removes n; on start
 * the highest complete generation wins. A torn last line (a crash mid-write) is skipped.
 */
/* eslint-disable @typescript-eslint/require-await -- the aedes persistence interface is
   promise-based (aedes checks that setup() is an AsyncFunction); answers come from memory. */
import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Readable } from 'node:stream';

const require = createRequire(import.meta.url);

/** The packet shape aedes stores (aedes-packet's fields; MQTT 5 extras kept opaque). */
export interface StoredPacket {
  cmd: string;
  brokerId?: string;
  brokerCounter?: number;
  topic?: string;
  payload?: Buffer | string;
  qos?: number;
  retain?: boolean;
  dup?: boolean;
  messageId?: number;
  clientId?: string;
  nl?: boolean;
  properties?: unknown;
  messageExpiry?: number;
}

interface SubRecord {
  qos: number;
  rh?: number;
  rap?: boolean;
  nl?: boolean;
  subscriptionIdentifier?: number;
}
interface Sub extends SubRecord {
  topic: string;
}
interface TrieSub extends SubRecord {
  clientId: string;
  topic: string;
}
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

/**
 * A client's queue of outgoing packets. Two things must stay cheap at 200,000 queued packets
 * (an ingest that was offline, reconnecting): aedes assigns a messageId to each packet as it
 * sends it (found by broker id + counter), and clears each on PUBACK (found by messageId).
 * Both are found through an index, and cleared slots are reclaimed lazily from the head, so
 * neither is a scan or an Array#splice that moves the whole queue.
 */
class OutQueue {
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

// ---- journal records ---------------------------------------------------------------------
// One JSON array per line; the first element names the operation.
type Rec =
  | ['r', EncPacket] // retained message stored (empty payload: removed)
  | ['s', string, Sub[]] // subscriptions added
  | ['u', string, string[]] // subscriptions removed (topics)
  | ['c', string] // all subscriptions of a client removed
  | ['e', string[], EncPacket] // packet queued for clients
  | ['m', string, string | undefined, number | undefined, number] // queued packet got a messageId
  | ['p', string, EncPacket] // queued packet replaced (same messageId, e.g. by a PUBREL)
  | ['x', string, number] // queued packet cleared by messageId
  | ['o', string, EncPacket] // a queued packet exactly as it is (compaction)
  | ['i', string, EncPacket] // incoming QoS 2 packet stored
  | ['j', string, number] // incoming packet deleted
  | ['k', string] // incoming packets of a client dropped
  | ['w', string, EncPacket] // will stored
  | ['v', string]; // will deleted

interface EncPacket {
  c: string;
  b?: string;
  n?: number;
  t?: string;
  /** payload, base64 */
  p?: string;
  q?: number;
  r?: 1;
  d?: 1;
  m?: number;
  /** clientId, nl, properties, messageExpiry when present */
  x?: Record<string, unknown>;
}

const EXTRA = ['clientId', 'nl', 'properties', 'messageExpiry'] as const;

function encode(p: StoredPacket): EncPacket {
  const e: EncPacket = { c: p.cmd };
  if (p.brokerId !== undefined) e.b = p.brokerId;
  if (p.brokerCounter !== undefined) e.n = p.brokerCounter;
  if (p.topic !== undefined) e.t = p.topic;
  if (p.payload !== undefined) e.p = (typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload).toString('base64');
  if (p.qos) e.q = p.qos;
  if (p.retain) e.r = 1;
  if (p.dup) e.d = 1;
  if (p.messageId !== undefined && p.messageId !== null) e.m = p.messageId;
  for (const k of EXTRA) {
    if (Object.prototype.hasOwnProperty.call(p, k)) (e.x ??= {})[k] = p[k];
  }
  return e;
}

function decode(e: EncPacket): StoredPacket {
  const p: StoredPacket = { cmd: e.c, brokerId: e.b, brokerCounter: e.n, topic: e.t, payload: e.p === undefined ? undefined : Buffer.from(e.p, 'base64'), qos: e.q ?? 0, retain: e.r === 1, dup: e.d === 1 };
  if (e.x) Object.assign(p, e.x);
  if (e.m !== undefined) p.messageId = e.m;
  return p;
}

/** A queued copy, as aedes-persistence makes it (fresh messageId). */
const queued = (p: StoredPacket): StoredPacket => new Packet(p);

export interface JournalOptions {
  /** Compact once the journal file has grown past this many bytes. */
  readonly compactBytes?: number;
  /** Called on a failed write or fsync (the broker logs it). */
  readonly onError?: (err: Error) => void;
}

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
}

export class JournalPersistence {
  readonly #dir: string;
  readonly #compactBytes: number;
  readonly #onError: (err: Error) => void;

  #broker: BrokerLike | undefined;
  readonly #retained = new Map<string, StoredPacket>();
  readonly #subs = new Map<string, Map<string, SubRecord>>();
  readonly #trie = new QlobberSub(QLOBBER);
  readonly #outgoing = new Map<string, OutQueue>();
  readonly #incoming = new Map<string, Map<number, StoredPacket>>();
  readonly #wills = new Map<string, StoredPacket>();

  #fd: number | undefined;
  #generation = 0;
  #bytes = 0;
  /** Compact past this size: the bound, or twice the live state last written (see #compact). */
  #compactAt = 0;
  #pending: string[] = [];
  #release: (() => void) | undefined;
  #written: Promise<void> | undefined;
  #syncing = false;
  #syncAgain = false;
  #destroyed = false;
  #stats = { writes: 0, records: 0, compactions: 0, skippedOnLoad: 0 };

  constructor(dir: string, opts: JournalOptions = {}) {
    this.#dir = dir;
    this.#compactBytes = opts.compactBytes ?? 64 * 1024 * 1024;
    this.#compactAt = this.#compactBytes;
    this.#onError = opts.onError ?? (() => {});
  }

  get broker(): BrokerLike | undefined {
    return this.#broker;
  }

  /** aedes calls this once; it must be an async function (aedes checks). */
  async setup(broker: BrokerLike): Promise<void> {
    this.#broker = broker;
    mkdirSync(this.#dir, { recursive: true });
    const gens = readdirSync(this.#dir)
      .map((f) => /^journal-(\d+)\.log$/.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const last = gens[gens.length - 1];
    if (last !== undefined) {
      this.#generation = last;
      this.#load(join(this.#dir, `journal-${last}.log`));
    }
    // Start on a compact file: the replayed history collapses to the live state.
    this.#compact();
    for (const g of gens) if (g !== this.#generation) this.#unlink(g);
    for (const f of readdirSync(this.#dir)) if (f.endsWith('.tmp')) unlinkSync(join(this.#dir, f));
  }

  stats(): JournalStats {
    let queuedCount = 0;
    for (const q of this.#outgoing.values()) queuedCount += q.live;
    return { generation: this.#generation, journalBytes: this.#bytes, ...this.#stats, queued: queuedCount };
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
    if (subs.length === 0) return this.#written ?? Promise.resolve();
    const ids = subs.map((s) => s.clientId);
    this.#applyEnqueue(ids, packet);
    return this.#log(['e', ids, encode(packet)]);
  }

  #applyEnqueue(ids: readonly string[], packet: StoredPacket): void {
    for (const id of ids) {
      let q = this.#outgoing.get(id);
      if (!q) this.#outgoing.set(id, (q = new OutQueue()));
      q.push(queued(packet));
    }
  }

  async outgoingUpdate(client: Client, packet: StoredPacket): Promise<void> {
    const how = this.#applyUpdate(client.id, packet);
    if (how === 'id') return this.#log(['m', client.id, packet.brokerId, packet.brokerCounter, packet.messageId!]);
    return this.#log(['p', client.id, encode(packet)]);
  }

  /**
   * The queued packet with the same broker identity gets the messageId; otherwise one with the
   * same messageId is replaced (aedes-persistence semantics: messageIds wrap at 65535).
   */
  #applyUpdate(clientId: string, packet: StoredPacket): 'id' | 'replace' {
    const q = this.#outgoing.get(clientId);
    if (q?.assign(packet.brokerId, packet.brokerCounter, packet.messageId)) return 'id';
    if (q?.replace(packet)) return 'replace';
    throw new Error('no such packet');
  }

  async outgoingClearMessageId(client: Client, packet: { messageId?: number }): Promise<StoredPacket | undefined> {
    const removed = this.#applyClear(client.id, packet.messageId);
    if (!removed) return undefined;
    await this.#log(['x', client.id, packet.messageId!]);
    return removed;
  }

  #applyClear(clientId: string, messageId: number | undefined): StoredPacket | undefined {
    const q = this.#outgoing.get(clientId);
    const p = q?.clear(messageId);
    if (q?.live === 0) this.#outgoing.delete(clientId);
    return p;
  }

  outgoingStream(client: Client): Readable {
    const q = this.#outgoing.get(client.id);
    // A copy: the queue changes while aedes streams it.
    return Readable.from(q ? [...q.values()] : []);
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

  async destroy(): Promise<void> {
    if (this.#destroyed) throw new Error('destroyed called twice!');
    this.#flush();
    this.#destroyed = true;
    if (this.#fd !== undefined) {
      try {
        fsyncSync(this.#fd);
      } catch (e) {
        this.#onError(e as Error);
      }
      closeSync(this.#fd);
      this.#fd = undefined;
    }
  }

  // ---- journal ------------------------------------------------------------------------------

  /** Append a record; resolves once it has been written to the OS (one write per loop turn). */
  #log(rec: Rec): Promise<void> {
    if (this.#destroyed) return Promise.reject(new Error('persistence destroyed'));
    this.#pending.push(JSON.stringify(rec));
    if (!this.#written) {
      this.#written = new Promise<void>((res) => (this.#release = res));
      setImmediate(() => this.#flush());
    }
    return this.#written;
  }

  #flush(): void {
    const release = this.#release;
    this.#release = undefined;
    this.#written = undefined;
    if (this.#pending.length && this.#fd !== undefined) {
      const buf = Buffer.from(`${this.#pending.join('\n')}\n`);
      this.#stats.records += this.#pending.length;
      this.#pending = [];
      try {
        let off = 0;
        while (off < buf.length) off += writeSync(this.#fd, buf, off);
        this.#bytes += buf.length;
        this.#stats.writes++;
      } catch (e) {
        this.#onError(e as Error);
      }
      this.#sync();
      if (this.#bytes > this.#compactAt) this.#compact();
    }
    release?.();
  }

  /** fdatasync in the background, at most one at a time (a later write asks for another). */
  #sync(): void {
    if (this.#syncing) {
      this.#syncAgain = true;
      return;
    }
    const fd = this.#fd;
    if (fd === undefined) return;
    this.#syncing = true;
    fdatasync(fd, (err) => {
      this.#syncing = false;
      // EBADF: the file was swapped by a compaction (which fsyncs the new one itself).
      if (err && err.code !== 'EBADF') this.#onError(err);
      if (this.#syncAgain) {
        this.#syncAgain = false;
        this.#sync();
      }
    });
  }

  /** Write the live state as generation n+1, make it durable, switch to it, drop n. */
  #compact(): void {
    const next = this.#generation + 1;
    const tmp = join(this.#dir, `journal-${next}.log.tmp`);
    const fd = openSync(tmp, 'w');
    let bytes = 0;
    let chunk: string[] = [];
    const put = (rec: Rec) => {
      chunk.push(JSON.stringify(rec));
      if (chunk.length >= 4096) out();
    };
    const out = () => {
      if (!chunk.length) return;
      const buf = Buffer.from(`${chunk.join('\n')}\n`);
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off);
      bytes += buf.length;
      chunk = [];
    };
    for (const p of this.#retained.values()) put(['r', encode(p)]);
    for (const [id, stored] of this.#subs) put(['s', id, [...stored].map(([topic, s]) => ({ topic, ...s }))]);
    for (const [id, q] of this.#outgoing) for (const p of q.values()) put(['o', id, encode(p)]);
    for (const [id, m] of this.#incoming) for (const p of m.values()) put(['i', id, encode(p)]);
    for (const [id, w] of this.#wills) put(['w', id, encode(w)]);
    out();
    fsyncSync(fd);
    const file = join(this.#dir, `journal-${next}.log`);
    renameSync(tmp, file);
    // The rename itself must survive a power cut before the old generation goes.
    const d = openSync(this.#dir, 'r');
    fsyncSync(d);
    closeSync(d);
    const old = this.#fd;
    const oldGen = this.#generation;
    this.#fd = openSync(file, 'a');
    closeSync(fd);
    this.#generation = next;
    this.#bytes = bytes;
    // A large live state (an offline ingest's queue: 100,000 messages ≈ 50 MB) must not be
    // rewritten after every few MB of appends: the next compaction waits until the journal
    // has at least doubled, so its cost stays proportional to what was appended.
    this.#compactAt = Math.max(this.#compactBytes, 2 * bytes);
    this.#stats.compactions++;
    if (old !== undefined) {
      closeSync(old);
      this.#unlink(oldGen);
    }
  }

  #unlink(gen: number): void {
    try {
      unlinkSync(join(this.#dir, `journal-${gen}.log`));
    } catch {
      // already gone
    }
  }

  /** Replay a journal file into memory (no records written). */
  #load(file: string): void {
    const text = readFileSync(file, 'utf8');
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      const line = text.slice(start, end);
      start = end + 1;
      if (!line) continue;
      let rec: Rec;
      try {
        rec = JSON.parse(line) as Rec;
      } catch {
        // A torn write at the tail (a crash mid-write): that operation never completed.
        this.#stats.skippedOnLoad++;
        continue;
      }
      try {
        this.#apply(rec);
      } catch {
        this.#stats.skippedOnLoad++;
      }
    }
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
        return this.#applyEnqueue(rec[1], decode(rec[2]));
      case 'm':
        this.#applyUpdate(rec[1], { cmd: 'publish', brokerId: rec[2], brokerCounter: rec[3], messageId: rec[4] });
        return;
      case 'p':
        this.#applyUpdate(rec[1], decode(rec[2]));
        return;
      case 'x':
        this.#applyClear(rec[1], rec[2]);
        return;
      case 'o': {
        let q = this.#outgoing.get(rec[1]);
        if (!q) this.#outgoing.set(rec[1], (q = new OutQueue()));
        q.push(decode(rec[2]));
        return;
      }
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
