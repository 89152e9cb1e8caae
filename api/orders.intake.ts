/**
 * Orders from incidents: at most one order per fault (an incident inside an area that
 * already has an open order joins it), groups taking over their apartments, and (N9) no
 * order at all for the cold an announced outage explains — the outage's follow-up order
 * checks those apartments once heat is back.
 */
import { ORDER_INCIDENT_KINDS, type Incident, type IncidentEvent } from '../domain/incident.schema.ts';
import { applyAction, type Order } from '../domain/orders/order.ts';
import { localTime } from '../domain/orders/resident-texts.ts';
import { proactiveText, renderOrderText, type OrderText } from '../domain/orders/order-texts.ts';
import { OrdersCore, isOpen } from './orders.core.ts';
import type { Outage } from './outages.repository.ts';
import { CITY_ROOM, apartmentRoom, stationRoom, type Room } from '../domain/rooms.ts';

/** Incident kinds that open an order (domain/incident.schema.ts). Sensor trouble goes to the device list instead. */
export const ORDER_KINDS: ReadonlySet<string> = new Set(ORDER_INCIDENT_KINDS);
/** Cold an outage can explain (N9): the heat was off on purpose (a forecast of that cold too). */
const COLD_KINDS = new Set(['apartment_cold', 'building_cold', 'station_cold', 'predicted_cold']);

export class OrdersIntake extends OrdersCore {
  /**
   * An incident from the rules engine (QoS 1: may come twice). At most one order per
   * incident; an incident inside an area that already has an open order joins it (N4).
   */
  onIncident(ev: IncidentEvent): { order?: Order; duplicate: boolean; suppressedBy?: string } {
    const i = ev.incident;
    return this.tx(() => {
      if (!this.deps.incidents.upsert(i, ev.at)) return { duplicate: true };
      this.pushIncident(ev, this.#incidentRooms(i));
      const existing = this.deps.orders.byIncident(i.id);
      if (ev.type === 'resolved') {
        if (existing && i.kind === 'predicted_cold') return { order: this.#predictionResolved(existing, i), duplicate: false };
        if (existing && existing.status !== 'closed' && existing.status !== 'cancelled') {
          const next = applyAction(
            existing,
            { type: 'note', note: `incident ${i.id} resolved` },
            'system',
            this.deps.clock.now(),
            this.deps.policy,
          );
          return { order: this.persist(next, 'updated', 'system', 'incident_resolved'), duplicate: false };
        }
        return { duplicate: false };
      }
      // A resolved shortfall's later N3 verdict (its day ended) corrects the record only: no order for heat that is back.
      if (i.status === 'resolved' || !ORDER_KINDS.has(i.kind) || i.exempt) return { order: existing, duplicate: false };
      if (existing) return { order: this.#onIncidentUpdate(existing, i), duplicate: false };
      const outage = this.#explainingOutage(i);
      if (outage) {
        // N9: announced outage → the cold is expected; its follow-up order checks these apartments.
        const explained = [...new Set([...(outage.explainedIncidentIds ?? []), i.id])];
        this.deps.outages.save({ ...outage, explainedIncidentIds: explained });
        this.deps.audit.add({
          at: this.deps.clock.now(),
          actor: 'system',
          entity: 'outage',
          entityId: outage.id,
          action: 'explained_incident',
          detail: { incidentId: i.id, rule: 'N9' },
        });
        return { duplicate: false, suppressedBy: outage.id };
      }
      const order = this.#orderForIncident(i);
      return { order: this.#absorbChildren(order, i), duplicate: false };
    });
  }

  /**
   * N9: the announced outage whose window (plus the time rooms take to warm up again)
   * contains the start of this cold, on the incident's apartment, building or station.
   */
  #explainingOutage(i: Incident): Outage | undefined {
    if (!COLD_KINDS.has(i.kind)) return undefined;
    const recoverMs = this.deps.policy.service.outageRecoveryHours * 3_600_000;
    const covers = (o: Outage): boolean => i.startTs >= o.startsAt && i.startTs <= o.endsAt + recoverMs;
    const apt = i.kind === 'apartment_cold' || i.kind === 'predicted_cold' ? (i.apartmentId ?? i.subjectId) : undefined;
    if (apt) return this.deps.outages.list({ apartmentId: apt }).find(covers);
    const stationId =
      i.stationId ?? (i.kind === 'station_cold' ? i.subjectId : this.grid('building', i.buildingId ?? i.subjectId).stationId);
    if (!stationId) return undefined;
    return this.deps.outages
      .list({ stationId })
      .find((o) => covers(o) && (o.scopeType === 'station' || (i.kind === 'building_cold' && o.scopeId === (i.buildingId ?? i.subjectId))));
  }

  /** Where an incident is, in words (address, building or station name). */
  #where(i: Incident): string | undefined {
    if (i.kind === 'apartment_cold' || i.kind === 'predicted_cold') return this.grid('apartment', i.apartmentId ?? i.subjectId).address;
    if (i.kind === 'building_cold') return this.grid('building', i.buildingId ?? i.subjectId).address;
    if (i.kind === 'source_cold') return undefined;
    const st = i.stationId ?? i.subjectId;
    return this.deps.registry.getStation(st)?.name;
  }

  #incidentRooms(i: Incident): Room[] {
    const rooms: Room[] = [CITY_ROOM];
    if (i.stationId) rooms.push(stationRoom(i.stationId));
    if (i.apartmentId) rooms.push(apartmentRoom(i.apartmentId));
    return rooms;
  }

  /** Chinese rendering of a platform-written text, for `content` and history notes (the paper form, older readers). */
  protected zh(t: OrderText): string {
    return (renderOrderText(t, 'zh-CN', localTime(this.deps.policy.utcOffsetMinutes)) ?? '').slice(0, 2000);
  }

  #orderForIncident(i: Incident): Order {
    const { orders } = this.deps;
    // 服务内容 in words from the catalogue, stored language-neutral (each reader's screen renders it)
    // and in Chinese; the evidence stays structured on the linked incident.
    const contentText = proactiveText(i, this.#where(i), this.deps.policy.comfort.standardC);
    const content = this.zh(contentText);
    if (i.parentId) {
      const parent = orders.byIncident(i.parentId);
      if (parent && isOpen(parent))
        return this.link(parent, 'system', {
          incidentId: i.id,
          apartments: i.apartmentId ? [i.apartmentId] : [],
          note: `incident ${i.id} grouped under ${i.parentId}`,
        });
    }
    const base = {
      source: 'proactive' as const,
      channel: 'system' as const,
      incidentIds: [i.id],
      cause: i.cause,
      receiver: 'system',
      content,
      contentText,
    };
    // Issue #20: a predicted_cold is an apartment order the dispatcher can schedule before the
    // resident is cold; the real apartment_cold that may follow joins it (N4).
    if (i.kind === 'apartment_cold' || i.kind === 'predicted_cold') {
      const apt = i.apartmentId ?? i.subjectId;
      const g = this.grid('apartment', apt);
      const cover = orders.openCovering(apt, g.buildingId, g.stationId);
      if (cover) {
        const linked = this.link(cover, 'system', {
          incidentId: i.id,
          apartments: [apt],
          note: `incident ${i.id} on a covered apartment (N4)`,
        });
        // The real cold a predicted order waited for: from here on it is a repair order (sla.ts faultClockFrom).
        return i.kind === 'apartment_cold' ? this.#confirm(linked, i) : linked;
      }
      return this.newOrder({
        ...base,
        subjectType: 'apartment',
        ...g,
        apartments: [apt],
        residentAddress: g.address,
        receivingOfficeId: g.officeId,
        ...(i.kind === 'predicted_cold' ? { prediction: { incidentId: i.id, state: 'predicted' as const } } : {}),
      });
    }
    if (i.kind === 'building_cold') {
      const g = this.grid('building', i.buildingId ?? i.subjectId);
      const cover = (g.stationId && orders.openForSubject('station', g.stationId)) || orders.openForSubject('building', g.buildingId!);
      const apartments = i.children ?? [];
      if (cover) return this.link(cover, 'system', { incidentId: i.id, apartments, note: `incident ${i.id} joins the open order` });
      return this.newOrder({
        ...base,
        subjectType: 'building',
        ...g,
        apartments,
        residentAddress: g.address,
        receivingOfficeId: g.officeId,
      });
    }
    if (i.kind === 'source_cold') return this.newOrder({ ...base, subjectType: 'source', apartments: i.children ?? [] });
    // Station incidents: one station order listing the affected apartments (children are apartment ids, never station ids).
    const stationId = i.stationId ?? i.subjectId;
    const g = this.grid('station', stationId);
    const listed = (i.children ?? []).filter((a) => this.deps.registry.getApartment(a));
    const apartments = listed.length ? listed : this.stationApartments(stationId);
    const cover = orders.openForSubject('station', stationId);
    if (cover) return this.link(cover, 'system', { incidentId: i.id, apartments, note: `incident ${i.id} joins the station order` });
    return this.newOrder({ ...base, subjectType: 'station', ...g, apartments, receivingOfficeId: g.officeId });
  }

  /**
   * A predicted_cold ended (issue #20). `confirmed`: the threshold rule opened the real cold
   * incident — the order continues as a repair order (it may have been linked already). `avoided`:
   * the horizon passed without it — the proactive order is withdrawn with the reason (unless a
   * worker is on site, or it carries more than this prediction), audited as prediction_avoided.
   */
  #predictionResolved(o: Order, i: Incident): Order {
    const outcome = i.evidence.outcome;
    if (outcome === 'confirmed' && typeof i.evidence.confirmedBy === 'string') {
      const real = this.deps.incidents.get(i.evidence.confirmedBy);
      return this.#confirm(o, real ?? { id: i.evidence.confirmedBy, startTs: i.endTs ?? this.deps.clock.now() });
    }
    if (outcome === 'avoided') return this.#avoid(o, i);
    if (o.status === 'closed' || o.status === 'cancelled') return o;
    return this.note(o, 'system', `incident ${i.id} resolved`);
  }

  #confirm(o: Order, real: Pick<Incident, 'id' | 'startTs'>): Order {
    if (o.prediction?.state !== 'predicted' || !isOpen(o)) return o;
    const now = this.deps.clock.now();
    const text: OrderText = { key: 'prediction_confirmed', params: { coldSinceAt: real.startTs } };
    const confirmed: Order = {
      ...o,
      prediction: { ...o.prediction, state: 'confirmed', confirmedBy: real.id, confirmedAt: now, outcome: text },
    };
    const next = applyAction(confirmed, { type: 'note', note: this.zh(text) }, 'system', now, this.deps.policy);
    return this.persist(next, 'updated', 'system', 'prediction_confirmed', { incidentId: o.prediction.incidentId, confirmedBy: real.id });
  }

  #avoid(o: Order, i: Incident): Order {
    const p = o.prediction;
    if (p?.state !== 'predicted' || p.incidentId !== i.id) return o;
    // Only an order that stands on predictions alone is withdrawn: anything else linked to it (N4) is still to be handled.
    const others = o.incidentIds.filter((id) => id !== i.id).map((id) => this.deps.incidents.get(id));
    // …nor one a resident's open complaint is linked to (N4): they say they are cold, whatever the sensor says.
    const complaints = this.deps.orders.linkedTo(o.id).filter(isOpen);
    if (complaints.length || others.some((x) => !x || x.kind !== 'predicted_cold' || x.status !== 'resolved')) {
      return this.note(o, 'system', `incident ${i.id} resolved: the predicted shortfall did not happen`);
    }
    const now = this.deps.clock.now();
    const onSite = o.status === 'on_site';
    const text: OrderText = { key: onSite ? 'prediction_avoided_on_site' : 'prediction_avoided', params: { untilAt: i.endTs ?? now } };
    const avoided: Order = { ...o, prediction: { ...p, state: 'avoided', avoidedAt: now, outcome: text } };
    // A worker in the home finishes the visit as usual; an order no one has reached yet is withdrawn.
    const step =
      isOpen(o) && !onSite ? ({ type: 'cancel', note: this.zh(text) } as const) : ({ type: 'note', note: this.zh(text) } as const);
    const next = applyAction(avoided, step, 'system', now, this.deps.policy);
    return this.persist(next, step.type === 'cancel' ? 'closed' : 'updated', 'system', 'prediction_avoided', {
      incidentId: i.id,
      withdrawn: step.type === 'cancel',
      reason: text,
    });
  }

  /**
   * The engine reports apartments first and groups them later (or regroups them): a group
   * order takes over the apartments it lists, and an apartment incident that gained a parent
   * moves into the parent's order (one order per fault, not one per apartment).
   */
  #onIncidentUpdate(existing: Order, i: Incident): Order {
    if (!isOpen(existing)) return existing;
    if (i.kind === 'apartment_cold' && i.parentId && existing.subjectType === 'apartment') {
      const parent = this.deps.orders.byIncident(i.parentId);
      if (parent && parent.id !== existing.id && isOpen(parent)) {
        this.#mergeInto(existing, parent);
        return this.deps.orders.get(parent.id)!;
      }
      return existing;
    }
    const added = (i.children ?? []).filter((a) => !existing.apartments.includes(a) && this.deps.registry.getApartment(a));
    const o = added.length
      ? this.link(existing, 'system', { apartments: added, note: `incident ${i.id}: ${added.length} more apartments` })
      : existing;
    return this.#absorbChildren(o, i);
  }

  /** Cancel proactive apartment orders on the group's apartments that no one has started, moving their incidents here. */
  #absorbChildren(group: Order, i: Incident): Order {
    if (group.subjectType === 'apartment' || !isOpen(group) || !i.children?.length) return group;
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
    const cancelled = applyAction(child, { type: 'cancel', note: `merged into order ${parent.number}` }, 'system', now, this.deps.policy);
    this.persist(cancelled, 'closed', 'system', 'merged', { into: parent.id });
    let p = parent;
    for (const incidentId of child.incidentIds) {
      p = applyAction(
        p,
        { type: 'link', incidentId, apartments: [...child.apartments], note: `order ${child.number} merged` },
        'system',
        now,
        this.deps.policy,
      );
    }
    return this.persist(p, 'updated', 'system', 'merged', { from: child.id });
  }

  protected stationApartments(stationId: string): string[] {
    return this.deps.registry.listBuildings(stationId).flatMap((b) => this.deps.registry.listApartments(b.id).map((a) => a.id));
  }
}
