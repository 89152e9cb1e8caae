/**
 * Service KPIs, pure: compliance in apartment-hours at or above the standard (N2) by
 * station, office and city; callback rate (N22); satisfaction (N7); median answer (N10),
 * on-site (N6) and restore (N8) times; escalations by level (N21); orders by cause.
 * Each order counts once whatever path it took (resolved, then called back, then closed).
 */
import type { Incident } from '../incident.schema.ts';
import type { HeatingPolicy } from '../policy.ts';
import { isRepairOrder, type Order } from './order.ts';

export interface ComplianceRow {
  readonly id: string;
  readonly apartments: number;
  readonly apartmentHours: number;
  readonly coldApartmentHours: number;
  /** Share of apartment-hours at or above the standard, 0–1 (1 when nothing is monitored). */
  readonly compliance: number;
}

export interface Kpis {
  readonly from: number;
  readonly to: number;
  readonly compliance: { readonly city: ComplianceRow; readonly byOffice: readonly ComplianceRow[]; readonly byStation: readonly ComplianceRow[] };
  readonly orders: { readonly received: number; readonly repair: number; readonly bySource: Record<string, number>; readonly byStatus: Record<string, number>; readonly byCause: Record<string, number> };
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
  /** Topology: apartment → station, station → office. */
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

export function computeKpis(input: KpiInput, policy: HeatingPolicy): Kpis {
  const { from, to } = input;
  const hours = Math.max(0, to - from) / 3_600_000;

  // Compliance: every monitored apartment contributes `hours`; cold incidents (not N3-exempt) subtract their overlap.
  const aptsPerStation = new Map<string, number>();
  for (const st of input.apartmentStation.values()) aptsPerStation.set(st, (aptsPerStation.get(st) ?? 0) + 1);
  const coldPerStation = new Map<string, number>();
  for (const i of input.coldIncidents) {
    if (i.exempt || i.kind !== 'apartment_cold') continue;
    const apt = i.apartmentId ?? i.subjectId;
    const st = input.apartmentStation.get(apt);
    if (!st) continue;
    const overlap = Math.max(0, Math.min(to, i.endTs ?? to) - Math.max(from, i.startTs)) / 3_600_000;
    coldPerStation.set(st, (coldPerStation.get(st) ?? 0) + overlap);
  }
  const row = (id: string, apartments: number, cold: number): ComplianceRow => {
    const total = apartments * hours;
    return { id, apartments, apartmentHours: total, coldApartmentHours: cold, compliance: total > 0 ? Math.max(0, 1 - cold / total) : 1 };
  };
  const byStation = [...aptsPerStation.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([st, n]) => row(st, n, coldPerStation.get(st) ?? 0));
  const officeAgg = new Map<string, { n: number; cold: number }>();
  for (const r of byStation) {
    const off = input.stationOffice.get(r.id) ?? 'unknown';
    const a = officeAgg.get(off) ?? { n: 0, cold: 0 };
    a.n += r.apartments;
    a.cold += r.coldApartmentHours;
    officeAgg.set(off, a);
  }
  const byOffice = [...officeAgg.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([off, a]) => row(off, a.n, a.cold));
  const city = row('city', byStation.reduce((s, r) => s + r.apartments, 0), byStation.reduce((s, r) => s + r.coldApartmentHours, 0));

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
  let resolved = 0;
  let calledBack = 0;
  let rated = 0;
  let satisfied = 0;
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
    if (o.resolvedAt !== undefined) {
      resolved++;
      if (o.cause !== 'heat_source') restore.push((o.resolvedAt - o.receivedAt) / 60_000); // N8
      if (o.callbackAt !== undefined) calledBack++; // N22
    }
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
    callback: { resolved, calledBack, rate: resolved ? calledBack / resolved : null, target: policy.service.callbackRateTarget },
    satisfaction: { rated, satisfied, rate: rated ? satisfied / rated : null, target: policy.service.satisfactionTarget },
    medianMinutes: { answer: median(answer), onSite: median(onSite), restore: median(restore) },
    escalationsByLevel,
    slaBreachesByKind,
  };
}
