import { describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../clock.ts';
import { HeatError } from '../errors.ts';
import { applyAction, callbackAllowedAt, nextCallbackTime, orderView, slaDeadlines, tickOrder, type Order } from './order.ts';
import { T0, newOrder, policy, resolveAt } from './order.fixture.ts';

const local = (h: number, m = 0) => Date.UTC(2026, 11, 1, h - 8, m);

describe('N12 callback hours', () => {
  it.each([
    [6, 59, false],
    [7, 0, true],
    [11, 29, true],
    [11, 30, false],
    [13, 29, false],
    [13, 30, true],
    [17, 30, false],
    [18, 59, false],
    [19, 0, true],
    [21, 59, true],
    [22, 0, false],
  ])('%d:%d local → %s', (h, m, ok) => expect(callbackAllowedAt(local(h, m), policy)).toBe(ok));

  it('reschedules to the next allowed minute, across midnight', () => {
    expect(nextCallbackTime(local(12, 0), policy)).toBe(local(13, 30));
    expect(nextCallbackTime(local(22, 30), policy)).toBe(local(31, 0)); // 07:00 next day
  });
});

describe('N12 scheduling a callback', () => {
  const resolved = (): Order => {
    let o = applyAction(newOrder(), { type: 'dispatch' }, 'desk', T0, policy);
    o = applyAction(o, { type: 'accept' }, 'w', T0, policy);
    o = applyAction(o, { type: 'arrive' }, 'w', T0, policy);
    return resolveAt(o, T0);
  };
  it('books the next allowed minute, or refuses a time inside quiet hours', () => {
    expect(applyAction(resolved(), { type: 'schedule_callback' }, 'desk', local(12, 10), policy).callbackDueAt).toBe(local(13, 30));
    expect(() => applyAction(resolved(), { type: 'schedule_callback', at: local(23, 0) }, 'desk', local(14), policy)).toThrow(HeatError);
    expect(applyAction(resolved(), { type: 'schedule_callback', at: local(20, 0) }, 'desk', local(14), policy).callbackDueAt).toBe(
      local(20, 0),
    );
  });
});

describe('lifecycle', () => {
  it('walks new → … → closed and keeps every step in the history', () => {
    let o = newOrder();
    o = applyAction(o, { type: 'dispatch', assignee: 'w' }, 'desk', T0 + MINUTE_MS, policy);
    o = applyAction(o, { type: 'accept' }, 'w', T0 + 2 * MINUTE_MS, policy);
    o = applyAction(o, { type: 'arrive' }, 'w', T0 + 30 * MINUTE_MS, policy);
    o = resolveAt(o, T0 + HOUR_MS);
    o = applyAction(o, { type: 'callback', result: 'ok', satisfaction: 5 }, 'desk', T0 + 4 * HOUR_MS, policy); // 14:00 local
    o = applyAction(o, { type: 'close' }, 'desk', T0 + 4 * HOUR_MS, policy);
    expect(o.status).toBe('closed');
    expect(o.history.map((h) => h.to).filter(Boolean)).toEqual([
      'new',
      'dispatched',
      'accepted',
      'on_site',
      'resolved',
      'callback',
      'closed',
    ]);
    expect(o).toMatchObject({
      issuedAt: T0 + MINUTE_MS,
      answeredAt: T0 + 2 * MINUTE_MS,
      onSiteAt: T0 + 30 * MINUTE_MS,
      resolvedAt: T0 + HOUR_MS,
    });
  });

  it('refuses steps out of order with a coded error', () => {
    expect(() => applyAction(newOrder(), { type: 'arrive' }, 'w', T0, policy)).toThrow(HeatError);
    try {
      applyAction(newOrder(), { type: 'close' }, 'w', T0, policy);
    } catch (e) {
      expect((e as HeatError).code).toBe('HEAT_ERR_ORDER_TRANSITION');
    }
  });
});

describe('SLA and escalation clock', () => {
  it('N6/N8/N10 deadlines; no restore clock when the heat source is the cause', () => {
    const o = applyAction(newOrder(), { type: 'dispatch' }, 'desk', T0 + HOUR_MS, policy);
    expect(slaDeadlines(o, policy)).toEqual({ answer: T0 + 24 * HOUR_MS, on_site: T0 + 2 * HOUR_MS, restore: T0 + 24 * HOUR_MS });
    expect(slaDeadlines({ ...o, cause: 'heat_source' }, policy).restore).toBeUndefined();
  });

  it('N21: escalates at 24/48/72/96 h once each, all due steps at their own times after downtime', () => {
    const o = newOrder();
    expect(tickOrder(o, T0 + 24 * HOUR_MS - 1, policy).escalations).toEqual([]);
    const t = tickOrder(o, T0 + 73 * HOUR_MS, policy);
    expect(t.escalations.map((e) => [e.level, e.at])).toEqual([
      ['station_head', T0 + 24 * HOUR_MS],
      ['company_manager', T0 + 48 * HOUR_MS],
      ['deputy_gm', T0 + 72 * HOUR_MS],
    ]);
    const again = tickOrder(t.order, T0 + 97 * HOUR_MS, policy);
    expect(again.escalations.map((e) => e.level)).toEqual(['general_manager']);
    expect(tickOrder(again.order, T0 + 200 * HOUR_MS, policy).escalations).toEqual([]);
  });

  it('does not escalate a resolved order, and records a met deadline as no breach', () => {
    let o = applyAction(newOrder(), { type: 'dispatch' }, 'desk', T0, policy);
    o = applyAction(o, { type: 'accept' }, 'w', T0 + MINUTE_MS, policy);
    o = applyAction(o, { type: 'arrive' }, 'w', T0 + 50 * MINUTE_MS, policy);
    o = resolveAt(o, T0 + 2 * HOUR_MS);
    const t = tickOrder(o, T0 + 100 * HOUR_MS, policy);
    expect(t.escalations).toEqual([]);
    expect(t.breaches).toEqual([]);
  });
});

describe('N20 three views', () => {
  it('company has all; station drops the rating; team has the field work only', () => {
    const o = { ...newOrder(), satisfaction: 5, callbackResult: 'fine' };
    expect(orderView(o, 'company')).toBe(o);
    expect(orderView(o, 'station')).not.toHaveProperty('satisfaction');
    const team = orderView(o, 'team');
    expect(team).toMatchObject({ id: 'o1', content: 'cold' });
    expect(team).not.toHaveProperty('callbackResult');
    expect(team).not.toHaveProperty('history');
  });
});
