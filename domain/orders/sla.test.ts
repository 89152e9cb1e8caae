/** N6 from the appointment, N21 to named people for every source. */
import { describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../clock.ts';
import { HeatError } from '../errors.ts';
import { applyAction } from './order.ts';
import { T0, newOrder, policy } from './order.fixture.ts';
import { arriveByAt, slaDeadlines, tickOrder, type WhoIsTold } from './sla.ts';

const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as HeatError).code;
  }
  return undefined;
};

describe('N6 on-site clock', () => {
  it('without an appointment: one hour after dispatch', () => {
    const o = applyAction(newOrder(), { type: 'dispatch' }, 'desk', T0, policy);
    expect(slaDeadlines(o, policy).on_site).toBe(T0 + policy.service.onSiteWithinMin * MINUTE_MS);
  });

  it('appointment tomorrow: the clock runs to the agreed time, not one hour after dispatch', () => {
    const tomorrow = T0 + 24 * HOUR_MS;
    const o = applyAction(newOrder('complaint', { appointmentAt: tomorrow }), { type: 'dispatch' }, 'desk', T0, policy);
    expect(slaDeadlines(o, policy).on_site).toBe(tomorrow);
    expect(tickOrder(o, T0 + 2 * HOUR_MS, policy).breaches).toEqual([]); // 2 h after dispatch: no N6 breach
    expect(tickOrder(o, tomorrow, policy).breaches.map((b) => b.kind)).toContain('on_site');
    // seed ch.2 §13: arrive 10 minutes before the agreed time.
    expect(arriveByAt(o, policy)).toBe(tomorrow - policy.service.arriveBeforeAppointmentMin * MINUTE_MS);
  });

  it('the station books a visit at accept; a booking in the past is refused', () => {
    const o = applyAction(newOrder(), { type: 'dispatch' }, 'desk', T0, policy);
    expect(code(() => applyAction(o, { type: 'accept', appointmentAt: T0 - MINUTE_MS }, 'w', T0 + MINUTE_MS, policy))).toBe(
      'HEAT_ERR_APPOINTMENT_PAST',
    );
    const a = applyAction(o, { type: 'accept', appointmentAt: T0 + 5 * HOUR_MS }, 'w', T0 + MINUTE_MS, policy);
    expect(slaDeadlines(a, policy).on_site).toBe(T0 + 5 * HOUR_MS);
  });

  it('N25: a not-home re-appointment in the past is refused; a future one moves the clock', () => {
    let o = applyAction(newOrder(), { type: 'dispatch' }, 'desk', T0, policy);
    o = applyAction(o, { type: 'accept', appointmentAt: T0 + HOUR_MS }, 'w', T0, policy);
    const now = T0 + HOUR_MS + 20 * MINUTE_MS;
    expect(code(() => applyAction(o, { type: 'not_home', note: 'note left with phone', newAppointmentAt: T0 }, 'w', now, policy))).toBe(
      'HEAT_ERR_APPOINTMENT_PAST',
    );
    expect(code(() => applyAction(o, { type: 'not_home', note: 'x', newAppointmentAt: now }, 'w', now, policy))).toBe(
      'HEAT_ERR_APPOINTMENT_PAST',
    );
    const next = T0 + 26 * HOUR_MS;
    const n = applyAction(
      o,
      { type: 'not_home', note: 'note left with Wang 138…, back tomorrow', newAppointmentAt: next },
      'w',
      now,
      policy,
    );
    expect(n.status).toBe('accepted');
    expect(n.notHome).toEqual([{ at: now, note: 'note left with Wang 138…, back tomorrow', newAppointmentAt: next, kind: 'not_home' }]);
    expect(slaDeadlines(n, policy).on_site).toBe(next);
  });

  it('seed ch.2 §13: a late worker phones, apologises and re-books; the clock moves to the new time', () => {
    let o = applyAction(newOrder(), { type: 'dispatch' }, 'desk', T0, policy);
    o = applyAction(o, { type: 'accept', appointmentAt: T0 + HOUR_MS }, 'w', T0, policy);
    const r = applyAction(
      o,
      { type: 'reschedule', note: 'phoned, apologised: traffic', newAppointmentAt: T0 + 3 * HOUR_MS },
      'w',
      T0 + 50 * MINUTE_MS,
      policy,
    );
    expect(slaDeadlines(r, policy).on_site).toBe(T0 + 3 * HOUR_MS);
    expect(r.notHome.at(-1)?.kind).toBe('reschedule');
  });
});

describe('N21 escalation reaches named people, every source', () => {
  const who: WhoIsTold = (level, o) =>
    level === 'station_head'
      ? [{ personId: `head-${o.officeId}`, name: `Head of ${o.officeId}`, role: 'station_head' }]
      : [{ personId: level, name: level, role: level }];

  it('the 24 h step tells the head of the order’s own office, recorded on the order', () => {
    const t = tickOrder(newOrder(), T0 + 24 * HOUR_MS, policy, who);
    expect(t.escalations).toEqual([
      {
        level: 'station_head',
        at: T0 + 24 * HOUR_MS,
        afterHours: 24,
        notified: [{ personId: 'head-o1', name: 'Head of o1', role: 'station_head' }],
      },
    ]);
    expect(t.order.history.at(-1)?.note).toMatch(/Head of o1/);
  });

  it('48/72/96 h reach three distinct rungs: company manager, deputy GM, general manager', () => {
    const t = tickOrder(newOrder(), T0 + 96 * HOUR_MS, policy, who);
    expect(t.escalations.map((e) => e.level)).toEqual(['station_head', 'company_manager', 'deputy_gm', 'general_manager']);
    expect(new Set(t.escalations.map((e) => e.notified[0]!.personId)).size).toBe(4);
  });

  it.each(['measurement', 'outage_followup'] as const)('a %s order left unhandled escalates too', (source) => {
    expect(tickOrder(newOrder(source), T0 + 48 * HOUR_MS, policy, who).escalations.map((e) => e.level)).toEqual([
      'station_head',
      'company_manager',
    ]);
  });

  it('nobody holding a rung is recorded as such, not skipped', () => {
    const t = tickOrder(newOrder(), T0 + 24 * HOUR_MS, policy, () => []);
    expect(t.escalations[0]!.notified).toEqual([]);
    expect(t.order.history.at(-1)?.note).toMatch(/no station_head on record/);
  });
});
