/**
 * Orders service: complaints and measurement requests with first-ask ownership (N4), the
 * lifecycle steps people take (domain/orders/order.ts), the SLA and escalation clock (N6,
 * N8, N10, N21) on the injected clock, refunds that accrue until heat is back (N34), and
 * planned-outage follow-ups (N9). Incidents arrive through orders.intake.ts; events leave
 * through the core's outbox after commit. Routes and the MQTT consumer call it.
 */
import { Compile } from 'typebox/compile';
import { HeatError } from '../domain/errors.ts';
import type { OrderEvent } from '../domain/events.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import { evaluateMeasurement, type MeasurementRecord } from '../domain/measurement.ts';
import { applyAction, tickOrder, type Order, type OrderAction, type OrderChannel, type Recipient } from '../domain/orders/order.ts';
import { PersonActionSchema, type PersonAction } from '../domain/orders/order-steps.schema.ts';
import { outageFollowUpText } from '../domain/orders/order-texts.ts';
import { ESCALATION_ROLE } from '../domain/orders/sla.ts';
import type { EscalationLevel } from '../domain/policy.ts';
import { isOpen, type Actor, type Grid } from './orders.core.ts';
import { OrdersIntake } from './orders.intake.ts';
import type { Outage } from './outages.repository.ts';
import { CITY_ROOM, officeRoom, personRoom, roleRoom } from '../domain/rooms.ts';

export type { Actor, Grid, Pusher } from './orders.core.ts';

export interface ComplaintInput {
  readonly apartmentId: string;
  readonly content: string;
  readonly channel: Exclude<OrderChannel, 'system'>;
  readonly residentPhone?: string;
  readonly residentContact?: string;
  readonly appointmentAt?: number;
}

/** A person's step, as the route builds it (domain/orders/order-steps.schema.ts). */
export type ActionInput = PersonAction;

/** Checked again here, so no caller (route, test, future consumer) can pass a link or an unknown step (#13.3). */
const isPersonAction = Compile(PersonActionSchema);

/**
 * Incident kinds that mean "no heat here": a complaint on an apartment such an order covers is the
 * same fault (N4) — a predicted one too: the resident calling is the forecast coming true.
 */
const HEAT_KINDS = new Set(['apartment_cold', 'building_cold', 'station_cold', 'source_cold', 'station_fault', 'predicted_cold']);

export interface TickSummary {
  readonly at: number;
  readonly escalations: number;
  readonly breaches: number;
  readonly followUps: number;
}

export class OrdersService extends OrdersIntake {
  override onIncident(ev: IncidentEvent): ReturnType<OrdersIntake['onIncident']> {
    return this.tx(() => {
      const out = super.onIncident(ev);
      // N34: heat is back on an apartment → refund days stop accruing on its measurement orders.
      if (ev.type === 'resolved' && ev.incident.kind === 'apartment_cold')
        this.#heatRestored(ev.incident.apartmentId ?? ev.incident.subjectId, ev.at);
      return out;
    });
  }

  #heatRestored(apartmentId: string, at: number): void {
    for (const o of this.deps.orders.list({ apartmentId, source: 'measurement' })) {
      if (!o.refund || o.refund.restoredAt !== undefined) continue;
      const next = applyAction(
        { ...o, refund: { ...o.refund, restoredAt: at } },
        { type: 'note', note: 'heat restored: refund days stop (N34)' },
        'system',
        this.deps.clock.now(),
        this.deps.policy,
      );
      this.persist(next, 'updated', 'system', 'heat_restored');
    }
  }

  /**
   * A resident's complaint (hotline or app). N4: whoever receives it owns it. A repeat of an
   * open complaint on the same apartment is noted there; on an apartment that an open
   * heating order covers it becomes its own complaint linked to that order (own contact,
   * phone, appointment and N10 clock); an unrelated open order (a silent meter, a
   * measurement) does not swallow it.
   */
  complaint(input: ComplaintInput, actor: Actor): { order: Order; linked: boolean; created: boolean } {
    const apt = this.deps.registry.getApartment(input.apartmentId);
    if (!apt) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such apartment');
    this.#assertFuture(input.appointmentAt);
    return this.tx(() => {
      const g = this.grid('apartment', apt.id);
      const cover = this.deps.orders.openCovering(apt.id, g.buildingId, g.stationId);
      if (cover && cover.source === 'complaint' && cover.subjectType === 'apartment' && cover.apartmentId === apt.id) {
        const who = [input.residentContact, input.residentPhone].filter(Boolean).join(' ');
        return {
          order: this.note(cover, actor.username, `repeat complaint (${input.channel})${who ? ` from ${who}` : ''}: ${input.content}`),
          linked: true,
          created: false,
        };
      }
      const related = cover && this.#heatRelated(cover) ? cover : undefined;
      const order = this.#residentOrder('complaint', input, actor, g, apt.id, related?.id);
      if (related) this.note(related, actor.username, `complaint ${order.number} on ${apt.id} linked to this order (N4)`);
      return { order, linked: Boolean(related), created: true };
    });
  }

  /** A resident's request as a new order on their apartment: complaints and measurement requests carry the same fields. */
  #residentOrder(
    source: 'complaint' | 'measurement',
    input: ComplaintInput,
    actor: Actor,
    g: Grid,
    apartmentId: string,
    linkedOrderId?: string,
  ): Order {
    return this.newOrder({
      source,
      channel: input.channel,
      subjectType: 'apartment',
      ...g,
      apartments: [apartmentId],
      receiver: actor.username,
      receiverId: actor.id,
      receivingOfficeId: g.officeId,
      residentAddress: g.address,
      residentPhone: input.residentPhone,
      residentContact: input.residentContact,
      appointmentAt: input.appointmentAt,
      content: input.content,
      ...(linkedOrderId ? { linkedOrderId } : {}),
    });
  }

  #heatRelated(o: Order): boolean {
    if (o.source === 'measurement') return false;
    if (o.source !== 'proactive') return true;
    return o.incidentIds.some((id) => HEAT_KINDS.has(this.deps.incidents.get(id)?.kind ?? ''));
  }

  #assertFuture(at: number | undefined): void {
    const now = this.deps.clock.now();
    if (at !== undefined && at <= now) throw new HeatError('HEAT_ERR_APPOINTMENT_PAST', undefined, { field: 'appointmentAt', at, now });
  }

  /** A resident asks for a measurement (测温): one open measurement order per apartment. */
  measurementRequest(input: ComplaintInput, actor: Actor): { order: Order; linked: boolean; created: boolean } {
    const apt = this.deps.registry.getApartment(input.apartmentId);
    if (!apt) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such apartment');
    this.#assertFuture(input.appointmentAt);
    return this.tx(() => {
      const open = this.deps.orders.list({ apartmentId: apt.id, source: 'measurement', open: true })[0];
      if (open)
        return { order: this.note(open, actor.username, `repeat measurement request: ${input.content}`), linked: true, created: false };
      const g = this.grid('apartment', apt.id);
      const order = this.#residentOrder('measurement', input, actor, g, apt.id);
      return { order, linked: false, created: true };
    });
  }

  /** One lifecycle step by a person. Measurement records are evaluated here (N30–N34). */
  act(id: string, input: ActionInput, actor: Actor): Order {
    if (!isPersonAction.Check(input))
      throw new HeatError('HEAT_ERR_VALIDATION', 'not an order step', { type: String((input as { type?: unknown }).type) });
    return this.tx(() => {
      const o = this.get(id);
      const now = this.deps.clock.now();
      let action: OrderAction;
      let refund: Order['refund'];
      if (input.type !== 'resolve' || !input.measurement) action = input as OrderAction;
      else {
        const record: MeasurementRecord = { ...input.measurement, measuredBy: input.measurement.measuredBy ?? actor.username };
        const result = evaluateMeasurement(record, this.deps.policy);
        if (!record.residentSigned && this.deps.policy.measurement.signatureRequired) throw new HeatError('HEAT_ERR_MEASUREMENT_UNSIGNED'); // N33
        if (result.verdict === 'invalid') throw new HeatError('HEAT_ERR_MEASUREMENT_POINTS', undefined, { problems: result.problems });
        action = { ...input, measurement: { record, result } };
        // N34: a proven shortfall refunds per day once unresolved for refundAfterHours since the request, until heat is back.
        if (result.refundPctPerDay > 0)
          refund = {
            pctPerDay: result.refundPctPerDay,
            accruesFromAt: o.receivedAt + this.deps.policy.measurement.refundAfterHours * 3_600_000,
          };
      }
      let next = applyAction(o, action, actor.username, now, this.deps.policy);
      if (refund) next = { ...next, refund };
      const type: OrderEvent['type'] = next.status === 'closed' || next.status === 'cancelled' ? 'closed' : 'updated';
      const saved = this.persist(next, type, actor.username, input.type, input);
      if (next.status !== o.status && (next.status === 'resolved' || next.status === 'closed' || next.status === 'cancelled'))
        this.#feedback(saved);
      return saved;
    });
  }

  /**
   * N4 (seed ch.4 §2, §5): the first receiver hears how their request ended, and complaints
   * linked to a finished order are told so their own callback can follow.
   */
  #feedback(o: Order): void {
    const now = this.deps.clock.now();
    if (o.receiverId) {
      const room = personRoom(o.receiverId);
      this.deps.orders.notify({ at: now, orderId: o.id, room, type: 'feedback', detail: `${o.number} ${o.status}` });
      this.pushOrder({ type: 'updated', orderId: o.id, status: o.status, at: now }, [room]);
    }
    if (o.status === 'resolved')
      for (const c of this.deps.orders.linkedTo(o.id))
        if (isOpen(c)) this.note(c, 'system', `linked order ${o.number} resolved (${o.cause ?? ''}); call the resident back`);
  }

  /** Open a planned outage's follow-up order once it has ended: check heat came back everywhere (N9). */
  #followUp(out: Outage): Order {
    const g = this.grid('station', out.stationId);
    const contentText = outageFollowUpText(out, out.scopeType === 'building' ? this.grid('building', out.scopeId).address : g.address);
    const o = this.newOrder({
      source: 'outage_followup',
      channel: 'system',
      subjectType: out.scopeType,
      ...g,
      ...(out.scopeType === 'building' ? { buildingId: out.scopeId } : {}),
      apartments: out.apartments,
      incidentIds: [...(out.explainedIncidentIds ?? [])],
      outageId: out.id,
      receiver: 'system',
      receivingOfficeId: g.officeId,
      content: this.zh(contentText),
      contentText,
    });
    this.deps.outages.save({ ...out, followUpOrderId: o.id });
    return o;
  }

  /** N21: who holds a rung for this order — the head of its own office, then the named managers. */
  whoIsTold(level: EscalationLevel, o: Order): Recipient[] {
    const role = ESCALATION_ROLE[level];
    const people = this.deps.people?.list({ role }) ?? [];
    return people
      .filter((p) => !p.disabled && (role !== 'station_head' || (o.officeId !== undefined && p.officeId === o.officeId)))
      .map((p) => ({ personId: p.id, name: p.name, role: p.role }));
  }

  /**
   * Advance every clock to now: SLA breaches and escalations are recorded once each and
   * pushed (N21: socket `order` event 'escalated' to each person told, `person:<id>`, and to
   * `role:<role>` when no one holds the rung); ended outages get their follow-up order.
   * Tests call it after advancing a ManualClock.
   */
  tick(): TickSummary {
    const now = this.deps.clock.now();
    let escalations = 0;
    let breaches = 0;
    let followUps = 0;
    this.tx(() => {
      for (const o of this.deps.orders.listTicking()) {
        const t = tickOrder(o, now, this.deps.policy, (level, ord) => this.whoIsTold(level, ord));
        if (t.order === o) continue;
        this.deps.orders.save(t.order, now);
        const where = { ...(o.stationId ? { stationId: o.stationId } : {}), ...(o.apartmentId ? { apartmentId: o.apartmentId } : {}) };
        for (const b of t.breaches) {
          breaches++;
          const room = o.officeId ? officeRoom(o.officeId) : CITY_ROOM;
          this.deps.orders.notify({ at: now, orderId: o.id, room, type: 'sla_breach', detail: b.kind });
          this.pushOrder({ type: 'updated', orderId: o.id, status: o.status, at: now, ...where }, [room]);
        }
        for (const e of t.escalations) {
          escalations++;
          const rooms = e.notified.length ? e.notified.map((r) => personRoom(r.personId)) : [roleRoom(ESCALATION_ROLE[e.level])];
          for (const room of rooms)
            this.deps.orders.notify({ at: now, orderId: o.id, room, type: 'escalated', detail: `${e.level} after ${e.afterHours} h` });
          this.deps.audit.add({ at: now, actor: 'system', entity: 'order', entityId: o.id, action: 'escalated', detail: e });
          this.pushOrder({ type: 'escalated', orderId: o.id, status: o.status, at: now, escalationLevel: e.level, ...where }, rooms); // N21: only the people told
        }
      }
      for (const out of this.deps.outages.endedWithoutFollowUp(now)) {
        this.#followUp(out);
        followUps++;
      }
    });
    return { at: now, escalations, breaches, followUps };
  }
}
