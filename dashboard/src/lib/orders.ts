/**
 * What the orders board shows of an order: its board column, the next SLA deadline and the
 * escalation badge. Deadlines use the policy the API serves (N6 on site, N8 restore,
 * N10 answer); when the API sends its own `sla` deadlines those win.
 */
import type { HeatingPolicy } from '../../../domain/policy.ts';
import type { Order, OrderStatus, SlaKind } from '../../../domain/orders/order.ts';

export type { Order, OrderStatus };

export const BOARD_COLUMNS: readonly OrderStatus[] = ['new', 'dispatched', 'accepted', 'on_site', 'resolved', 'callback', 'closed'];

/** The action a dispatcher takes next from each status (domain/orders/order.ts ALLOWED). */
export const NEXT_ACTION: Partial<Record<OrderStatus, 'dispatch' | 'accept' | 'arrive' | 'resolve' | 'callback' | 'close'>> = {
  new: 'dispatch',
  dispatched: 'accept',
  accepted: 'arrive',
  on_site: 'resolve',
  resolved: 'callback',
  callback: 'close',
};

export interface Deadline {
  readonly kind: SlaKind;
  readonly dueAt: number;
}

const HOUR_MS = 3_600_000;

/** The earliest SLA deadline not yet met, or undefined when every clock has stopped. */
export function nextDeadline(o: Order & { sla?: Partial<Record<SlaKind, number>> }, policy: HeatingPolicy | undefined): Deadline | undefined {
  if (o.status === 'cancelled' || o.status === 'closed') return undefined;
  const s = policy?.service;
  const due: Partial<Record<SlaKind, number>> = o.sla ?? {
    answer: s ? o.receivedAt + s.answerWithinHours * HOUR_MS : undefined, // N10
    on_site: s && o.issuedAt !== undefined ? o.issuedAt + s.onSiteWithinMin * 60_000 : undefined, // N6
    restore: s && o.source !== 'measurement' && o.cause !== 'heat_source' ? o.receivedAt + s.restoreWithinHours * HOUR_MS : undefined, // N8
  };
  const met: Record<SlaKind, number | undefined> = { answer: o.answeredAt, on_site: o.onSiteAt, restore: o.resolvedAt };
  let best: Deadline | undefined;
  for (const kind of ['answer', 'on_site', 'restore'] as const) {
    const d = due[kind];
    if (d === undefined || met[kind] !== undefined) continue;
    if (!best || d < best.dueAt) best = { kind, dueAt: d };
  }
  return best;
}

export function escalationOf(o: Order): string | undefined {
  return o.escalations?.at(-1)?.level;
}

/** Columns for a board: orders grouped by status, oldest first. */
export function byStatus(orders: readonly Order[]): Map<OrderStatus, Order[]> {
  const m = new Map<OrderStatus, Order[]>(BOARD_COLUMNS.map((c) => [c, []]));
  for (const o of orders) m.get(o.status)?.push(o);
  for (const list of m.values()) list.sort((a, b) => a.receivedAt - b.receivedAt);
  return m;
}
