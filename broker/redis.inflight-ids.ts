/**
 * One packet identifier per unacknowledged delivery of a connection, for the Redis store
 * (cluster mode). aedes numbers each QoS > 0 delivery with the connection's counter
 * (lib/qos-packet.js: `client._nextId`, wrapping 65,535 → 1) and never asks whether that id
 * is still held; aedes-persistence-redis maps `outgoing-id:<client>:<id>` to the packet in a
 * cache that a later delivery with the same id overwrites.
 *
 * Why: MQTT 3.1.1 gives a session 65,535 ids [MQTT-2.3.1-2]. An ingest that acknowledges
 * slower than the cluster delivers (a backlog; the bench's REDIS_URL row) had more than that
 * in flight, so ids were reused while held: a PUBACK then cleared the newer packet of the same
 * id from the session's queue (which a crash of the ingest would have lost) and left the older
 * one queued for ever, to be sent again on the next connection. Measured: 78,170 keys in the
 * ingest's queue with its head never acknowledged, and every PUBACK's LREM walking past them
 * (~850 µs of redis-server each), until the row missed its 10-minute deadline.
 *
 * Here a delivery whose id is held gets the next free one (the packet object aedes then
 * writes, and the counter moves past it, as the journal does: journal.queue.ts `assign`);
 * when all are held it waits, first in first out, for a PUBACK to free one, and gives its
 * emitter slot back meanwhile (patches/qos-write-callback.patch.ts): the message is in the
 * session's queue already, so publishers and other subscribers do not wait for this one.
 * Ids belong to the connection (a new connection of the session starts with none held: aedes
 * numbers its queue afresh), so a closed connection's waiters are dropped, never written.
 */
import type { AedesPersistence } from 'aedes-persistence-level';
import { moveNextIdPast } from './patches/next-id.patch.ts';
import { releaseWriteCallback } from './patches/qos-write-callback.patch.ts';

/** MQTT packet identifiers are 1…65535 [MQTT-2.3.1-1]. */
const MAX_IDS = 65_535;

/** The aedes client and packet fields read here. */
interface IdClient {
  readonly clean?: boolean;
  /** Set by aedes' Client#close. */
  readonly closed?: boolean;
}
interface IdPacket {
  cmd?: string;
  messageId?: number;
  brokerId?: string;
  brokerCounter?: number;
}

interface Connection {
  /** Held id → the delivery holding it (brokerId:brokerCounter). */
  readonly held: Map<number, string>;
  /** Deliveries waiting for a free id, in call order, from `head` on (those before it are resumed). */
  readonly waiting: { packet: IdPacket; resolve: () => void; reject: (err: Error) => void }[];
  head: number;
}

export interface InflightIds {
  /** Deliveries that had to wait for a free id, since start. */
  readonly waits: number;
  /** The connection closed: its waiting deliveries are dropped. */
  connectionClosed(client: object): void;
}

const keyOf = (p: IdPacket) => `${p.brokerId}:${p.brokerCounter}`;

/**
 * Wrap `outgoingUpdate`/`outgoingClearMessageId` of `persistence` (in place) so no id is held
 * twice by one connection; `maxIds` (default all 65,535) bounds how many it may hold at once.
 */
export function uniqueInflightIds(persistence: AedesPersistence, maxIds = MAX_IDS): InflightIds {
  const target = persistence as unknown as Record<string, (client: IdClient, packet: IdPacket) => Promise<unknown>>;
  const update = target.outgoingUpdate!.bind(persistence);
  const clear = target.outgoingClearMessageId!.bind(persistence);
  const connections = new WeakMap<object, Connection>();
  const stats = { waits: 0 };
  const of = (client: object) => {
    let c = connections.get(client);
    if (!c) connections.set(client, (c = { held: new Map(), waiting: [], head: 0 }));
    return c;
  };
  /** Hold an id for `packet` (its own, or the next free one); false when every id is held. */
  const take = (client: IdClient, c: Connection, packet: IdPacket): boolean => {
    const key = keyOf(packet);
    const wanted = packet.messageId ?? 1;
    const holder = c.held.get(wanted);
    if (holder === key) return true;
    if (c.held.size >= maxIds) return false;
    if (holder === undefined) {
      c.held.set(wanted, key);
      return true;
    }
    // Fewer than MAX_IDS are held, so a free one is found.
    let id = wanted;
    do id = (id % MAX_IDS) + 1;
    while (c.held.has(id));
    c.held.set(id, key);
    packet.messageId = id;
    moveNextIdPast(client, id);
    return true;
  };
  const closedError = () => new Error('connection closed while its delivery waited for a free message id');

  target.outgoingUpdate = (client, packet) => {
    // QoS 2's PUBREL keeps the id its PUBLISH holds; clean sessions are never stored.
    if (packet.cmd !== 'publish' || client.clean) return update(client, packet);
    const c = of(client);
    if (c.head === c.waiting.length && take(client, c, packet)) return update(client, packet);
    stats.waits++;
    return new Promise<void>((resolve, reject) => {
      c.waiting.push({ packet, resolve, reject });
      releaseWriteCallback(packet);
    }).then(() => update(client, packet));
  };

  target.outgoingClearMessageId = (client, packet) => {
    // Started first: the store drops its id → packet entry synchronously, before a waiter reuses the id.
    const cleared = clear(client, packet);
    const c = connections.get(client);
    const id = packet.messageId;
    if (c && id !== undefined && (packet.cmd === 'puback' || packet.cmd === 'pubcomp' || c.held.get(id) === keyOf(packet))) {
      c.held.delete(id);
      // Resume waiters in order while ids are free. A PUBACK usually frees one id for one
      // waiter: the head index moves, and the list is cut only once half of it is done
      // (shift() or splice() would move the whole list, up to the whole backlog, per PUBACK).
      if (!client.closed) while (c.head < c.waiting.length && take(client, c, c.waiting[c.head]!.packet)) c.waiting[c.head++]!.resolve();
      if (c.head === c.waiting.length) c.waiting.length = c.head = 0;
      else if (c.head > 1024 && c.head * 2 > c.waiting.length) {
        c.waiting.splice(0, c.head);
        c.head = 0;
      }
    }
    return cleared;
  };

  return {
    get waits() {
      return stats.waits;
    },
    connectionClosed(client) {
      const c = connections.get(client);
      if (!c) return;
      for (const w of c.waiting.splice(c.head)) w.reject(closedError());
      connections.delete(client);
    },
  };
}
