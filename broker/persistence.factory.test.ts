/**
 * Unit tests of the Redis subscription-change wrapper (persistence.factory.ts
 * `oneSubscriptionChangeAtATime`) over a scripted persistence; the real Redis path is
 * tests/broker-cluster.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { oneSubscriptionChangeAtATime } from './persistence.factory.ts';

type Persistence = Parameters<typeof oneSubscriptionChangeAtATime>[0];

type Change = { name: string; client: string; subs: unknown; settle: (err?: Error) => void };

/** A persistence whose subscription changes settle only when the test says so. */
function scripted() {
  const calls: Change[] = [];
  const change = (name: string) => (client: { id: string }, subs: unknown) =>
    new Promise<void>((resolve, reject) => calls.push({ name, client: client.id, subs, settle: (err) => (err ? reject(err) : resolve()) }));
  const p = { addSubscriptions: change('add'), removeSubscriptions: change('remove') };
  return { calls, p, store: p as unknown as Persistence };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('oneSubscriptionChangeAtATime', () => {
  it('stores the subscriptions of one SUBSCRIBE once, however many filters ask', async () => {
    const { calls, p, store } = scripted();
    oneSubscriptionChangeAtATime(store, 1_000);
    const client = { id: 'svc-ingest' };
    const subs = [
      { topic: 'a', qos: 1 },
      { topic: 'b', qos: 1 },
      { topic: 'c', qos: 1 },
    ];
    // aedes 1.2: one call per filter, each with the packet's whole array.
    const results = [p.addSubscriptions(client, subs), p.addSubscriptions(client, subs), p.addSubscriptions(client, subs)];
    await tick();
    expect(calls.map((c) => [c.name, c.subs])).toEqual([['add', subs]]);
    calls[0]!.settle();
    await expect(Promise.all(results)).resolves.toHaveLength(3);
  });

  it("runs one client's changes one after the other, other clients' beside them", async () => {
    const { calls, p, store } = scripted();
    oneSubscriptionChangeAtATime(store, 1_000);
    const first = p.addSubscriptions({ id: 'a' }, [{ topic: 'x', qos: 1 }]);
    const second = p.removeSubscriptions({ id: 'a' }, ['x']);
    const other = p.addSubscriptions({ id: 'b' }, [{ topic: 'x', qos: 1 }]);
    await tick();
    expect(calls.map((c) => [c.name, c.client])).toEqual([
      ['add', 'a'],
      ['add', 'b'],
    ]);
    calls[0]!.settle(new Error('store down'));
    await expect(first).rejects.toThrow('store down');
    await tick();
    // A failed change does not hold the next one.
    expect(calls.map((c) => [c.name, c.client])).toEqual([
      ['add', 'a'],
      ['add', 'b'],
      ['remove', 'a'],
    ]);
    calls[2]!.settle();
    calls[1]!.settle();
    await expect(second).resolves.toBeUndefined();
    await expect(other).resolves.toBeUndefined();
  });

  it('fails a change whose broadcast never returns, with a clear error, and lets the next one run', async () => {
    const { calls, p, store } = scripted();
    oneSubscriptionChangeAtATime(store, 30);
    const lost = p.addSubscriptions({ id: 'a' }, [{ topic: 'x', qos: 1 }]);
    const next = p.addSubscriptions({ id: 'a' }, [{ topic: 'y', qos: 1 }]);
    await expect(lost).rejects.toThrow('addSubscriptions for a: Redis did not return the subscription broadcast within 30 ms');
    await tick();
    expect(calls).toHaveLength(2);
    calls[1]!.settle();
    await expect(next).resolves.toBeUndefined();
  });
});
