/**
 * Where sessions, subscriptions, retained messages and queued QoS>0 messages live:
 * - REDIS_URL set → aedes-persistence-redis + mqemitter-redis (several broker processes
 *   share sessions and route messages to each other: cluster mode);
 * - a persistence dir → the journal (journal.persistence.ts): state in memory, every change
 *   appended to a file; survives restarts and SIGKILL (a change reaches the OS before the
 *   call resolves). LevelDB (classic-level) is kept as `engine: 'level'` for comparison;
 * - neither → aedes' in-memory default (unit tests).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Level } from 'level';
import levelPersistence, { type AedesPersistence } from 'aedes-persistence-level';
import redisPersistence from 'aedes-persistence-redis';
import MQEmitterRedis from 'mqemitter-redis';
import type { JournalFs } from './journal.file.ts';
import type { FlowClient } from './journal.id-flow.ts';
import { JournalPersistence } from './journal.persistence.ts';
import { lremFromHead } from './patches/redis-lrem.patch.ts';
import { uniqueInflightIds } from './redis.inflight-ids.ts';

/**
 * Make a persistence answer the two calls of aedes' QoS > 0 publish path in call order.
 * aedes numbers each publish (brokerCounter) and each client drops a packet numbered below
 * the last one it was handed (lib/client.js `dedupe`). Level answers concurrent calls out of
 * order, so a later publish could overtake an earlier one, which was then dropped for every
 * subscriber after its PUBACK: ~1–9 % of acknowledged messages at 200/s with one persistent
 * subscriber (tests/chaos.test.ts; tests/harness/aedes-level-loss.repro.mts). Releasing the
 * results first-in first-out keeps the numbering monotonic at delivery.
 */
function inOrder(persistence: AedesPersistence): AedesPersistence {
  const target = persistence as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of ['subscriptionsByTopic', 'outgoingEnqueueCombi']) {
    const original = target[name]!.bind(persistence);
    let tail: Promise<unknown> = Promise.resolve();
    target[name] = (...args: unknown[]) => {
      const r = original(...args);
      const out = tail.then(() => r);
      tail = out.catch(() => undefined);
      return out;
    };
  }
  return persistence;
}

/**
 * A PUBACK from a clean-session client cannot acknowledge anything stored: aedes writes QoS
 * deliveries to clean clients without storing them (lib/client.js deliverQoS: `that.clean`
 * → write), and subscriptions of clean clients are never stored (handlers/subscribe.js
 * storeSubscriptions), so they get no offline queue. Yet handlers/puback.js looks the message
 * id up in the store for every PUBACK: one LevelDB get (or Redis round trip) per delivered
 * message that always misses. It was the largest single cost in the broker's CPU profile
 * (~25 % of busy time in the QoS 1 bench), so answer "nothing stored" without asking.
 * Only PUBACKs are short-cut: the reconnect path (handlers/connect.js emptyQueueFilter)
 * passes stored packets of a now-clean client here to delete them, and still does.
 */
function skipCleanSessionAcks(persistence: AedesPersistence): AedesPersistence {
  const target = persistence as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const original = target.outgoingClearMessageId!.bind(persistence);
  target.outgoingClearMessageId = (client: unknown, packet: unknown) =>
    (client as { clean?: boolean }).clean === true && (packet as { cmd?: string }).cmd === 'puback'
      ? Promise.resolve(undefined)
      : original(client, packet);
  return persistence;
}

/** Whether a granted filter of `client` may be stored (the ACL, asked again at store time). */
export type MayStoreSubscription = (client: unknown, sub: { topic: string }) => boolean;

/**
 * Store only the filters a SUBSCRIBE was granted. aedes 1.2 hands `addSubscriptions` the
 * packet's whole array (handlers/subscribe.js storeSubscriptions passes
 * `packet.subscriptions`, not the authorized `sub`), so a filter refused with SUBACK 0x80
 * beside a granted one was stored anyway: every QoS 1 message on it was then queued for the
 * persistent session and delivered on its next connection (emptyQueue does not ask the ACL).
 * Measured before this: svc-ingest subscribing [devices/+/telemetry, devices/dev-a/config]
 * with clean: false got 0x80 for config and, after reconnecting, both config messages the
 * API had published. The hook's verdict is not known yet when aedes calls here (all filters
 * of a packet are authorized and stored in one synchronous loop), so the ACL is asked again.
 */
function grantedOnly(persistence: AedesPersistence, mayStore: MayStoreSubscription | undefined): AedesPersistence {
  if (!mayStore) return persistence;
  const target = persistence as unknown as Record<string, (client: unknown, subs: { topic: string }[]) => Promise<unknown>>;
  const original = target.addSubscriptions!.bind(persistence);
  target.addSubscriptions = (client, subs) => {
    const granted = subs.filter((sub) => mayStore(client, sub));
    return granted.length > 0 ? original(client, granted) : Promise.resolve(client);
  };
  return persistence;
}

/** How long a Redis subscription change may wait for its own broadcast before it fails. */
const REDIS_SUBSCRIPTION_ECHO_MS = 10_000;

/**
 * aedes 1.2 stores a SUBSCRIBE's subscriptions once per granted filter: handlers/subscribe.js
 * `storeSubscriptions` calls `addSubscriptions(client, packet.subscriptions)` — the whole
 * array — for every filter, all in the same tick. aedes-persistence-redis (asyncPersistence.js
 * `addSubscriptions`) writes them, broadcasts them on `$SYS/sub/add` and resolves only when
 * its own broadcast comes back through the mqemitter; the waiter is kept in a Map keyed by
 * client id + first topic, one per key (aedes-persistence 10 broadcastPersistence.js
 * `#waitFor`). So the second call replaced the first's waiter, the first broadcast back woke
 * the last call and deleted the key, and the other N − 1 calls never settled: aedes never
 * sent the SUBACK of a SUBSCRIBE with more than one filter (the ingest's and the API's).
 * Here one SUBSCRIBE stores once (calls with the same array share one promise), a client's
 * subscription changes run one at a time (two packets with the same first filter, or an
 * UNSUBSCRIBE beside a clean CONNECT's `cleanSubscriptions`, collided the same way), and a
 * broadcast that never returns (Redis pub/sub drops what is published while its subscriber
 * connection reconnects) fails the call after REDIS_SUBSCRIPTION_ECHO_MS instead of holding
 * the SUBACK forever: aedes then closes the connection and the client subscribes again.
 */
export function oneSubscriptionChangeAtATime(persistence: AedesPersistence, echoMs = REDIS_SUBSCRIPTION_ECHO_MS): AedesPersistence {
  const target = persistence as unknown as Record<string, (client: { id: string }, subs: unknown) => Promise<unknown>>;
  const tails = new Map<string, Promise<unknown>>();
  const serial = (name: 'addSubscriptions' | 'removeSubscriptions') => {
    const original = target[name]!.bind(persistence);
    return (client: { id: string }, subs: unknown) => {
      const run = () =>
        new Promise<unknown>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`${name} for ${client.id}: Redis did not return the subscription broadcast within ${echoMs} ms`)),
            echoMs,
          );
          original(client, subs)
            .then(resolve, reject)
            .finally(() => clearTimeout(timer));
        });
      const out = (tails.get(client.id) ?? Promise.resolve()).then(run, run);
      const tail = out.catch(() => undefined);
      tails.set(client.id, tail);
      void tail.then(() => {
        if (tails.get(client.id) === tail) tails.delete(client.id);
      });
      return out;
    };
  };
  const add = serial('addSubscriptions');
  const storing = new WeakMap<object, Promise<unknown>>();
  target.addSubscriptions = (client, subs) => {
    const key = subs as object;
    const same = storing.get(key);
    if (same) return same;
    const out = add(client, subs);
    storing.set(key, out);
    return out;
  };
  target.removeSubscriptions = serial('removeSubscriptions');
  return persistence;
}

/** Persistence methods aedes awaits (streams and setup/destroy excluded). */
const ASYNC_METHODS = [
  'subscriptionsByTopic',
  'cleanSubscriptions',
  'storeRetained',
  'addSubscriptions',
  'removeSubscriptions',
  'subscriptionsByClient',
  'countOffline',
  'outgoingEnqueue',
  'outgoingEnqueueCombi',
  'outgoingUpdate',
  'outgoingClearMessageId',
  'incomingStorePacket',
  'incomingGetPacket',
  'incomingDelPacket',
  'cleanIncoming',
  'putWill',
  'getWill',
  'delWill',
] as const;

/**
 * aedes' close() resolves while handlers of already-read packets may still be writing
 * (a publish in flight enqueues for subscribers after its client closed). Track those
 * calls so the store is closed only once they settle, and fail late ones quietly.
 */
function quiesce(persistence: AedesPersistence): { persistence: AedesPersistence; drain(): Promise<void> } {
  // A count, not a set of tracked promises: this wraps several calls per QoS 1 message, and
  // one `then` per call is all the bookkeeping it needs.
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  const settled = () => {
    if (--inFlight === 0) onIdle?.();
  };
  let closing = false;
  const target = persistence as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of ASYNC_METHODS) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function (this: unknown, ...args: unknown[]) {
      // After close nothing may touch the store, and an error here would surface as an
      // unhandled rejection inside aedes: a call that never settles is the quiet answer.
      if (closing) return new Promise<never>(() => {});
      const r = original.apply(persistence, args);
      if (r instanceof Promise) {
        inFlight++;
        r.then(settled, settled); // the caller gets the original promise and its error
      }
      return r;
    };
  }
  return {
    persistence,
    async drain() {
      // Calls started while draining are waited for too; a call that never settles is given up after 5 s.
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5_000);
          onIdle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      closing = true;
    },
  };
}

export interface PersistenceChoice {
  readonly kind: 'memory' | 'journal' | 'level' | 'redis';
  /** The on-disk journal (kind 'journal'), for its stats. */
  readonly journal?: JournalPersistence;
  readonly persistence?: AedesPersistence;
  readonly mq?: unknown;
  /** A connection closed (aedes `clientDisconnect`): deliveries waiting for a message id are dropped. */
  readonly connectionClosed?: (client: object) => void;
  /** Release what aedes.close() does not (aedes closes the mq itself). */
  close(): Promise<void>;
}

/**
 * Every engine is made ready for aedes the same way: clean-session acks skipped, calls tracked
 * (quiesce); closing drains those calls first, then `release` frees the engine's own store.
 */
function choice(
  kind: PersistenceChoice['kind'],
  persistence: AedesPersistence,
  release: (p: AedesPersistence) => void | Promise<void>,
  extra: Pick<PersistenceChoice, 'journal' | 'mq' | 'connectionClosed'> = {},
): PersistenceChoice {
  const q = quiesce(skipCleanSessionAcks(persistence));
  return {
    kind,
    persistence: q.persistence,
    ...extra,
    close: async () => {
      await q.drain();
      await release(q.persistence);
    },
  };
}

export function openPersistence(opts: {
  persistenceDir?: string;
  redisUrl?: string;
  engine?: 'journal' | 'level';
  onError?: (err: Error) => void;
  /** The journal's fs calls (fault injection in tests); default node:fs. */
  journalFs?: JournalFs;
  /** Asked per filter before a persistent subscription is stored (`grantedOnly`); default: all. */
  mayStoreSubscription?: MayStoreSubscription;
}): PersistenceChoice {
  const granted = (p: AedesPersistence) => grantedOnly(p, opts.mayStoreSubscription);
  if (opts.redisUrl) {
    // LREM from the head: a PUBACK costs O(1), not O(queue length) (patches/redis-lrem.patch.ts).
    const conn = lremFromHead(new Redis(opts.redisUrl, { lazyConnect: false, enableAutoPipelining: true }));
    // maxSessionDelivery -1: a reconnecting session is sent its whole queue (LRANGE 0 -1), not
    // the first 1,000 (the default), the rest of a backlog left queued until a later connection.
    const persistence = redisPersistence({ conn, maxSessionDelivery: -1 });
    const ids = uniqueInflightIds(persistence);
    const mq = MQEmitterRedis({ pubConn: new Redis(opts.redisUrl, { enableAutoPipelining: true }), subConn: new Redis(opts.redisUrl) });
    // Without a listener an emitter error would throw and end the process; ioredis
    // reconnects by itself, so report and carry on.
    (mq as unknown as { state: { on(e: 'error', f: (err: Error) => void): void } }).state.on('error', (err) => opts.onError?.(err));
    return choice('redis', oneSubscriptionChangeAtATime(granted(persistence)), (p) => p.destroy(), {
      mq,
      connectionClosed: (client) => ids.connectionClosed(client),
    });
  }
  if (opts.persistenceDir) {
    // The journal answers in call order by construction (one write releases a batch first in,
    // first out), so it needs no `inOrder`; LevelDB stays available for comparison (bench).
    if (opts.engine === 'level') {
      mkdirSync(opts.persistenceDir, { recursive: true });
      const db = new Level(opts.persistenceDir);
      return choice('level', granted(inOrder(levelPersistence(db))), async () => {
        if (db.status === 'open' || db.status === 'opening') await db.close();
      });
    }
    const journal = new JournalPersistence(join(opts.persistenceDir, 'journal'), {
      onError: opts.onError,
      ...(opts.journalFs ? { fs: opts.journalFs } : {}),
    });
    return choice('journal', granted(journal as unknown as AedesPersistence), () => journal.destroy(), {
      journal,
      connectionClosed: (client) => journal.connectionClosed(client as FlowClient),
    });
  }
  return { kind: 'memory', close: async () => {} };
}
