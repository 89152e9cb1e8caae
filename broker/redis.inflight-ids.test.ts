/**
 * Unit tests of redis.inflight-ids.ts over a scripted persistence (the real Redis store:
 * tests/broker-redis-store.test.ts): no id is held twice by one connection, a delivery waits
 * when every id is held and goes on when a PUBACK frees one, a closed connection's waiters are
 * dropped, and a new connection starts with no id held.
 */
import { describe, expect, it } from 'vitest';
import type { AedesPersistence } from 'aedes-persistence-level';
import { uniqueInflightIds } from './redis.inflight-ids.ts';

interface P {
  cmd: string;
  messageId?: number;
  brokerId?: string;
  brokerCounter?: number;
  writeCallback?: () => void;
}

/** A persistence that records the ids it is handed. */
function scripted() {
  const updated: number[] = [];
  const cleared: number[] = [];
  const p = {
    outgoingUpdate: (_c: unknown, packet: P) => (updated.push(packet.messageId!), Promise.resolve()),
    outgoingClearMessageId: (_c: unknown, packet: P) => (cleared.push(packet.messageId!), Promise.resolve(packet)),
  };
  return { p: p as unknown as AedesPersistence & typeof p, updated, cleared };
}

const delivery = (counter: number, messageId: number): P => ({ cmd: 'publish', messageId, brokerId: 'b', brokerCounter: counter });
const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('uniqueInflightIds', () => {
  it('gives a delivery whose id is held the next free one, and moves the counter past it', async () => {
    const { p, updated } = scripted();
    uniqueInflightIds(p);
    const client = { clean: false, _nextId: 8 };
    await p.outgoingUpdate(client, delivery(1, 7));
    await p.outgoingUpdate(client, delivery(2, 8));
    // The counter wrapped onto 7, still held by counter 1: 9 is the next free id.
    const third = delivery(3, 7);
    await p.outgoingUpdate(client, third);
    expect(updated).toEqual([7, 8, 9]);
    expect(third.messageId).toBe(9);
    expect(client._nextId).toBe(10);
    // A resend of counter 1 keeps its own id.
    await p.outgoingUpdate(client, delivery(1, 7));
    expect(updated.at(-1)).toBe(7);
  });

  it('wraps 65,535 → 1 when looking for a free id', async () => {
    const { p } = scripted();
    uniqueInflightIds(p);
    const client = { clean: false, _nextId: 1 };
    await p.outgoingUpdate(client, delivery(1, 65_535));
    const next = delivery(2, 65_535);
    await p.outgoingUpdate(client, next);
    expect(next.messageId).toBe(1);
  });

  it('holds a delivery while every id is held, gives its emitter slot back, and sends it on the next PUBACK', async () => {
    const { p, updated } = scripted();
    const ids = uniqueInflightIds(p, 2);
    const client = { clean: false, _nextId: 1 };
    await p.outgoingUpdate(client, delivery(1, 1));
    await p.outgoingUpdate(client, delivery(2, 2));
    let released = 0;
    const third = { ...delivery(3, 1), writeCallback: () => released++ };
    const waiting = p.outgoingUpdate(client, third);
    expect(await settled(waiting)).toBe(false);
    expect(released).toBe(1);
    expect(ids.waits).toBe(1);
    // The PUBACK of id 2 frees it: the waiter takes 2 (not 1, still held).
    await p.outgoingClearMessageId(client, { cmd: 'puback', messageId: 2 });
    await waiting;
    expect(third.messageId).toBe(2);
    expect(updated).toEqual([1, 2, 2]);
  });

  it('keeps waiting deliveries in order behind each other', async () => {
    const { p } = scripted();
    uniqueInflightIds(p, 1);
    const client = { clean: false };
    await p.outgoingUpdate(client, delivery(1, 5));
    const order: number[] = [];
    const a = p.outgoingUpdate(client, delivery(2, 6)).then(() => order.push(2));
    const b = p.outgoingUpdate(client, delivery(3, 7)).then(() => order.push(3));
    await p.outgoingClearMessageId(client, { cmd: 'puback', messageId: 5 });
    await a;
    expect(await settled(b)).toBe(false);
    await p.outgoingClearMessageId(client, { cmd: 'puback', messageId: 6 });
    await b;
    expect(order).toEqual([2, 3]);
  });

  it("drops a closed connection's waiters, and a new connection of the session starts with no id held", async () => {
    const { p, updated } = scripted();
    const ids = uniqueInflightIds(p, 1);
    const old = { clean: false };
    await p.outgoingUpdate(old, delivery(1, 1));
    const waiting = p.outgoingUpdate(old, delivery(2, 2));
    ids.connectionClosed(old);
    await expect(waiting).rejects.toThrow('connection closed while its delivery waited for a free message id');
    const fresh = { clean: false };
    await p.outgoingUpdate(fresh, delivery(1, 1));
    expect(updated).toEqual([1, 1]);
  });

  it('leaves clean sessions and QoS 2 PUBRELs alone', async () => {
    const { p, updated } = scripted();
    uniqueInflightIds(p, 1);
    const clean = { clean: true };
    await p.outgoingUpdate(clean, delivery(1, 3));
    await p.outgoingUpdate(clean, delivery(2, 3));
    const persistent = { clean: false };
    await p.outgoingUpdate(persistent, delivery(1, 4));
    await p.outgoingUpdate(persistent, { cmd: 'pubrel', messageId: 4, brokerId: 'b', brokerCounter: 1 });
    expect(updated).toEqual([3, 3, 4, 4]);
  });
});
