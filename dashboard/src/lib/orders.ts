/**
 * What the orders board shows of an order: its board column, the next SLA deadline and the
 * escalation badge. Deadlines are the domain's slaDeadlines on the policy the API serves.
 */
import type { SlaKind } from '../../../domain/orders/order.ts';
import { renderOrderText, type OrderText } from '../../../domain/orders/order-texts.ts';
import type { TextLang } from '../../../domain/orders/resident-texts.ts';
import { slaDeadlines, type ServicePolicy } from '../../../domain/orders/sla.ts';
import type { Order, OrderStatus } from './api.ts';

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

/**
 * The earliest SLA deadline not yet met, or undefined when every clock has stopped. The
 * deadlines are the domain's own (slaDeadlines: N6 from the appointment when there is one,
 * N8, N10), from the policy the API serves; without that policy nothing is shown.
 */
export function nextDeadline(o: Order, policy: ServicePolicy | undefined): Deadline | undefined {
  if (!policy || o.status === 'cancelled' || o.status === 'closed') return undefined;
  // A copy without the reception time (the team copy, N20) has no answer or restore clock: NaN is skipped below.
  const due = slaDeadlines({ ...o, receivedAt: o.receivedAt ?? Number.NaN }, policy);
  const met: Record<SlaKind, number | undefined> = { answer: o.answeredAt, on_site: o.onSiteAt, restore: o.resolvedAt };
  let best: Deadline | undefined;
  for (const kind of ['answer', 'on_site', 'restore'] as const) {
    const d = due[kind];
    // A copy without the reception time (the team copy) has no answer clock to show.
    if (d === undefined || !Number.isFinite(d) || met[kind] !== undefined) continue;
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
  for (const list of m.values()) list.sort((a, b) => (a.receivedAt ?? a.issuedAt ?? 0) - (b.receivedAt ?? b.issuedAt ?? 0));
  return m;
}

/** A time as a `datetime-local` input value in the browser's own zone (what the person sees). */
export function localInput(ms: number): string {
  return new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/**
 * 服务内容 in the reader's language (issue #20): a text the platform wrote is stored as a key
 * and parameters and rendered here with the reader's time format; an order without one (written
 * before keys, or a person's own words) shows its stored text as it is.
 */
export function orderContent(
  o: { readonly content?: string; readonly contentText?: OrderText },
  lang: TextLang,
  time: (ms: number) => string,
): string {
  return (o.contentText ? renderOrderText(o.contentText, lang, time) : undefined) ?? o.content ?? '';
}

/** Why a predicted order ended as it did (avoided: withdrawn, and when), in the reader's language. */
export function predictionOutcome(
  o: { readonly prediction?: { readonly outcome?: OrderText } },
  lang: TextLang,
  time: (ms: number) => string,
): string | undefined {
  const t = o.prediction?.outcome;
  return t ? renderOrderText(t, lang, time) : undefined;
}
