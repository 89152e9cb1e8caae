/**
 * The Redis store's session queue as the broker wraps it (persistence.factory.ts), against
 * aedes-persistence-redis and a real Debian redis-server, driven the way aedes drives it
 * (enqueue, then one outgoingUpdate per delivery, then one outgoingClearMessageId per PUBACK):
 * - patches/redis-lrem.patch.ts: the store still removes an acknowledged packet with
 *   `LREM outgoing:<client> 0 <key>` (the call the patch relies on), and sends it with count 1;
 * - redis.inflight-ids.ts: a connection never holds one id twice, so each PUBACK clears its
 *   own packet and the queue ends empty — where the unwrapped store, handed the same wrapped
 *   counter, cleared the newer packet and left the older one queued.
 */
import { Redis } from 'ioredis';
import redisPersistence from 'aedes-persistence-redis';
import type { AedesPersistence } from 'aedes-persistence-level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../bench/broker.harness.ts';
import { lremFromHead } from '../broker/patches/redis-lrem.patch.ts';
import { uniqueInflightIds } from '../broker/redis.inflight-ids.ts';

type Store = AedesPersistence & {
  outgoingEnqueueCombi(subs: { clientId: string; topic: string; qos: number }[], packet: object): Promise<void>;
  outgoingUpdate(client: object, packet: object): Promise<void>;
  outgoingClearMessageId(client: object, packet: object): Promise<{ payload: Buffer } | undefined>;
};

describe('broker: the Redis session queue (aedes-persistence-redis, real redis-server)', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  const conns: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedisServer();
  });
  afterAll(async () => {
    for (const c of conns) await c.quit();
    await redis?.stop();
  });

  /** A store on its own connection whose LREM calls (as the store makes them) are recorded. */
  const open = (clientId: string) => {
    const conn = new Redis(redis.url);
    conns.push(conn);
    const lrems: unknown[][] = [];
    const sent = conn.lrem.bind(conn) as (...a: unknown[]) => Promise<number>;
    (conn as unknown as { lrem: (...a: unknown[]) => Promise<number> }).lrem = (...a) => (lrems.push(['sent', ...a]), sent(...a));
    lremFromHead(conn);
    const patched = conn.lrem.bind(conn) as (...a: unknown[]) => Promise<number>;
    (conn as unknown as { lrem: (...a: unknown[]) => Promise<number> }).lrem = (...a) => (lrems.push(['called', ...a]), patched(...a));
    const store = redisPersistence({ conn, maxSessionDelivery: -1 }) as Store;
    const queue = () => conn.lrange(`outgoing:${clientId}`, 0, -1);
    return { store, lrems, queue };
  };
  const packet = (counter: number) => ({
    cmd: 'publish',
    topic: 'devices/dev-a/telemetry',
    payload: Buffer.from(`{"n":${counter}}`),
    qos: 1,
    retain: false,
    brokerId: 'node-a',
    brokerCounter: counter,
  });
  const sub = (clientId: string) => ({ clientId, topic: 'devices/+/telemetry', qos: 1 });

  it('removes an acknowledged packet with LREM count 1 where the store asks for count 0', async () => {
    const { store, lrems, queue } = open('c1');
    const client = { id: 'c1', clean: false };
    for (const n of [1, 2, 3]) await store.outgoingEnqueueCombi([sub('c1')], packet(n));
    for (const n of [1, 2, 3]) await store.outgoingUpdate(client, { ...packet(n), messageId: n });
    const acked = await store.outgoingClearMessageId(client, { cmd: 'puback', messageId: 2 });
    expect(acked?.payload.toString()).toBe('{"n":2}');
    expect(lrems).toEqual([
      ['called', 'outgoing:c1', 0, 'packet:node-a:2'],
      ['sent', 'outgoing:c1', 1, 'packet:node-a:2'],
    ]);
    expect(await queue()).toEqual(['packet:node-a:1', 'packet:node-a:3']);
  });

  it('with the id wrapper, a counter that wraps onto a held id still clears each packet by its own PUBACK', async () => {
    const client = { id: 'c2', clean: false, _nextId: 65_535 };
    const run = async (wrap: boolean) => {
      const { store, queue } = open('c2');
      await store.outgoingEnqueueCombi([sub('c2')], packet(100)); // still unacknowledged
      if (wrap) uniqueInflightIds(store);
      // Delivered as id 7, then 65,535 deliveries later the counter is at 7 again.
      const first = { ...packet(100), messageId: 7 };
      await store.outgoingUpdate(client, first);
      await store.outgoingEnqueueCombi([sub('c2')], packet(101));
      const second = { ...packet(101), messageId: 7 };
      await store.outgoingUpdate(client, second);
      // The subscriber acknowledges both, each by the id it was sent.
      const acks = [];
      for (const id of [first.messageId, second.messageId])
        acks.push(await store.outgoingClearMessageId(client, { cmd: 'puback', messageId: id }));
      const left = await queue();
      return { ids: [first.messageId, second.messageId], acked: acks.map((a) => a?.payload.toString()), left };
    };
    // Unwrapped (aedes-persistence-redis alone): both PUBACKs name id 7, the first clears
    // packet 101, and packet 100 — acknowledged — stays queued for the next connection.
    const bare = await run(false);
    expect(bare).toEqual({ ids: [7, 7], acked: ['{"n":101}', undefined], left: ['packet:node-a:100'] });
    await conns.at(-1)!.del('outgoing:c2');
    const wrapped = await run(true);
    expect(wrapped).toEqual({ ids: [7, 8], acked: ['{"n":100}', '{"n":101}'], left: [] });
  });
});
