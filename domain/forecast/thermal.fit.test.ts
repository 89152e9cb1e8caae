/** The online fit recovers known parameters of a first-order response from noisy hourly data. */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../random.ts';
import { rollForward, ThermalFit } from './thermal.fit.ts';

/** Raw-coordinate truth: T[k] = α·T[k−1] + β·u[k] + γ·O[k] + c. */
function synthetic(hours: number, p: { alpha: number; beta: number; gamma: number; c: number }, noiseC: number, seed: number) {
  const rnd = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(1e-12, rnd()))) * Math.cos(2 * Math.PI * rnd());
  const rows: { prev: number; u: number; o: number; T: number }[] = [];
  let T = 20;
  let walk = 0;
  let opOffset = 0;
  for (let k = 0; k < hours; k++) {
    walk += gauss() * 0.4;
    walk *= 0.98;
    const o = -2 + 4 * Math.sin((2 * Math.PI * k) / 24) + walk;
    // An operator's occasional curve changes and the curve's clamp keep supply and outdoor from being collinear.
    if (k % 97 === 0) opOffset = (rnd() - 0.5) * 8;
    const u = Math.min(60, Math.max(45, 50 - 1.2 * o)) + opOffset;
    const next = p.alpha * T + p.beta * u + p.gamma * o + p.c + gauss() * noiseC;
    rows.push({ prev: T, u, o, T: next });
    T = next;
  }
  return rows;
}

describe('ThermalFit (RLS on a first-order RC model)', () => {
  const truth = { alpha: 0.88, beta: 0.045, gamma: 0.012, c: 0.05 };

  it('recovers α, β, γ, τ and the supply gain within 10 %', () => {
    const fit = new ThermalFit(0.999, 0.5);
    for (const r of synthetic(1500, truth, 0.05, 42)) fit.update(r.prev, r.u, r.o, r.T);
    const s = fit.summary(36);
    expect(s.status).toBe('ready');
    const within = (got: number, want: number) => expect(Math.abs(got - want) / Math.abs(want)).toBeLessThan(0.1);
    within(s.alpha, truth.alpha);
    within(s.beta, truth.beta);
    within(s.gamma, truth.gamma);
    within(s.tauH, -1 / Math.log(truth.alpha));
    within(s.supplyGain, truth.beta / (1 - truth.alpha));
    // The fit error it keeps is the noise it was given.
    expect(s.rmseC).toBeGreaterThan(0.04);
    expect(s.rmseC).toBeLessThan(0.07);
  });

  it('says "insufficient data" before it has enough hours', () => {
    const fit = new ThermalFit(0.999, 0.5);
    for (const r of synthetic(20, truth, 0.05, 1)) fit.update(r.prev, r.u, r.o, r.T);
    const s = fit.summary(36);
    expect(s.status).toBe('insufficient_data');
    expect(s.hours).toBe(20);
    expect(s.neededHours).toBe(36);
  });

  it('ignores non-finite inputs', () => {
    const fit = new ThermalFit(0.999, 0.5);
    fit.update(Number.NaN, 50, 0, 20);
    fit.update(20, 50, Number.POSITIVE_INFINITY, 20);
    expect(fit.hours).toBe(0);
  });

  it('forecasts the true trajectory and its uncertainty grows with lead time', () => {
    const fit = new ThermalFit(0.999, 0.5);
    const rows = synthetic(1200, truth, 0.05, 7);
    for (const r of rows) fit.update(r.prev, r.u, r.o, r.T);
    // Compared with the noiseless truth: no disturbance carried from the last noisy hours.
    fit.gap();
    // Roll 12 h forward at a constant supply and outdoor: compare with the noiseless truth.
    const H = 12;
    const supply = new Float64Array(H).fill(52);
    const outdoor = new Float64Array(H).fill(-3);
    const t = rollForward(fit, 20, supply, outdoor, new Float64Array(H).fill(1), new Float64Array(H).fill(-1.2), 1);
    let T = 20;
    for (let k = 0; k < H; k++) {
      T = truth.alpha * T + truth.beta * 52 + truth.gamma * -3 + truth.c;
      expect(Math.abs(t.meanC[k]! - T)).toBeLessThan(0.15);
    }
    for (let k = 1; k < H; k++) expect(t.sigmaC[k]!).toBeGreaterThan(t.sigmaC[k - 1]!);
    // A sustained supply offset moves the indoor temperature by ≈ β/(1−α)·(1−α^k).
    const want = (truth.beta / (1 - truth.alpha)) * (1 - truth.alpha ** H);
    expect(Math.abs(t.supplySens[H - 1]! - want) / want).toBeLessThan(0.1);
  });
});
