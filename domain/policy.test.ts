import { describe, expect, it } from 'vitest';
import { defaultPolicy, policyForCity } from './policy.ts';

describe('heating policy', () => {
  it('holds the norms as defaults', () => {
    expect(defaultPolicy.season.start).toEqual({ month: 11, day: 15 }); // N1
    expect(defaultPolicy.season.end).toEqual({ month: 3, day: 20 }); // N1
    expect(defaultPolicy.comfort.standardC).toBe(18); // N2
    expect(defaultPolicy.service.onSiteWithinMin).toBe(60); // N6
    expect(defaultPolicy.service.outageNoticeHours).toBe(48); // N9
    expect(defaultPolicy.service.escalation.map((s) => s.afterHours)).toEqual([24, 48, 72, 96]); // N21
    expect(defaultPolicy.service.callbackRateTarget).toBe(0.9); // N22
    expect(defaultPolicy.service.satisfactionTarget).toBe(0.98); // N7
  });
  it('applies city overrides without touching the defaults', () => {
    const tj = policyForCity('tianjin');
    expect(tj.comfort.designOutdoorC).toBe(-7); // N3 Tianjin
    expect(tj.measurement.instrumentErrorC).toBe(0.3); // N31 Tianjin
    expect(tj.measurement.refundBands.map((b) => b.refundPct)).toEqual([10, 50, 100]); // N34 Tianjin
    expect(tj.comfort.standardC).toBe(18);
    expect(defaultPolicy.measurement.refundBands).toEqual([]);
    const hrb = policyForCity('harbin');
    expect(hrb.comfort.standardC).toBe(20); // N34 Heilongjiang standard
    expect(Object.isFrozen(hrb.comfort)).toBe(true);
  });
  it('takes one-off extensions (N1 decree)', () => {
    const p = policyForCity('beijing', { season: { extensions: [{ from: '2026-11-08', to: '2026-11-14', reason: 'cold snap' }] } });
    expect(p.season.extensions).toHaveLength(1);
    expect(p.season.start).toEqual({ month: 11, day: 15 });
  });
});
