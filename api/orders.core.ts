/**
 * The orders service's shared core: dependencies, the grid lookup (N5), persistence with
 * audit, and live events through the outbox (they leave only after the SQLite transaction
 * commits, issue #15). The intake (orders.intake.ts) and the lifecycle (orders.service.ts)
 * build on it.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../domain/clock.ts';
import { HeatError } from '../domain/errors.ts';
import type { OrderEvent } from '../domain/events.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import { applyAction, createOrder, type NewOrderInput, type Order, type OrderSubject } from '../domain/orders/order.ts';
import type { HeatingPolicy } from '../domain/policy.ts';
import type { Role } from '../domain/roles.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import type { AuditRepository } from './audit.repository.ts';
import type { IncidentsRepository } from './incidents.repository.ts';
import type { OrdersRepository } from './orders.repository.ts';
import type { OutagesRepository } from './outages.repository.ts';
import { Outbox } from './outbox.ts';
import { CITY_ROOM, apartmentRoom, officeRoom, stationRoom, type Room } from '../domain/rooms.ts';

/** Where order and incident changes are pushed (socket.io rooms); injected so the service has no socket import. */
export interface Pusher {
  order(e: OrderEvent, rooms: readonly string[]): void;
  incident(e: IncidentEvent, rooms: readonly string[]): void;
}

/** The people register as the orders service reads it: who holds a role (N21 recipients, N4 owners). */
export interface PeopleDirectory {
  list(filter: { role?: Role }): readonly { id: string; name: string; role: Role; officeId?: string; disabled: boolean }[];
  get?(id: string): { id: string; name: string } | undefined;
}

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

export interface OrdersDeps {
  readonly orders: OrdersRepository;
  readonly incidents: IncidentsRepository;
  readonly outages: OutagesRepository;
  readonly audit: AuditRepository;
  readonly registry: RegistryRepository;
  readonly clock: Clock;
  readonly policy: HeatingPolicy;
  readonly pusher: Pusher;
  /** Optional so older composition roots keep working; without it no escalation names anyone. */
  readonly people?: PeopleDirectory;
}

export const isOpen = (o: Order): boolean =>
  o.status === 'new' || o.status === 'dispatched' || o.status === 'accepted' || o.status === 'on_site';

export class OrdersCore {
  protected readonly outbox = new Outbox();
  constructor(protected readonly deps: OrdersDeps) {}

  /** One SQLite transaction; events raised inside leave after it commits. */
  protected tx<T>(fn: () => T): T {
    return this.outbox.run((f) => this.deps.orders.transaction(f), fn);
  }

  protected pushOrder(e: OrderEvent, rooms: readonly string[]): void {
    this.outbox.push(() => this.deps.pusher.order(e, rooms));
  }

  protected pushIncident(e: IncidentEvent, rooms: readonly string[]): void {
    this.outbox.push(() => this.deps.pusher.incident(e, rooms));
  }

  /** N5: apartment → building → station → office. */
  grid(subject: OrderSubject, id: string): Grid {
    const r = this.deps.registry;
    if (subject === 'apartment') {
      const a = r.getApartment(id);
      if (!a) return { apartmentId: id };
      const b = r.getBuilding(a.buildingId);
      const s = b ? r.getStation(b.stationId) : undefined;
      return {
        apartmentId: id,
        buildingId: a.buildingId,
        stationId: b?.stationId,
        officeId: s?.officeId,
        address: b ? `${b.address} ${a.number}` : a.number,
      };
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
  roomsFor(o: Order): Room[] {
    const rooms: Room[] = [CITY_ROOM];
    if (o.officeId) rooms.push(officeRoom(o.officeId));
    if (o.stationId) rooms.push(stationRoom(o.stationId));
    for (const a of o.apartments) rooms.push(apartmentRoom(a));
    return rooms;
  }

  get(id: string): Order {
    const o = this.deps.orders.get(id);
    if (!o) throw new HeatError('HEAT_ERR_NOT_FOUND', 'no such order');
    return o;
  }

  protected persist(o: Order, type: OrderEvent['type'], actor: string, action: string, detail?: unknown): Order {
    const now = this.deps.clock.now();
    this.deps.orders.save(o, now);
    this.deps.audit.add({ at: now, actor, entity: 'order', entityId: o.id, action, detail });
    const e: OrderEvent = {
      type,
      orderId: o.id,
      status: o.status,
      at: now,
      ...(o.stationId ? { stationId: o.stationId } : {}),
      ...(o.apartmentId ? { apartmentId: o.apartmentId } : {}),
    };
    this.pushOrder(e, this.roomsFor(o));
    return o;
  }

  protected newOrder(input: Omit<NewOrderInput, 'id' | 'number'>): Order {
    const now = this.deps.clock.now();
    const year = new Date(now + this.deps.policy.utcOffsetMinutes * 60_000).getUTCFullYear();
    const o = createOrder({ ...input, id: `ord-${randomBytes(6).toString('hex')}`, number: this.deps.orders.nextNumber(year) }, now);
    return this.persist(o, 'created', input.receiver, 'created', { source: o.source });
  }

  protected link(o: Order, by: string, link: { apartments?: readonly string[]; incidentId?: string; note: string }): Order {
    const action = {
      type: 'link' as const,
      note: link.note,
      ...(link.incidentId ? { incidentId: link.incidentId } : {}),
      ...(link.apartments ? { apartments: [...link.apartments] } : {}),
    };
    const next = applyAction(o, action, by, this.deps.clock.now(), this.deps.policy);
    return this.persist(next, 'updated', by, 'linked', link);
  }

  protected note(o: Order, by: string, note: string): Order {
    const next = applyAction(o, { type: 'note', note: note.slice(0, 2000) }, by, this.deps.clock.now(), this.deps.policy);
    return this.persist(next, 'updated', by, 'note');
  }
}
