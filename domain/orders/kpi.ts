/**
 * Service KPIs, pure: compliance in apartment-hours at or above the standard (N2) by
 * station, office and city; callback rate (N22); satisfaction (N7); median answer (N10),
 * on-site (N6) and restore (N8) times; escalations by level (N21); orders by cause.
 * Each order counts once whatever path it took (resolved, then called back, then closed).
 */
import type { Incident } from '../incident.schema.ts';
import type { HeatingPolicy } from '../policy.ts';
import { dayInSeason, localDayIndex, localDayStart } from '../season.ts';
import { isRepairOrder, type Order } from './order.ts';

export interface ComplianceRow {
  readonly id: string;
  readonly apartments: number;
  readonly apartmentHours: number;
  readonly coldApartmentHours: number;
  /** N3: cold apartment-hours on days colder than design — recorded, excused from `compliance`. */
  readonly exemptColdApartmentHours: number;
  /** Share of in-season apartment-hours of monitored apartments at or above the standard, N3-exempt hours excused, 0–1 (null when nothing is monitored in season). */
  readonly compliance: number | null;
  /** The same with N3-exempt shortfalls counted: what residents actually had. */
  readonly complianceWithExempt: number | null;
}

export interface Kpis {
  readonly from: number;
  readonly to: number;
  readonly compliance: {
    readonly city: ComplianceRow;
    readonly byOffice: readonly ComplianceRow[];
    readonly byStation: readonly ComplianceRow[];
  };
  readonly orders: {
    readonly received: number;
    readonly repair: number;
    readonly bySource: Record<string, number>;
    readonly byStatus: Record<string, number>;
    readonly byCause: Record<string, number>;
  };
  /** N22: repair orders resolved in the window that were called back, over those resolved. */
  readonly callback: { readonly resolved: number; readonly calledBack: number; readonly rate: number | null; readonly target: number };
  /** N7: share of callback ratings >= satisfiedScore. */
  readonly satisfaction: { readonly rated: number; readonly satisfied: number; readonly rate: number | null; readonly target: number };
  /** Median minutes; null when no order had the step. */
  readonly medianMinutes: { readonly answer: number | null; readonly onSite: number | null; readonly restore: number | null };
  readonly escalationsByLevel: Record<string, number>;
  readonly slaBreachesByKind: Record<string, number>;
}

export interface KpiInput {
  readonly from: number;
  readonly to: number;
  readonly orders: readonly Order[];
  /** apartment_cold incidents overlapping the window. */
  readonly coldIncidents: readonly Incident[];
  /** Topology of the *monitored* apartments (a room sensor in place): apartment → station, station → office. */
  readonly apartmentStation: ReadonlyMap<string, string>;
  readonly stationOffice: ReadonlyMap<string, string>;
}

export function median(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const inc = (m: Record<string, number>, k: string, by = 1): void => {
  m[k] = (m[k] ?? 0) + by;
};

/** N1: hours of [from, to) that fall on in-season local days. */
export function seasonHours(from: number, to: number, policy: HeatingPolicy): number {
  let ms = 0;
  for (let d = localDayIndex(from, policy); to > from && localDayStart(d, policy) < to; d++) {
    if (!dayInSeason(d, policy)) continue;
    ms += Math.max(0, Math.min(to, localDayStart(d + 1, policy)) - Math.max(from, localDayStart(d, policy)));
  }
  return ms / 3_600_000;
}

export function computeKpis(input: KpiInput, policy: HeatingPolicy): Kpis {
  const { from, to } = input;
  // Only monitored apartments and in-season hours count: an unmonitored flat or a July day is not "compliant", it is unknown.
  const hours = seasonHours(from, to, policy);

  // Compliance: every monitored apartment contributes `hours`; cold incidents (not N3-exempt) subtract their overlap.
  const aptsPerStation = new Map<string, number>();
  for (const st of input.apartmentStation.values()) aptsPerStation.set(st, (aptsPerStation.get(st) ?? 0) + 1);
  const coldPerStation = new Map<string, { cold: number; exempt: number }>();
  for (const i of input.coldIncidents) {
    if (i.kind !== 'apartment_cold') continue;
    const apt = i.apartmentId ?? i.subjectId;
    const st = input.apartmentStation.get(apt);
    if (!st) continue;
    const overlap = seasonHours(Math.max(from, i.startTs), Math.min(to, i.endTs ?? to), policy);
    const c = coldPerStation.get(st) ?? { cold: 0, exempt: 0 };
    if (i.exempt)
      c.exempt += overlap; // N3: recorded, excused
    else c.cold += overlap;
    coldPerStation.set(st, c);
  }
  const row = (id: string, apartments: number, cold: number, exempt: number): ComplianceRow => {
    const total = apartments * hours;
    return {
      id,
      apartments,
      apartmentHours: total,
      coldApartmentHours: cold,
      exemptColdApartmentHours: exempt,
      compliance: total > 0 ? Math.max(0, 1 - cold / total) : null,
      complianceWithExempt: total > 0 ? Math.max(0, 1 - (cold + exempt) / total) : null,
    };
  };
  const byStation = [...aptsPerStation.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([st, n]) => row(st, n, coldPerStation.get(st)?.cold ?? 0, coldPerStation.get(st)?.exempt ?? 0));
  const officeAgg = new Map<string, { n: number; cold: number; exempt: number }>();
  for (const r of byStation) {
    const off = input.stationOffice.get(r.id) ?? 'unknown';
    const a = officeAgg.get(off) ?? { n: 0, cold: 0, exempt: 0 };
    a.n += r.apartments;
    a.cold += r.coldApartmentHours;
    a.exempt += r.exemptColdApartmentHours;
    officeAgg.set(off, a);
  }
  const byOffice = [...officeAgg.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([off, a]) => row(off, a.n, a.cold, a.exempt));
  const sum = (k: 'apartments' | 'coldApartmentHours' | 'exemptColdApartmentHours'): number => byStation.reduce((s, r) => s + r[k], 0);
  const city = row('city', sum('apartments'), sum('coldApartmentHours'), sum('exemptColdApartmentHours'));

  // Orders received in the window, each counted once.
  const orders = input.orders.filter((o) => o.receivedAt >= from && o.receivedAt < to);
  const bySource: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  const byCause: Record<string, number> = {};
  const escalationsByLevel: Record<string, number> = {};
  const slaBreachesByKind: Record<string, number> = {};
  const answer: number[] = [];
  const onSite: number[] = [];
  const restore: number[] = [];
  let repair = 0;
  let resolvedInWindow = 0;
  let calledBackInWindow = 0;
  let rated = 0;
  let satisfied = 0;
  // N22: the callback rate is over repair orders *resolved* in the window, whenever they were received.
  for (const o of input.orders) {
    if (!isRepairOrder(o) || o.resolvedAt === undefined || o.resolvedAt < from || o.resolvedAt >= to) continue;
    resolvedInWindow++;
    if (o.callbackAt !== undefined) calledBackInWindow++;
  }
  for (const o of orders) {
    inc(bySource, o.source);
    inc(byStatus, o.status);
    if (o.resolvedAt !== undefined) inc(byCause, o.cause ?? 'unknown');
    for (const e of o.escalations) inc(escalationsByLevel, e.level);
    for (const b of o.slaBreaches) inc(slaBreachesByKind, b.kind);
    if (o.answeredAt !== undefined) answer.push((o.answeredAt - o.receivedAt) / 60_000); // N10
    if (o.onSiteAt !== undefined && o.issuedAt !== undefined) onSite.push((o.onSiteAt - o.issuedAt) / 60_000); // N6
    if (!isRepairOrder(o)) continue;
    repair++;
    if (o.resolvedAt !== undefined && o.cause !== 'heat_source') restore.push((o.resolvedAt - o.receivedAt) / 60_000); // N8
    if (o.satisfaction !== undefined) {
      rated++;
      if (o.satisfaction >= policy.service.satisfiedScore) satisfied++; // N7
    }
  }
  return {
    from,
    to,
    compliance: { city, byOffice, byStation },
    orders: { received: orders.length, repair, bySource, byStatus, byCause },
    callback: {
      resolved: resolvedInWindow,
      calledBack: calledBackInWindow,
      rate: resolvedInWindow ? calledBackInWindow / resolvedInWindow : null,
      target: policy.service.callbackRateTarget,
    },
    satisfaction: { rated, satisfied, rate: rated ? satisfied / rated : null, target: policy.service.satisfactionTarget },
    medianMinutes: { answer: median(answer), onSite: median(onSite), restore: median(restore) },
    escalationsByLevel,
    slaBreachesByKind,
  };
}
