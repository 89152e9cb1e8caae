/**
 * Patched call: `LREM outgoing:<clientId> 0 <packet key>`, sent by aedes-persistence-redis
 * (asyncPersistence.js `outgoingClearMessageId` on every PUBACK of a persistent session, and
 * `updateWithClientData` on a QoS 2 PUBREC) on the ioredis connection handed to it. The
 * count is made 1 on that connection's `lrem`, for the session queues only. Checked against
 * aedes-persistence-redis 11.2.2 with ioredis 5. Contract: tests/broker-cluster.test.ts.
 *
 * Why: LREM with count 0 removes every match, so Redis walks the whole list each time — one
 * PUBACK cost O(queue length). With readings arriving faster than the ingest's session drained
 * (a backlog, the bench's REDIS_URL row), the ingest's queue held ~47,000 keys and each LREM
 * took ~700 µs of redis-server's one core (INFO commandstats: 40,046 calls, 28.1 s), so the
 * queue drained ever slower and the 200,000-reading row never finished in 10 minutes. With
 * count 1 Redis walks from the head and stops at the first match: PUBACKs arrive in delivery
 * order, which is queue order, so the key is at or near the head.
 *
 * Nothing else changes: a packet key is pushed once per subscription that matched it
 * (`outgoingEnqueueCombi`), so count 1 removes the copy this PUBACK acknowledges; with two
 * overlapping subscriptions, each of the two deliveries' PUBACKs now removes its own copy
 * (count 0 had removed both on the first). Other lists (wills) keep their calls.
 */

/** The per-session queue lists of aedes-persistence-redis (`outgoingKey`). */
const SESSION_QUEUE = 'outgoing:';

interface LremConnection {
  lrem(key: string, count: number, element: string, ...rest: unknown[]): unknown;
}

/** Make `conn`'s LREM on a session queue stop at its first match (no-op if the method is absent). */
export function lremFromHead<C extends object>(conn: C): C {
  const c = conn as unknown as LremConnection;
  if (typeof c.lrem !== 'function') return conn;
  const original = c.lrem.bind(conn);
  c.lrem = (key, count, element, ...rest) =>
    original(key, count === 0 && typeof key === 'string' && key.startsWith(SESSION_QUEUE) ? 1 : count, element, ...rest);
  return conn;
}
