/**
 * Issue #20: an order opened from a predicted_cold and the N21 ladder. While only predicted
 * (the resident is not cold yet) it does not escalate and has no N8 restore or N10 answer
 * clock; N6's on-site clock of a booked visit still runs. Confirmed by a real cold incident, it
 * escalates at 24/48/72/96 h from the confirmation (N21), like an order opened from that incident.
 */
import { describe, expect, it } from 'vitest';
import { HOUR_MS, MINUTE_MS } from '../clock.ts';
import { applyAction, type Order } from './order.ts';
import { T0, newOrder, policy } from './order.fixture.ts';
import { faultClockFrom, slaDeadlines, tickOrder } from './sla.ts';

const predicted = (): Order =>
  newOrder('proactive', {
    channel: 'system',
    receiver: 'system',
    content: '系统预测',
    prediction: { incidentId: 'predicted_cold:a1:1', state: 'predicted' },
  });
const confirmAt = (o: Order, at: number): Order => ({
  ...o,
  prediction: { ...o.prediction!, state: 'confirmed', confirmedBy: 'apartment_cold:a1:2', confirmedAt: at },
});
const told = () => [{ personId: 'p1', name: '所长', role: 'station_head' }];

describe('N21 on a predicted order', () => {
  it('does not escalate while only predicted, however long it stays open (no repair to count yet)', () => {
    const o = predicted();
    expect(faultClockFrom(o)).toBeUndefined();
    const t = tickOrder(o, T0 + 120 * HOUR_MS, policy, told);
    expect(t.escalations).toEqual([]); // N21
    expect(t.breaches).toEqual([]);
    const dl = slaDeadlines(o, policy);
    expect(dl.restore).toBeUndefined(); // N8: nothing to restore yet
    expect(dl.answer).toBeUndefined(); // N10: nobody asked
  });

  it("keeps N6's on-site clock of a dispatched check", () => {
    const o = applyAction(predicted(), { type: 'dispatch' }, 'desk', T0, policy);
    expect(slaDeadlines(o, policy).on_site).toBe(T0 + policy.service.onSiteWithinMin * MINUTE_MS);
    expect(tickOrder(o, T0 + 2 * HOUR_MS, policy).breaches.map((b) => b.kind)).toEqual(['on_site']);
  });

  it('confirmed: escalates at 24/48/72/96 h from the confirmation, exactly like a repair order opened then', () => {
    const confirmedAt = T0 + 10 * HOUR_MS;
    const o = confirmAt(predicted(), confirmedAt);
    expect(faultClockFrom(o)).toBe(confirmedAt);
    // 24 h after it was received, but only 14 h after the fault: nothing yet.
    expect(tickOrder(o, T0 + 24 * HOUR_MS, policy, told).escalations).toEqual([]);
    const t = tickOrder(o, confirmedAt + 96 * HOUR_MS, policy, told);
    expect(t.escalations.map((e) => [e.level, e.at - confirmedAt])).toEqual([
      ['station_head', 24 * HOUR_MS], // N21
      ['company_manager', 48 * HOUR_MS], // N21
      ['deputy_gm', 72 * HOUR_MS], // N21
      ['general_manager', 96 * HOUR_MS], // N21
    ]);
    // The same ladder as a proactive order received at the confirmation.
    const normal = { ...o, prediction: undefined, receivedAt: confirmedAt };
    expect(tickOrder(normal, confirmedAt + 96 * HOUR_MS, policy, told).escalations).toEqual(t.escalations);
    expect(slaDeadlines(o, policy).restore).toBe(confirmedAt + policy.service.restoreWithinHours * HOUR_MS); // N8
  });

  it('avoided: no clock starts', () => {
    const o: Order = { ...predicted(), prediction: { incidentId: 'predicted_cold:a1:1', state: 'avoided', avoidedAt: T0 + 30 * HOUR_MS } };
    expect(tickOrder(o, T0 + 100 * HOUR_MS, policy, told).escalations).toEqual([]);
  });

  it('an order without a prediction keeps counting from when it was received', () => {
    const o = { ...predicted(), prediction: undefined };
    expect(faultClockFrom(o)).toBe(T0);
    expect(tickOrder(o, T0 + 24 * HOUR_MS, policy, told).escalations.map((e) => e.level)).toEqual(['station_head']);
  });
});
