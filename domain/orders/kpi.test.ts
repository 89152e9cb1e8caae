import { describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../clock.ts';
import type { Incident } from '../incident.schema.ts';
import { defaultPolicy } from '../policy.ts';
import { computeKpis, median } from './kpi.ts';
import { createOrder, type Order } from './order.ts';

const T0 = Date.UTC(2026, 11, 1);
const base = (id: string, over: Partial<Order>): Order => ({
  ...createOrder({ id, number: id, source: 'complaint', channel: 'hotline', subjectType: 'apartment', receiver: 'd', content: 'c' }, T0),
  ...over,
});
/** A closed order issued at T0 and answered, on site and resolved [these] minutes later. */
const handled = (id: string, [answer, onSite, resolve]: [number, number, number], cause: Order['cause'], over: Partial<Order> = {}) =>
  base(id, {
    status: 'closed',
    issuedAt: T0,
    answeredAt: T0 + answer * MINUTE_MS,
    onSiteAt: T0 + onSite * MINUTE_MS,
    resolvedAt: T0 + resolve * MINUTE_MS,
    cause,
    ...over,
  });
const cold = (apt: string, from: number, to?: number, exempt = false): Incident => ({
  id: `c:${apt}:${from}`,
  kind: 'apartment_cold',
  subjectType: 'apartment',
  subjectId: apt,
  apartmentId: apt,
  status: to ? 'resolved' : 'open',
  startTs: from,
  ...(to ? { endTs: to } : {}),
  severity: 'major',
  cause: 'station',
  evidence: {},
  exempt,
});

describe('KPIs', () => {
  const apartmentStation = new Map([
    ['a1', 's1'],
    ['a2', 's1'],
    ['a3', 's2'],
  ]);
  const stationOffice = new Map([
    ['s1', 'o1'],
    ['s2', 'o2'],
  ]);

  /** The KPIs of the window [from, to) over these three apartments, with the default policy. */
  const kpis = (from: number, to: number, { orders = [], coldIncidents = [] }: { orders?: Order[]; coldIncidents?: Incident[] }) =>
    computeKpis({ from, to, orders, apartmentStation, stationOffice, coldIncidents }, defaultPolicy);

  it('compliance in apartment-hours by station, office and city; N3-exempt shortfalls are recorded and excused', () => {
    const k = kpis(T0, T0 + 10 * HOUR_MS, {
      coldIncidents: [cold('a1', T0 - HOUR_MS, T0 + 2 * HOUR_MS), cold('a3', T0 + 5 * HOUR_MS), cold('a2', T0, T0 + 5 * HOUR_MS, true)],
    });
    expect(k.compliance.byStation).toEqual([
      {
        id: 's1',
        apartments: 2,
        apartmentHours: 20,
        coldApartmentHours: 2,
        exemptColdApartmentHours: 5,
        compliance: 0.9,
        complianceWithExempt: 0.65,
      },
      {
        id: 's2',
        apartments: 1,
        apartmentHours: 10,
        coldApartmentHours: 5,
        exemptColdApartmentHours: 0,
        compliance: 0.5,
        complianceWithExempt: 0.5,
      },
    ]);
    expect(k.compliance.byOffice.map((r) => r.id)).toEqual(['o1', 'o2']);
    expect(k.compliance.city).toMatchObject({ apartments: 3, apartmentHours: 30, coldApartmentHours: 7 });
  });

  it('counts each order once in callback rate (N22) and satisfaction (N7), with medians', () => {
    const orders = [
      handled('called-back-and-closed', [10, 40, 120], 'station', { callbackAt: T0 + 3 * HOUR_MS, satisfaction: 5 }),
      handled('resolved-no-callback', [20, 60, 240], 'in_home'),
      base('open', {
        status: 'dispatched',
        issuedAt: T0,
        escalations: [{ level: 'station_head', at: T0 + 24 * HOUR_MS, afterHours: 24, notified: [] }],
      }),
      base('measure', { source: 'measurement', status: 'closed', resolvedAt: T0 + HOUR_MS, cause: 'building' }),
    ];
    const k = kpis(T0, T0 + 48 * HOUR_MS, { orders });
    expect(k.callback).toEqual({ resolved: 2, calledBack: 1, rate: 0.5, target: 0.9 });
    expect(k.satisfaction).toEqual({ rated: 1, satisfied: 1, rate: 1, target: 0.98 });
    expect(k.medianMinutes).toEqual({ answer: 15, onSite: 50, restore: 180 });
    expect(k.escalationsByLevel).toEqual({ station_head: 1 });
    expect(k.orders.byCause).toEqual({ station: 1, in_home: 1, building: 1 });
    expect(k.orders.bySource).toEqual({ complaint: 3, measurement: 1 });
  });

  it('N1: only in-season hours count — a window across the season’s start counts from 15 Nov, and out of season nothing is "compliant"', () => {
    const nov14 = Date.UTC(2026, 10, 13, 16); // 14 Nov 00:00 local (UTC+8)
    const k = kpis(nov14, nov14 + 48 * HOUR_MS, { coldIncidents: [cold('a1', nov14, nov14 + 30 * HOUR_MS)] });
    expect(k.compliance.city).toMatchObject({ apartments: 3, apartmentHours: 72, coldApartmentHours: 6 }); // 24 in-season hours × 3; cold 00:00–06:00 on 15 Nov
    const july = kpis(Date.UTC(2026, 6, 1), Date.UTC(2026, 6, 2), {});
    expect(july.compliance.city.compliance).toBeNull();
  });

  it('N22: the callback rate counts repair orders resolved in the window, whenever received', () => {
    const old = base('received-before', {
      receivedAt: T0 - 48 * HOUR_MS,
      status: 'closed',
      resolvedAt: T0 + HOUR_MS,
      callbackAt: T0 + 2 * HOUR_MS,
      cause: 'station',
    });
    const later = base('resolved-after', { status: 'resolved', resolvedAt: T0 + 50 * HOUR_MS, cause: 'station' });
    const k = kpis(T0, T0 + 24 * HOUR_MS, { orders: [old, later] });
    expect(k.callback).toMatchObject({ resolved: 1, calledBack: 1, rate: 1 });
  });

  it('median of even and odd lists', () => {
    expect(median([])).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
