/**
 * Test fixture of the order unit tests (order, sla, prediction, kpi): an apartment complaint
 * received at T0 (2026-12-01 10:00 local, UTC+8) and the steps the tests walk it through.
 */
import { defaultPolicy } from '../policy.ts';
import { applyAction, createOrder, type NewOrderInput, type Order } from './order.ts';

export const policy = defaultPolicy;
/** 2026-12-01 10:00 local (UTC+8). */
export const T0 = Date.UTC(2026, 11, 1, 2, 0);

/** A hotline complaint about apartment a1 of office o1, created at T0; `over` changes any input. */
export const newOrder = (source: Order['source'] = 'complaint', over: Partial<NewOrderInput> = {}): Order =>
  createOrder(
    {
      id: 'o1',
      number: '2026-000001',
      source,
      channel: 'hotline',
      subjectType: 'apartment',
      apartmentId: 'a1',
      officeId: 'o1',
      receiver: 'desk',
      content: 'cold',
      ...over,
    },
    T0,
  );

/** Worker `w` resolves the order at `at` with a signed repair sheet (cause: the building). */
export const resolveAt = (o: Order, at: number): Order =>
  applyAction(
    o,
    {
      type: 'resolve',
      cause: 'building',
      repairSheet: { content: 'x', startAt: 0, endAt: 1, workerName: 'w', workerPhone: '1', residentSigned: true },
    },
    'w',
    at,
    policy,
  );
