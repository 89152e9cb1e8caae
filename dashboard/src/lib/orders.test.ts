import { describe, expect, it } from 'vitest';
import type { FullOrder as Order } from './api.ts';
import { defaultPolicy } from '../../../domain/policy.ts';
import { byStatus, escalationOf, nextDeadline, orderContent, predictionOutcome } from './orders.ts';

const H = 3_600_000;
const order = (o: Partial<Order>): Order => ({
  id: 'o',
  number: 'N',
  source: 'proactive',
  channel: 'system',
  status: 'new',
  subjectType: 'station',
  apartments: [],
  incidentIds: [],
  receivedAt: 0,
  receiver: 'system',
  content: '',
  notHome: [],
  escalations: [],
  slaBreaches: [],
  history: [],
  ...o,
});

describe('order board helpers', () => {
  it('counts down to the earliest unmet SLA: answer (N10) and restore (N8), then on-site (N6) once issued', () => {
    const p = defaultPolicy;
    expect(nextDeadline(order({}), p)).toEqual({ kind: 'answer', dueAt: p.service.answerWithinHours * H }); // N10 = N8 = 24 h: answer listed first
    const issued = order({ status: 'dispatched', issuedAt: 10 * H, answeredAt: 11 * H });
    expect(nextDeadline(issued, p)).toEqual({ kind: 'on_site', dueAt: 10 * H + p.service.onSiteWithinMin * 60_000 }); // N6
  });

  it('N6: with an agreed appointment the on-site clock is the appointment, as the domain says (slaDeadlines)', () => {
    const p = defaultPolicy;
    const booked = order({ status: 'accepted', issuedAt: 10 * H, answeredAt: 11 * H, appointmentAt: 30 * H, source: 'measurement' });
    expect(nextDeadline(booked, p)).toEqual({ kind: 'on_site', dueAt: 30 * H });
    // No policy from the API → no deadline rather than another city's numbers.
    expect(nextDeadline(booked, undefined)).toBeUndefined();
  });

  it('stops the clock for closed orders and for met deadlines', () => {
    expect(nextDeadline(order({ status: 'closed' }), defaultPolicy)).toBeUndefined();
    expect(
      nextDeadline(order({ status: 'resolved', answeredAt: 1, resolvedAt: 2, issuedAt: 0, onSiteAt: 1 }), defaultPolicy),
    ).toBeUndefined();
  });

  it('shows the last escalation level (N21) and groups by status', () => {
    expect(
      escalationOf(
        order({
          escalations: [
            { level: 'station_head', at: 24 * H, afterHours: 24, notified: [] },
            { level: 'company_manager', at: 48 * H, afterHours: 48, notified: [] },
          ],
        }),
      ),
    ).toBe('company_manager');
    const g = byStatus([order({ id: 'b', receivedAt: 2 }), order({ id: 'a', receivedAt: 1 }), order({ id: 'c', status: 'closed' })]);
    expect(g.get('new')!.map((o) => o.id)).toEqual(['a', 'b']);
    expect(g.get('closed')).toHaveLength(1);
  });
});

describe("order content in the reader's language (issue #20)", () => {
  const T = Date.UTC(2026, 11, 2, 0, 0);
  const time = (ms: number) => new Date(ms).toISOString();
  const proactive = order({
    content: '系统监测发现：住户室温低于标准，自12-02 08:00起。初步判断：户内暖气片或阀门的问题。请尽快派单处理，并电话告知受影响的用户。',
    contentText: { key: 'proactive', params: { kind: 'apartment_cold', cause: 'in_home', sinceAt: T } },
  });

  it('renders a platform-written text from its stored key: English for English readers, Chinese for Chinese ones', () => {
    expect(orderContent(proactive, 'en', time)).toBe(
      `Monitoring found a home below the heating standard since ${time(T)}. First assessment: a problem with the radiators or valves in the home. Please dispatch it soon and phone the residents affected.`,
    );
    expect(orderContent(proactive, 'zh-CN', time)).toContain('住户室温低于标准');
    expect(orderContent(proactive, 'en', time)).not.toMatch(/[\u4e00-\u9fff]/);
  });

  it("keeps old orders readable: no key (written before keys, or a person's own words) or a key this dashboard does not know shows the stored text", () => {
    const old = order({ content: '系统监测发现：住户室温低于标准。' });
    expect(orderContent(old, 'en', time)).toBe('系统监测发现：住户室温低于标准。');
    expect(orderContent(order({ content: 'Radiator cold in the bedroom' }), 'zh-CN', time)).toBe('Radiator cold in the bedroom');
    expect(orderContent({ ...proactive, contentText: { key: 'newer', params: {} } }, 'en', time)).toBe(proactive.content);
  });

  it('tells why a predicted order was withdrawn, in either language', () => {
    const o = order({
      prediction: { incidentId: 'p', state: 'avoided', avoidedAt: T, outcome: { key: 'prediction_avoided', params: { untilAt: T } } },
    });
    expect(predictionOutcome(o, 'en', time)).toContain(`until ${time(T)}. The system withdrew this proactive order`);
    expect(predictionOutcome(o, 'zh-CN', time)).toContain('系统已自动撤销这张主动工单');
    expect(predictionOutcome(order({}), 'en', time)).toBeUndefined();
  });
});
