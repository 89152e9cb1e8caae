import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../clock.ts';
import type { Incident } from '../incident.schema.ts';
import { defaultPolicy } from '../policy.ts';
import { computeKpis, median } from './kpi.ts';
import { createOrder, type Order } from './order.ts';

const T0 = Date.UTC(2026, 11, 1);
const base = (id: string, over: Partial<Order>): Order => ({
  ...createOrder({ id, number: id, source: 'complaint', channel: 'hotline', subjectType: 'apartment', receiver: 'd', content: 'c' }, T0),
  ...over,
});
const cold = (apt: string, from: number, to?: number, exempt = false): Incident => ({
  id: `c:${apt}:${from}`, kind: 'apartment_cold', subjectType: 'apartment', subjectId: apt, apartmentId: apt, status: to ? 'resolved' : 'open',
  startTs: from, ...(to ? { endTs: to } : {}), severity: 'major', cause: 'station', evidence: {}, exempt,
});

describe('KPIs', () => {
  const apartmentStation = new Map([['a1', 's1'], ['a2', 's1'], ['a3', 's2']]);
  const stationOffice = new Map([['s1', 'o1'], ['s2', 'o2']]);

  it('compliance in apartment-hours by station, office and city; exempt shortfalls do not count (N3)', () => {
    const k = computeKpis({ from: T0, to: T0 + 10 * HOUR_MS, orders: [], apartmentStation, stationOffice, coldIncidents: [cold('a1', T0 - HOUR_MS, T0 + 2 * HOUR_MS), cold('a3', T0 + 5 * HOUR_MS), cold('a2', T0, T0 + 5 * HOUR_MS, true)] }, defaultPolicy);
    expect(k.compliance.byStation).toEqual([
      { id: 's1', apartments: 2, apartmentHours: 20, coldApartmentHours: 2, compliance: 0.9 },
      { id: 's2', apartments: 1, apartmentHours: 10, coldApartmentHours: 5, compliance: 0.5 },
    ]);
    expect(k.compliance.byOffice.map((r) => r.id)).toEqual(['o1', 'o2']);
    expect(k.compliance.city).toMatchObject({ apartments: 3, apartmentHours: 30, coldApartmentHours: 7 });
  });

  it('counts each order once in callback rate (N22) and satisfaction (N7), with medians', () => {
    const orders = [
      base('called-back-and-closed', { status: 'closed', issuedAt: T0, answeredAt: T0 + 10 * 60_000, onSiteAt: T0 + 40 * 60_000, resolvedAt: T0 + 2 * HOUR_MS, callbackAt: T0 + 3 * HOUR_MS, satisfaction: 5, cause: 'station' }),
      base('resolved-no-callback', { status: 'closed', issuedAt: T0, answeredAt: T0 + 20 * 60_000, onSiteAt: T0 + 60 * 60_000, resolvedAt: T0 + 4 * HOUR_MS, cause: 'in_home' }),
      base('open', { status: 'dispatched', issuedAt: T0, escalations: [{ level: 'station_head', at: T0 + 24 * HOUR_MS, afterHours: 24 }] }),
      base('measure', { source: 'measurement', status: 'closed', resolvedAt: T0 + HOUR_MS, cause: 'building' }),
    ];
    const k = computeKpis({ from: T0, to: T0 + 48 * HOUR_MS, orders, apartmentStation, stationOffice, coldIncidents: [] }, defaultPolicy);
    expect(k.callback).toEqual({ resolved: 2, calledBack: 1, rate: 0.5, target: 0.9 });
    expect(k.satisfaction).toEqual({ rated: 1, satisfied: 1, rate: 1, target: 0.98 });
    expect(k.medianMinutes).toEqual({ answer: 15, onSite: 50, restore: 180 });
    expect(k.escalationsByLevel).toEqual({ station_head: 1 });
    expect(k.orders.byCause).toEqual({ station: 1, in_home: 1, building: 1 });
    expect(k.orders.bySource).toEqual({ complaint: 3, measurement: 1 });
  });

  it('median of even and odd lists', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
