/**
 * Orders service: turns incidents, complaints, measurement requests and ended outages into
 * orders without duplicates (N4), drives the lifecycle (domain/orders/order.ts), runs the SLA
 * and escalation clock (N6, N8, N10, N21) on the injected clock, and tells the right socket
 * rooms. Routes and the MQTT consumer call it; it calls repositories.
 */
import { randomBytes } from 'node:crypto';
import { Compile } from 'typebox/compile';
import type { Clock } from '../domain/clock.ts';
import { HeatError } from '../domain/errors.ts';
import type { OrderEvent } from '../domain/events.ts';
import type { Incident, IncidentEvent } from '../domain/incident.schema.ts';
import { evaluateMeasurement, type MeasurementRecord } from '../domain/measurement.ts';
import {
  applyAction,
  createOrder,
  tickOrder,
  type NewOrderInput,
  type Order,
  type OrderAction,
  type OrderChannel,
  type OrderSubject,
} from '../domain/orders/order.ts';
import { PersonActionSchema, type PersonAction } from '../domain/orders/order.schema.ts';
import type { HeatingPolicy } from '../domain/policy.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import type { AuditRepository } from './audit.repository.ts';
import type { IncidentsRepository } from './incidents.repository.ts';
import type { OrdersRepository } from './orders.repository.ts';
import type { Outage, OutagesRepository } from './outages.repository.ts';

/** Where order and incident changes are pushed (socket.io rooms); injected so the service has no socket import. */
export interface Pusher {
  order(e: OrderEvent, rooms: readonly string[]): void;
  incident(e: IncidentEvent, rooms: readonly string[]): void;
}

/** Incident kinds that need someone to go and fix something. Sensor trouble goes to the device list instead. */
const ORDER_KINDS = new Set(['apartment_cold', 'building_cold', 'station_cold', 'source_cold', 'station_fault', 'station_silent']);

export interface Grid {
  readonly apartmentId?: string;
  readonly buildingId?: string;
  readonly stationId?: string;
  readonly officeId?: string;
  readonly address?: string;
}

export interface Actor {
  readonly id: string;
  readonly username: string;
}

export interface ComplaintInput {
  readonly apartmentId: string;
  readonly content: string;
  readonly channel: Exclude<OrderChannel, 'system'>;
  readonly residentPhone?: string;
  readonly residentContact?: string;
  readonly appointmentAt?: number;
}

/** A person's step, as the route builds it (domain/orders/order.schema.ts). */
export type ActionInput = PersonAction;

/** Checked again here, so no caller (route, test, future consumer) can pass a link or an unknown step (#13.3). */
const isPersonAction = Compile(PersonActionSchema);

export interface TickSummary {
  readonly at: number;
  readonly escalations: number;
  readonly breaches: number;
  readonly followUps: number;
}

export class OrdersService {
  constructor(
    private readonly deps: {
      readonly orders: OrdersRepository;
      readonly incidents: IncidentsRepository;
      readonly outages: OutagesRepository;
      readonly audit: AuditRepository;
      readonly registry: RegistryRepository;
      readonly clock: Clock;
      readonly policy: HeatingPolicy;
      readonly pusher: Pusher;
    },
  ) {}

  /** N5: apartment → building → station → office. */
  grid(subject: OrderSubject, id: string): Grid {
    const r = this.deps.registry;
    if (subject === 'apartment') {
      const a = r.getApartment(id);
      if (!a) return { apartmentId: id };
      const b = r.getBuilding(a.buildingId);
      const s = b ? r.getStation(b.stationId) : undefined;
      return { apartmentId: id, buildingId: a.buildingId, stationId: b?.stationId, officeId: s?.officeId, address: b ? `${b.address} ${a.number}` : a.number };
    }
    if (subject === 'building') {
      const b = r.getBuilding(id);
      const s = b ? r.getStation(b.stationId) : undefined;
      return { buildingId: id, stationId: b?.stationId, officeId: s?.officeId, address: b?.address };
    }
    if (subject === 'station') {
      const s = r.getStation(id);
      return { stationId: id, officeId: s?.officeId, address: s?.name };
    }
    return {};
  }

  /** Rooms an order event goes to: the city desk, the grid's office and station, and residents of its apartments. */
  roomsFor(o: Order): string[] {
    const rooms = ['city'];
    if (o.officeId) rooms.push(`office:${o.officeId}`);
    if (o.stationId) rooms.push(`station:${o.stationId}`);
    for (const a of o.apartments) rooms.push(`apartment:${a}`);
    return rooms;
  }

  get(id: string): Order {
    const o = this.deps.orders.get(id);
    if (!o) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such order');
    return o;
  }

  #persist(o: Order, type: OrderEvent['type'], actor: string, action: string, detail?: unknown): Order {
    const now = this.deps.clock.now();
    this.deps.orders.save(o, now);
    this.deps.audit.add({ at: now, actor, entity: 'order', entityId: o.id, action, detail });
    const e: OrderEvent = { type, orderId: o.id, status: o.status, at: now, ...(o.stationId ? { stationId: o.stationId } : {}), ...(o.apartmentId ? { apartmentId: o.apartmentId } : {}) };
    this.deps.pusher.order(e, this.roomsFor(o));
    return o;
  }

  #new(input: Omit<NewOrderInput, 'id' | 'number'>): Order {
    const now = this.deps.clock.now();
    const year = new Date(now + this.deps.policy.utcOffsetMinutes * 60_000).getUTCFullYear();
    const o = createOrder({ ...input, id: `ord-${randomBytes(6).toString('hex')}`, number: this.deps.orders.nextNumber(year) }, now);
    return this.#persist(o, 'created', input.receiver, 'created', { source: o.source });
  }

  #link(o: Order, by: string, link: { apartments?: readonly string[]; incidentId?: string; note: string }): Order {
    const next = applyAction(o, { type: 'link', note: link.note, ...(link.incidentId ? { incidentId: link.incidentId } : {}), ...(link.apartments ? { apartments: [...link.apartments] } : {}) }, by, this.deps.clock.now(), this.deps.policy);
    return this.#persist(next, 'updated', by, 'linked', link);
  }

  /**
   * An incident from the rules engine (QoS 1: may come twice). At most one order per
   * incident; an incident inside an area that already has an open order joins it (N4).
   */
  onIncident(ev: IncidentEvent): { order?: Order; duplicate: boolean } {
    const i = ev.incident;
    return this.deps.orders.transaction(() => {
      if (!this.deps.incidents.upsert(i, ev.at)) return { duplicate: true };
      this.deps.pusher.incident(ev, this.#incidentRooms(i));
      const existing = this.deps.orders.byIncident(i.id);
      if (ev.type === 'resolved') {
        if (existing && existing.status !== 'closed' && existing.status !== 'cancelled') {
          const next = applyAction(existing, { type: 'note', note: `incident ${i.id} resolved` }, 'system', this.deps.clock.now(), this.deps.policy);
          return { order: this.#persist(next, 'updated', 'system', 'incident_resolved'), duplicate: false };
        }
        return { duplicate: false };
      }
      if (!ORDER_KINDS.has(i.kind) || i.exempt) return { order: existing, duplicate: false };
      if (existing) return { order: this.#onIncidentUpdate(existing, i), duplicate: false };
      const order = this.#orderForIncident(i);
      return { order: this.#absorbChildren(order, i), duplicate: false };
    });
  }

  #incidentRooms(i: Incident): string[] {
    const rooms = ['city'];
    if (i.stationId) rooms.push(`station:${i.stationId}`);
    if (i.apartmentId) rooms.push(`apartment:${i.apartmentId}`);
    return rooms;
  }

  #orderForIncident(i: Incident): Order {
    const { orders } = this.deps;
    const content = `${i.kind} (${i.cause}): ${Object.entries(i.evidence).map(([k, v]) => `${k}=${v}`).join(', ')}`.slice(0, 2000);
    if (i.parentId) {
      const parent = orders.byIncident(i.parentId);
      if (parent && OPEN(parent)) return this.#link(parent, 'system', { incidentId: i.id, apartments: i.apartmentId ? [i.apartmentId] : [], note: `incident ${i.id} grouped under ${i.parentId}` });
    }
    if (i.kind === 'apartment_cold') {
      const apt = i.apartmentId ?? i.subjectId;
      const g = this.grid('apartment', apt);
      const cover = orders.openCovering(apt, g.buildingId, g.stationId);
      if (cover) return this.#link(cover, 'system', { incidentId: i.id, apartments: [apt], note: `incident ${i.id} on a covered apartment (N4)` });
      return this.#new({ source: 'proactive', channel: 'system', subjectType: 'apartment', ...g, apartments: [apt], incidentIds: [i.id], cause: i.cause, receiver: 'system', residentAddress: g.address, receivingOfficeId: g.officeId, content });
    }
    if (i.kind === 'building_cold') {
      const g = this.grid('building', i.buildingId ?? i.subjectId);
      const cover = (g.stationId && orders.openForSubject('station', g.stationId)) || orders.openForSubject('building', g.buildingId!);
      const apartments = i.children ?? [];
      if (cover) return this.#link(cover, 'system', { incidentId: i.id, apartments, note: `incident ${i.id} joins the open order` });
      return this.#new({ source: 'proactive', channel: 'system', subjectType: 'building', ...g, apartments, incidentIds: [i.id], cause: i.cause, receiver: 'system', residentAddress: g.address, receivingOfficeId: g.officeId, content });
    }
    if (i.kind === 'source_cold') {
      return this.#new({ source: 'proactive', channel: 'system', subjectType: 'source', apartments: i.children ?? [], incidentIds: [i.id], cause: i.cause, receiver: 'system', content });
    }
    // Station incidents: one station order listing the affected apartments.
    const stationId = i.stationId ?? i.subjectId;
    const g = this.grid('station', stationId);
    const apartments = i.children?.length ? i.children : this.#stationApartments(stationId);
    const cover = orders.openForSubject('station', stationId);
    if (cover) return this.#link(cover, 'system', { incidentId: i.id, apartments, note: `incident ${i.id} joins the station order` });
    return this.#new({ source: 'proactive', channel: 'system', subjectType: 'station', ...g, apartments, incidentIds: [i.id], cause: i.cause, receiver: 'system', receivingOfficeId: g.officeId, content });
  }

  /**
   * The engine reports apartments first and groups them later (or regroups them): a group
   * order takes over the apartments it lists, and an apartment incident that gained a parent
   * moves into the parent's order (N4: one order per fault, not one per apartment).
   */
  #onIncidentUpdate(existing: Order, i: Incident): Order {
    if (!OPEN(existing)) return existing;
    if (i.kind === 'apartment_cold' && i.parentId && existing.subjectType === 'apartment') {
      const parent = this.deps.orders.byIncident(i.parentId);
      if (parent && parent.id !== existing.id && OPEN(parent)) {
        this.#mergeInto(existing, parent);
        return this.deps.orders.get(parent.id)!;
      }
      return existing;
    }
    const added = (i.children ?? []).filter((a) => !existing.apartments.includes(a));
    const o = added.length ? this.#link(existing, 'system', { apartments: added, note: `incident ${i.id}: ${added.length} more apartments` }) : existing;
    return this.#absorbChildren(o, i);
  }

  /** Cancel proactive apartment orders on the group's apartments that no one has started, moving their incidents here. */
  #absorbChildren(group: Order, i: Incident): Order {
    if (group.subjectType === 'apartment' || !OPEN(group) || !i.children?.length) return group;
    let g = group;
    for (const apt of i.children) {
      for (const o of this.deps.orders.list({ apartmentId: apt, source: 'proactive', open: true })) {
        if (o.id === g.id || o.subjectType !== 'apartment' || (o.status !== 'new' && o.status !== 'dispatched')) continue;
        g = this.#mergeInto(o, g);
      }
    }
    return g;
  }

  #mergeInto(child: Order, parent: Order): Order {
    const now = this.deps.clock.now();
    const cancelled = applyAction(child, { type: 'cancel', note: `merged into order ${parent.number} (N4)` }, 'system', now, this.deps.policy);
    this.#persist(cancelled, 'closed', 'system', 'merged', { into: parent.id });
    let p = parent;
    for (const incidentId of child.incidentIds) p = applyAction(p, { type: 'link', incidentId, apartments: [...child.apartments], note: `order ${child.number} merged (N4)` }, 'system', now, this.deps.policy);
    return this.#persist(p, 'updated', 'system', 'merged', { from: child.id });
  }

  #stationApartments(stationId: string): string[] {
    return this.deps.registry.listBuildings(stationId).flatMap((b) => this.deps.registry.listApartments(b.id).map((a) => a.id));
  }

  /** A resident's complaint (hotline or app). On an apartment already covered by an open order it links to that order (N4). */
  complaint(input: ComplaintInput, actor: Actor): { order: Order; linked: boolean } {
    const apt = this.deps.registry.getApartment(input.apartmentId);
    if (!apt) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such apartment');
    return this.deps.orders.transaction(() => {
      const g = this.grid('apartment', apt.id);
      const cover = this.deps.orders.openCovering(apt.id, g.buildingId, g.stationId);
      if (cover) {
        return { order: this.#link(cover, actor.username, { apartments: [apt.id], note: `complaint (${input.channel}) linked (N4): ${input.content}`.slice(0, 2000) }), linked: true };
      }
      const order = this.#new({
        source: 'complaint',
        channel: input.channel,
        subjectType: 'apartment',
        ...g,
        apartments: [apt.id],
        receiver: actor.username,
        receivingOfficeId: g.officeId,
        residentAddress: g.address,
        residentPhone: input.residentPhone,
        residentContact: input.residentContact,
        appointmentAt: input.appointmentAt,
        content: input.content,
      });
      return { order, linked: false };
    });
  }

  /** A resident asks for a measurement (测温): one open measurement order per apartment. */
  measurementRequest(input: ComplaintInput, actor: Actor): { order: Order; linked: boolean } {
    const apt = this.deps.registry.getApartment(input.apartmentId);
    if (!apt) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such apartment');
    return this.deps.orders.transaction(() => {
      const open = this.deps.orders.list({ apartmentId: apt.id, source: 'measurement', open: true })[0];
      if (open) return { order: this.#link(open, actor.username, { note: `repeat measurement request: ${input.content}`.slice(0, 2000) }), linked: true };
      const g = this.grid('apartment', apt.id);
      const order = this.#new({
        source: 'measurement',
        channel: input.channel,
        subjectType: 'apartment',
        ...g,
        apartments: [apt.id],
        receiver: actor.username,
        receivingOfficeId: g.officeId,
        residentAddress: g.address,
        residentPhone: input.residentPhone,
        residentContact: input.residentContact,
        appointmentAt: input.appointmentAt,
        content: input.content,
      });
      return { order, linked: false };
    });
  }

  /** One lifecycle step by a person. Measurement records are evaluated here (N30–N34). */
  act(id: string, input: ActionInput, actor: Actor): Order {
    if (!isPersonAction.Check(input)) throw new HeatError('HEAT_ERR_VALIDATION', 'not an order step', { type: String((input as { type?: unknown }).type) });
    return this.deps.orders.transaction(() => {
      const o = this.get(id);
      const now = this.deps.clock.now();
      let action: OrderAction;
      if (input.type !== 'resolve' || !input.measurement) action = input as OrderAction;
      else {
        const record: MeasurementRecord = { ...input.measurement, measuredBy: input.measurement.measuredBy ?? actor.username };
        const result = evaluateMeasurement(record, this.deps.policy, (now - o.receivedAt) / 3_600_000);
        if (!record.residentSigned && this.deps.policy.measurement.signatureRequired) throw new HeatError('HEAT_ERR_MEASUREMENT_UNSIGNED'); // N33
        if (result.verdict === 'invalid') throw new HeatError('HEAT_ERR_MEASUREMENT_POINTS', undefined, { problems: result.problems });
        action = { ...input, measurement: { record, result } };
      }
      const next = applyAction(o, action, actor.username, now, this.deps.policy);
      const type: OrderEvent['type'] = next.status === 'closed' || next.status === 'cancelled' ? 'closed' : 'updated';
      return this.#persist(next, type, actor.username, input.type, input);
    });
  }

  /** Open a planned outage's follow-up order once it has ended: check heat came back everywhere. */
  #followUp(out: Outage): Order {
    const g = this.grid('station', out.stationId);
    const o = this.#new({
      source: 'outage_followup',
      channel: 'system',
      subjectType: out.scopeType,
      ...g,
      ...(out.scopeType === 'building' ? { buildingId: out.scopeId } : {}),
      apartments: out.apartments,
      outageId: out.id,
      receiver: 'system',
      receivingOfficeId: g.officeId,
      content: `follow-up of planned outage ${out.id}: ${out.reason}`,
    });
    this.deps.outages.save({ ...out, followUpOrderId: o.id });
    return o;
  }

  /**
   * Advance every clock to now: SLA breaches and escalations are recorded once each and
   * pushed (N21: socket `order` event 'escalated' to room `role:<level>`); ended outages get
   * their follow-up order. Tests call it after advancing a ManualClock.
   */
  tick(): TickSummary {
    const now = this.deps.clock.now();
    let escalations = 0;
    let breaches = 0;
    let followUps = 0;
    this.deps.orders.transaction(() => {
      for (const o of this.deps.orders.listTicking()) {
        const t = tickOrder(o, now, this.deps.policy);
        if (t.order === o) continue;
        this.deps.orders.save(t.order, now);
        for (const b of t.breaches) {
          breaches++;
          const room = o.officeId ? `office:${o.officeId}` : 'city';
          this.deps.orders.notify({ at: now, orderId: o.id, room, type: 'sla_breach', detail: b.kind });
          this.deps.pusher.order({ type: 'updated', orderId: o.id, status: o.status, at: now, ...(o.stationId ? { stationId: o.stationId } : {}) }, [room]);
        }
        for (const e of t.escalations) {
          escalations++;
          const room = `role:${e.level}`;
          this.deps.orders.notify({ at: now, orderId: o.id, room, type: 'escalated', detail: `${e.level} after ${e.afterHours} h` });
          this.deps.audit.add({ at: now, actor: 'system', entity: 'order', entityId: o.id, action: 'escalated', detail: e });
          const ev: OrderEvent = { type: 'escalated', orderId: o.id, status: o.status, at: now, escalationLevel: e.level, ...(o.stationId ? { stationId: o.stationId } : {}), ...(o.apartmentId ? { apartmentId: o.apartmentId } : {}) };
          this.deps.pusher.order(ev, [room]); // N21: only the level that is told
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

const OPEN = (o: Order): boolean => o.status === 'new' || o.status === 'dispatched' || o.status === 'accepted' || o.status === 'on_site';
