/**
 * Issue #13 finding 3: an order step route takes its action from the route, never from the
 * body. Each case below was an attack that worked before the fix (station staff cancelling,
 * dispatching and closing through /accept, a million-point rating, a stranger's apartment
 * linked to an order, a dispatcher resolving through /dispatch, an unknown type → 500,
 * unbounded timestamps that broke the CSV export). Every case checks the refusal *and*
 * reads the order back to show nothing changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINUTE_MS } from '../../domain/clock.ts';
import type { Order } from '../../domain/orders/order.ts';
import { startTestApi, type TestApi } from '../api-fixture.ts';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t?.close();
});

async function newOrder(apartmentId = 'b1-a11'): Promise<Order> {
  // A fresh order each case: cancel what an earlier case left open there (N4 would link to it).
  for (const o of (await t.req('GET', `/api/v1/orders?apartmentId=${apartmentId}&open=true`, 'admin')).json<Order[]>()) {
    await t.req('POST', `/api/v1/orders/${o.id}/cancel`, 'admin', { note: 'next case' });
  }
  const res = await t.req('POST', '/api/v1/orders', 'dispatcher', {
    apartmentId,
    content: 'cold',
    residentPhone: '13900000001',
    residentContact: 'Li',
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ order: Order }>().order;
}
const read = async (id: string): Promise<Order> => (await t.req('GET', `/api/v1/orders/${id}`, 'admin')).json<Order>();

async function dispatched(apartmentId?: string): Promise<Order> {
  const o = await newOrder(apartmentId);
  const res = await t.req('POST', `/api/v1/orders/${o.id}/dispatch`, 'dispatcher', { assignee: 'staff-o1', supervisor: 'head-o1' });
  expect(res.statusCode).toBe(200);
  return res.json<Order>();
}

const sheet = (at: number) => ({
  content: 'bled radiators',
  startAt: at,
  endAt: at + MINUTE_MS,
  workerName: 'Wang',
  workerPhone: '13800000000',
  residentSigned: true,
});

/** An order the field worker is at (station staff accepted and arrived). */
async function onSite(): Promise<Order> {
  const o = await dispatched();
  for (const step of ['accept', 'arrive'])
    expect((await t.req('POST', `/api/v1/orders/${o.id}/${step}`, 'staff-o1', {})).statusCode).toBe(200);
  return read(o.id);
}

/** An order resolved with its repair sheet (N23): the desk closes it, never the field. */
async function resolved(): Promise<Order> {
  const o = await onSite();
  const res = await t.req('POST', `/api/v1/orders/${o.id}/resolve`, 'staff-o1', { cause: 'station', repairSheet: sheet(t.clock.now()) });
  expect(res.statusCode).toBe(200);
  return res.json<Order>();
}

describe('step routes: the route picks the action (#13 finding 3)', () => {
  for (const [foreign, setup] of [
    [{ type: 'cancel', note: 'gone' }, dispatched],
    [{ type: 'dispatch', assignee: 'eve' }, newOrder],
    [{ type: 'close', note: 'closed by staff' }, resolved],
  ] as const) {
    it(`station staff cannot ${foreign.type} through /accept`, async () => {
      const o = await setup();
      const res = await t.req('POST', `/api/v1/orders/${o.id}/accept`, 'staff-o1', foreign);
      expect(res.statusCode).toBe(400);
      expect(res.json<{ code: string }>().code).toBe('HEAT_ERR_VALIDATION');
      const after = await read(o.id);
      expect(after.status).toBe(o.status);
      expect(after.history.length).toBe(o.history.length);
    });
  }

  it('an extra field on a step body is refused, not ignored (closed schemas)', async () => {
    const o = await dispatched();
    const res = await t.req('POST', `/api/v1/orders/${o.id}/accept`, 'staff-o1', {
      appointmentAt: t.clock.now() + 60 * MINUTE_MS,
      assignee: 'eve',
    });
    expect(res.statusCode).toBe(400);
    expect((await read(o.id)).status).toBe('dispatched');
  });

  it('a dispatcher cannot resolve through /dispatch', async () => {
    const o = await onSite();
    const res = await t.req('POST', `/api/v1/orders/${o.id}/dispatch`, 'dispatcher', {
      type: 'resolve',
      cause: 'station',
      repairSheet: sheet(t.clock.now()),
    });
    expect(res.statusCode).toBe(400);
    const after = await read(o.id);
    expect(after.status).toBe('on_site');
    expect(after.resolvedAt).toBeUndefined();
  });

  it('an unknown action type answers 400, never 500', async () => {
    const o = await dispatched();
    for (const body of [{ type: 'explode' }, { type: 42 }, { type: null }]) {
      const res = await t.req('POST', `/api/v1/orders/${o.id}/accept`, 'staff-o1', body);
      expect(res.statusCode).toBe(400);
    }
    expect((await read(o.id)).status).toBe('dispatched');
  });

  it('a stranger’s apartment cannot be linked to an order, and its resident learns nothing', async () => {
    const o = await dispatched();
    const res = await t.req('POST', `/api/v1/orders/${o.id}/accept`, 'staff-o1', { type: 'link', apartments: ['b1-a12'], note: 'x' });
    expect(res.statusCode).toBe(400);
    expect((await read(o.id)).apartments).toEqual(['b1-a11']);
    // resident2 lives in b1-a12 (demo people): the order with resident1's phone stays hidden.
    const seen = await t.req('GET', `/api/v1/orders/${o.id}`, 'resident2');
    expect(seen.statusCode).toBe(404);
  });
});

describe('ratings 1–5 and bounded timestamps (#13 finding 3, 8)', () => {
  it('a rating outside 1–5 is refused on every path (N7)', async () => {
    const o = await dispatched();
    for (const [step, body] of [
      ['accept', { type: 'rate', satisfaction: 1_000_000 }],
      ['accept', { type: 'callback', result: 'ok', satisfaction: 1_000_000 }],
      ['rating', { satisfaction: 1_000_000 }],
      ['rating', { satisfaction: 0 }],
      ['rating', { satisfaction: 4.5 }],
    ] as const) {
      const res = await t.req('POST', `/api/v1/orders/${o.id}/${step}`, step === 'rating' ? 'dispatcher' : 'staff-o1', body);
      expect(res.statusCode, `${step} ${JSON.stringify(body)}`).toBe(400);
    }
    expect((await read(o.id)).satisfaction).toBeUndefined();
  });

  it('timestamps outside 2000–2100 are refused, and the CSV export keeps working', async () => {
    for (const appointmentAt of [-1e308, 8.64e15 + 1, 1e300, 0]) {
      const res = await t.req('POST', '/api/v1/orders', 'dispatcher', { apartmentId: 'b2-a11', content: 'cold', appointmentAt });
      expect(res.statusCode, String(appointmentAt)).toBe(400);
    }
    const o = await dispatched();
    const bad = await t.req('POST', `/api/v1/orders/${o.id}/accept`, 'staff-o1', { appointmentAt: -1e308 });
    expect(bad.statusCode).toBe(400);
    const ok = await t.req('POST', `/api/v1/orders/${o.id}/accept`, 'staff-o1', { appointmentAt: t.clock.now() + 60 * MINUTE_MS });
    expect(ok.statusCode).toBe(200);
    const nh = await t.req('POST', `/api/v1/orders/${o.id}/not-home`, 'staff-o1', {
      note: 'out; note left',
      newAppointmentAt: 8.64e15 + 1,
    });
    expect(nh.statusCode).toBe(400);
    expect((await read(o.id)).notHome).toEqual([]);
    const csv = await t.req('GET', '/api/v1/orders/export.csv', 'dispatcher');
    expect(csv.statusCode).toBe(200);
  });
});
