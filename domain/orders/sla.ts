/**
 * An order's clocks, pure: callback hours (N12), SLA deadlines (N6 on site — from the
 * appointment when there is one —, N8 restore, N10 answer) and the escalation ladder (N21),
 * which reaches named people: the order's own office's 所长, then 公司经理, 分管经理, 总经理.
 */
import type { Role } from '../roles.ts';
import type { EscalationLevel, HeatingPolicy } from '../policy.ts';
import type { Escalation, HistoryEntry, Order, Recipient, SlaBreach, SlaKind } from './order.ts';
import { OPEN_STATUSES, type OrderSource } from './order.schema.ts';

/** Minutes since local midnight at `ts` in the policy's zone (China has no DST). */
function localMinuteOfDay(ts: number, policy: HeatingPolicy): number {
  const local = ts + policy.utcOffsetMinutes * 60_000;
  const m = Math.floor(local / 60_000) % 1440;
  return m < 0 ? m + 1440 : m;
}

const hhmm = (s: string): number => {
  const [h, m] = s.split(':');
  return Number(h) * 60 + Number(m);
};

/** N12: may a resident be called at `ts`? Not before 07:00, not from 22:00, not at meals or nap time. */
export function callbackAllowedAt(ts: number, policy: HeatingPolicy): boolean {
  const m = localMinuteOfDay(ts, policy);
  const s = policy.service;
  if (m < s.callbackEarliestHour * 60 || m >= s.callbackLatestHour * 60) return false;
  return !s.callbackQuietWindows.some((w) => m >= hhmm(w.from) && m < hhmm(w.to));
}

/** N12: the first minute at or after `ts` when a callback is allowed (for rescheduling). */
export function nextCallbackTime(ts: number, policy: HeatingPolicy): number {
  let t = Math.ceil(ts / 60_000) * 60_000;
  for (let i = 0; i <= 1440; i++, t += 60_000) if (callbackAllowedAt(t, policy)) return t;
  throw new RangeError('policy allows no callback minute in a day');
}

/** Repair orders need a repair sheet and take part in the callback rate (N22, N23). */
/** The part of the policy the SLA clocks read (so a client can pass the policy as the API serves it). */
export type ServicePolicy = { readonly service: HeatingPolicy['service'] };

export function isRepairOrder(o: { readonly source: OrderSource }): boolean {
  return o.source === 'proactive' || o.source === 'complaint';
}

/**
 * N6: when the field worker must be there. With an agreed appointment, at the agreed time
 * (the worker aims to arrive `arriveBeforeAppointmentMin` early, seed ch.2 §13); without one,
 * one hour after dispatch.
 */
export function onSiteDueAt(o: Pick<Order, 'appointmentAt' | 'issuedAt'>, policy: ServicePolicy): number | undefined {
  if (o.appointmentAt !== undefined) return o.appointmentAt;
  return o.issuedAt !== undefined ? o.issuedAt + policy.service.onSiteWithinMin * 60_000 : undefined;
}

/** N6 / seed ch.2 §13: the time the worker aims to arrive by (10 minutes before an appointment). */
export function arriveByAt(o: Pick<Order, 'appointmentAt' | 'issuedAt'>, policy: ServicePolicy): number | undefined {
  if (o.appointmentAt !== undefined) return o.appointmentAt - policy.service.arriveBeforeAppointmentMin * 60_000;
  return onSiteDueAt(o, policy);
}

/**
 * When an order's fault clocks start — the answer (N10), restore (N8) and escalation (N21)
 * clocks; undefined while none runs.
 *
 * An order opened from a `predicted_cold` (issue #20) concerns a resident who is not cold yet:
 * N2's shortfall has not happened, so there is no fault to restore (N8), nobody has asked
 * (N10), and N21's ladder — "a repair order not handled in 24 h" goes to the 所长, then the
 * managers — has no repair to count. Escalating a forecast would also send the 所长 and three
 * managers shortfalls that mostly never come (the forecaster opens near-window predictions at
 * p ≥ 0.3 on purpose: forecast.options.ts shortOpenProbability), which would teach them to
 * ignore the ladder. So a predicted order does not escalate while it is only predicted; the
 * dispatcher schedules it like any visit (N6's on-site clock from dispatch or the agreed time
 * still runs). Once a real cold incident confirms it, it is a repair order like one opened from
 * that incident: its clocks start at the confirmation, so it escalates exactly when that
 * order would have. An avoided prediction never starts them (the order is withdrawn).
 */
export function faultClockFrom(o: Pick<Order, 'receivedAt'> & { readonly prediction?: Order['prediction'] }): number | undefined {
  if (!o.prediction) return o.receivedAt;
  return o.prediction.state === 'confirmed' ? (o.prediction.confirmedAt ?? o.receivedAt) : undefined;
}

/** SLA deadlines of an order (epoch ms), undefined where the clock does not apply. */
export function slaDeadlines(
  o: Pick<Order, 'receivedAt' | 'source' | 'cause' | 'appointmentAt' | 'issuedAt'> & { readonly prediction?: Order['prediction'] },
  policy: ServicePolicy,
): Record<SlaKind, number | undefined> {
  const h = 3_600_000;
  const from = faultClockFrom(o);
  return {
    answer: from === undefined ? undefined : from + policy.service.answerWithinHours * h, // N10
    on_site: onSiteDueAt(o, policy), // N6
    // N8: restore within 24 h unless the heat source is the cause.
    restore: from !== undefined && isRepairOrder(o) && o.cause !== 'heat_source' ? from + policy.service.restoreWithinHours * h : undefined,
  };
}

/** N21: the role that holds each rung. The 所长 is the head of the order's own office. */
export const ESCALATION_ROLE: Readonly<Record<EscalationLevel, Role>> = {
  station_head: 'station_head',
  company_manager: 'manager',
  deputy_gm: 'deputy_gm',
  general_manager: 'general_manager',
};

/** Who holds a rung for this order; the service answers from the people register. */
export type WhoIsTold = (level: EscalationLevel, order: Order) => readonly Recipient[];

/** What the clock did to an order at `now`: new SLA breaches and escalations to record and push. */
export interface TickOutcome {
  readonly order: Order;
  readonly breaches: readonly SlaBreach[];
  readonly escalations: readonly Escalation[];
}

/**
 * Advance an order's clocks to `now`: record each SLA breach once and each escalation step
 * once (N21: 24/48/72/96 h since received while still unhandled, for every source — a
 * measurement or outage follow-up left alone escalates like a repair; a predicted order only
 * once confirmed, counted from then: faultClockFrom). Steps missed while
 * the scheduler was down are all recorded, each at its own due time, with who was told.
 */
export function tickOrder(o: Order, now: number, policy: HeatingPolicy, whoIsTold: WhoIsTold = () => []): TickOutcome {
  const breaches: SlaBreach[] = [];
  const escalations: Escalation[] = [];
  const dl = slaDeadlines(o, policy);
  const have = new Set(o.slaBreaches.map((b) => b.kind));
  const metAt: Record<SlaKind, number | undefined> = { answer: o.answeredAt, on_site: o.onSiteAt, restore: o.resolvedAt };
  if (o.status !== 'cancelled') {
    for (const kind of ['answer', 'on_site', 'restore'] as const) {
      const due = dl[kind];
      if (due === undefined || have.has(kind) || now < due) continue;
      const met = metAt[kind];
      if (met !== undefined && met <= due) continue;
      breaches.push({ kind, dueAt: due, at: met !== undefined ? met : due });
    }
  }
  const from = faultClockFrom(o);
  if (OPEN_STATUSES.includes(o.status) && from !== undefined) {
    const done = new Set(o.escalations.map((e) => e.level));
    for (const step of policy.service.escalation) {
      const due = from + step.afterHours * 3_600_000; // N21 (a predicted order: from its confirmation)
      if (now >= due && !done.has(step.level))
        escalations.push({ level: step.level, at: due, afterHours: step.afterHours, notified: [...whoIsTold(step.level, o)] });
    }
  }
  if (!breaches.length && !escalations.length) return { order: o, breaches, escalations };
  const told = (e: Escalation): string =>
    e.notified.length ? e.notified.map((r) => r.name).join(', ') : `no ${ESCALATION_ROLE[e.level]} on record`;
  const history: HistoryEntry[] = [
    ...breaches.map((b) => ({ at: b.at, by: 'system', action: 'sla_breach', note: b.kind })),
    ...escalations.map((e) => ({ at: e.at, by: 'system', action: 'escalated', note: `${e.level} after ${e.afterHours} h: ${told(e)}` })),
  ];
  return {
    order: {
      ...o,
      slaBreaches: [...o.slaBreaches, ...breaches],
      escalations: [...o.escalations, ...escalations],
      history: [...o.history, ...history].sort((a, b) => a.at - b.at),
    },
    breaches,
    escalations,
  };
}

/** The highest escalation level reached, if any. */
export function escalationLevel(o: Order): EscalationLevel | undefined {
  return o.escalations.at(-1)?.level;
}
