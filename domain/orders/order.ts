/**
 * Service orders (服务派单): the pure lifecycle. One record carries every field of the
 * paper dispatch form (N20) and its full history; the three paper copies (company,
 * station, team) are projections of it (`orderView`). No I/O: callers pass `now` from the
 * injected clock and persist what comes back.
 *
 * new → dispatched → accepted → on_site → resolved → callback → closed
 * (cancelled from any open state; closed also straight from resolved when no callback was made).
 */
import type { HeatingPolicy } from '../policy.ts';
import { HeatError } from '../errors.ts';
import { callbackAllowedAt, isRepairOrder, nextCallbackTime } from './sla.ts';
import type { MeasurementRecord, MeasurementResult } from '../measurement.ts';
import { ORDER_RESIDENT_FIELDS, ORDER_TEAM_FIELDS, type OrderResidentView } from './order.schema.ts';
import type { LinkAction, PersonAction } from './order-steps.schema.ts';
import type { OrderDto, OrderStatus, OrderViewName } from './order.schema.ts';

export type { OrderChannel, OrderSource, OrderStatus, OrderSubject, OrderViewName, RepairSheet } from './order.schema.ts';

export { OPEN_STATUSES } from './order.schema.ts';
// The clocks live in sla.ts; re-exported so callers keep one import for the order.
export { callbackAllowedAt, escalationLevel, isRepairOrder, nextCallbackTime, slaDeadlines, tickOrder, type TickOutcome } from './sla.ts';

/**
 * The order record (N20) is `OrderSchema`'s type (order.schema.ts), read-only: the service,
 * the routes' response schemas and the dashboard's client share that one contract (issue #15),
 * and the field notes (N-rules, the paper form's names) sit on the schema.
 */
export type Order = Readonly<OrderDto>;
export type HistoryEntry = Readonly<Order['history'][number]>;
/** A person told of an escalation (N21), as recorded on the order. */
export type Recipient = Readonly<Escalation['notified'][number]>;
export type Escalation = Readonly<Order['escalations'][number]>;
export type SlaBreach = Readonly<Order['slaBreaches'][number]>;
export type SlaKind = SlaBreach['kind'];
/** N25: resident out — note left with contact and a new appointment; or (N6) a late worker re-booked by phone. */
export type NotHomeVisit = Readonly<Order['notHome'][number]>;

/** N6/N25: an agreed visit lies ahead; one in the past cannot be kept, so it is refused. */
function assertFuture(at: number | undefined, now: number, field: string): void {
  if (at !== undefined && at <= now) throw new HeatError('HEAT_ERR_APPOINTMENT_PAST', undefined, { field, at, now });
}

/** What an order is opened with: its fixed facts (as on Order); the rest starts empty (createOrder). */
export type NewOrderInput = Pick<
  Order,
  | 'id'
  | 'number'
  | 'source'
  | 'channel'
  | 'subjectType'
  | 'apartmentId'
  | 'buildingId'
  | 'stationId'
  | 'officeId'
  | 'outageId'
  | 'cause'
  | 'receivingOfficeId'
  | 'receiver'
  | 'receiverId'
  | 'linkedOrderId'
  | 'appointmentAt'
  | 'residentAddress'
  | 'residentPhone'
  | 'residentContact'
  | 'content'
  | 'contentText'
  | 'prediction'
  | 'supervisor'
> &
  Partial<Pick<Order, 'apartments' | 'incidentIds'>>;

export function createOrder(input: NewOrderInput, now: number): Order {
  const o: Order = {
    ...input,
    status: 'new',
    apartments: [...new Set(input.apartments ?? (input.apartmentId ? [input.apartmentId] : []))],
    incidentIds: [...(input.incidentIds ?? [])],
    receivedAt: now,
    notHome: [],
    escalations: [],
    slaBreaches: [],
    history: [{ at: now, by: input.receiver, action: 'created', to: 'new', note: `${input.source}/${input.channel}` }],
  };
  return o;
}

/** A measurement record once the service has evaluated it (N30–N34). */
export interface EvaluatedMeasurement {
  readonly record: MeasurementRecord;
  readonly result: MeasurementResult;
}

/**
 * What `applyAction` takes: a person's step (order.schema.ts) with a resolve's measurement
 * already evaluated, or the system's link (N4).
 */
export type OrderAction =
  | Exclude<PersonAction, { type: 'resolve' }>
  | (Omit<Extract<PersonAction, { type: 'resolve' }>, 'measurement'> & { readonly measurement?: EvaluatedMeasurement })
  | LinkAction;

/** From which statuses each step may be taken (the dashboard offers only these). */
export const ALLOWED: Readonly<Record<OrderAction['type'], readonly OrderStatus[]>> = {
  dispatch: ['new'],
  accept: ['dispatched'],
  not_home: ['accepted'],
  reschedule: ['dispatched', 'accepted'],
  arrive: ['accepted'],
  resolve: ['on_site'],
  schedule_callback: ['resolved'],
  callback: ['resolved'],
  rate: ['resolved', 'callback', 'closed'],
  close: ['resolved', 'callback'],
  cancel: ['new', 'dispatched', 'accepted', 'on_site'],
  link: ['new', 'dispatched', 'accepted', 'on_site'],
  note: ['new', 'dispatched', 'accepted', 'on_site', 'resolved', 'callback', 'closed', 'cancelled'],
};

const NEXT: Partial<Record<OrderAction['type'], OrderStatus>> = {
  dispatch: 'dispatched',
  accept: 'accepted',
  arrive: 'on_site',
  resolve: 'resolved',
  callback: 'callback',
  close: 'closed',
  cancel: 'cancelled',
};

/**
 * Apply one step. Throws HeatError for a step the status does not allow or for missing
 * evidence; otherwise returns the new order with the step appended to its history.
 */
export function applyAction(order: Order, action: OrderAction, by: string, now: number, policy: HeatingPolicy): Order {
  // A type outside the union is bad input (400), not a crash: the table has no entry for it.
  if (!Object.hasOwn(ALLOWED, action.type))
    throw new HeatError('HEAT_ERR_VALIDATION', 'unknown order action', { type: String(action.type) });
  if (!ALLOWED[action.type].includes(order.status)) {
    throw new HeatError('HEAT_ERR_ORDER_TRANSITION', `cannot ${action.type} an order that is ${order.status}`, {
      status: order.status,
      action: action.type,
    });
  }
  const to = NEXT[action.type] ?? order.status;
  const patch: Partial<{ -readonly [K in keyof Order]: Order[K] }> = {};
  let note: string | undefined;
  switch (action.type) {
    case 'dispatch':
      patch.issuedAt = now;
      if (action.assignee) patch.assignee = action.assignee;
      if (action.supervisor) patch.supervisor = action.supervisor;
      note = action.assignee ? `to ${action.assignee}` : undefined;
      break;
    case 'accept':
      // N10: the station phoning to book is the resident's answer.
      patch.answeredAt = order.answeredAt ?? now;
      assertFuture(action.appointmentAt, now, 'appointmentAt');
      if (action.appointmentAt !== undefined) patch.appointmentAt = action.appointmentAt;
      if (!order.assignee) patch.assignee = by;
      break;
    case 'not_home':
    case 'reschedule':
      // N25: note left with a new appointment; N6: a late worker phones and re-books. The
      // order stays where it is and its on-site clock moves to the new, future, time.
      assertFuture(action.newAppointmentAt, now, 'newAppointmentAt');
      patch.notHome = [...order.notHome, { at: now, note: action.note, newAppointmentAt: action.newAppointmentAt, kind: action.type }];
      patch.appointmentAt = action.newAppointmentAt;
      note = `${action.note} (new appointment ${new Date(action.newAppointmentAt).toISOString()})`;
      break;
    case 'arrive':
      patch.onSiteAt = now;
      break;
    case 'resolve': {
      if (order.source === 'measurement') {
        if (!action.measurement) throw new HeatError('HEAT_ERR_MEASUREMENT_REQUIRED');
        patch.measurement = action.measurement;
      } else if (isRepairOrder(order) || order.source === 'outage_followup') {
        if (!action.repairSheet) throw new HeatError('HEAT_ERR_REPAIR_SHEET_REQUIRED'); // N23
      }
      if (action.cause === 'in_home' && !action.userSideExplanation?.trim()) throw new HeatError('HEAT_ERR_EXPLANATION_REQUIRED'); // N24
      patch.cause = action.cause;
      patch.resolvedAt = now;
      if (action.repairSheet) patch.repairSheet = action.repairSheet;
      if (action.userSideExplanation) patch.userSideExplanation = action.userSideExplanation;
      note = `cause ${action.cause}`;
      break;
    }
    case 'schedule_callback': {
      // N12: a requested time outside callback hours is refused; none given → the next allowed minute.
      const at = action.at ?? nextCallbackTime(now, policy);
      if (at < now || !callbackAllowedAt(at, policy)) {
        throw new HeatError('HEAT_ERR_CALLBACK_QUIET_HOURS', undefined, { nextAllowedAt: nextCallbackTime(Math.max(at, now), policy) });
      }
      patch.callbackDueAt = at;
      note = new Date(at).toISOString();
      break;
    }
    case 'callback':
      // N12: never outside callback hours; the caller reschedules to nextCallbackTime().
      if (!callbackAllowedAt(now, policy)) {
        throw new HeatError('HEAT_ERR_CALLBACK_QUIET_HOURS', undefined, { nextAllowedAt: nextCallbackTime(now, policy) });
      }
      patch.callbackAt = now;
      patch.callbackBy = by;
      patch.callbackResult = action.result;
      if (action.satisfaction !== undefined) patch.satisfaction = action.satisfaction;
      note = action.result;
      break;
    case 'rate':
      // N7: the resident's own rating (1–5), e.g. from the app after the repair.
      patch.satisfaction = action.satisfaction;
      note = `satisfaction ${action.satisfaction}`;
      break;
    case 'close':
      patch.closedAt = now;
      note = action.note;
      break;
    case 'cancel':
      patch.closedAt = now;
      note = action.note;
      break;
    case 'link':
      if (action.apartments) patch.apartments = [...new Set([...order.apartments, ...action.apartments])];
      if (action.incidentId && !order.incidentIds.includes(action.incidentId))
        patch.incidentIds = [...order.incidentIds, action.incidentId];
      note = action.note;
      break;
    case 'note':
      note = action.note;
      break;
  }
  const entry: HistoryEntry = {
    at: now,
    by,
    action: action.type,
    ...(to !== order.status ? { from: order.status, to } : {}),
    ...(note ? { note } : {}),
  };
  return { ...order, ...patch, status: to, history: [...order.history, entry] };
}

const TEAM_FIELDS = ORDER_TEAM_FIELDS;

/** What a resident sees of an order on their apartment (order.schema.ts OrderResidentViewSchema). */
export function residentView(o: Order): OrderResidentView {
  const out: Record<string, unknown> = {};
  for (const k of ORDER_RESIDENT_FIELDS) if (o[k] !== undefined) out[k] = o[k];
  out.timeline = o.history.flatMap((h) => (h.to ? [{ at: h.at, to: h.to }] : []));
  return out as OrderResidentView;
}
/** N20: the team copy (order.schema.ts OrderTeamViewSchema). */
export type OrderTeamCopy = Pick<Order, (typeof ORDER_TEAM_FIELDS)[number]>;

/**
 * N20: one record, three copies. The company copy is the whole record; the station copy
 * drops the company-internal callback rating; the team copy is what the field worker needs.
 */
export function orderView(o: Order, view: OrderViewName): Order | OrderTeamCopy {
  if (view === 'company') return o;
  if (view === 'station') {
    const { satisfaction: _s, ...rest } = o;
    return rest;
  }
  const out: Record<string, unknown> = {};
  for (const k of TEAM_FIELDS) if (o[k] !== undefined) out[k] = o[k];
  return out as OrderTeamCopy;
}
