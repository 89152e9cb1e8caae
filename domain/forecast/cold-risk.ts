/**
 * Cold risk of one forecast trajectory: the chance the apartment's hourly value falls below the
 * standard (N2) at some hour of the horizon, taken as the largest per-hour probability under a
 * normal forecast error (a lower bound of the union, exact when the hours move together, which
 * forecast errors of neighbouring hours nearly do).
 */
import type { Trajectory } from './thermal.fit.ts';

/** Standard normal CDF (Abramowitz–Stegun 7.1.26, error < 1.5e-7). */
export function normalCdf(z: number): number {
  const t = 1 / (1 + (0.3275911 * Math.abs(z)) / Math.SQRT2);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp((-z * z) / 2);
  return z >= 0 ? 0.5 * (1 + y) : 0.5 * (1 - y);
}

export interface ColdRisk {
  readonly probability: number;
  /** Index (0-based hours ahead − 1) of the first hour whose probability reaches ½, else of the most likely hour. */
  readonly firstBelowK: number;
  readonly minC: number;
  readonly minK: number;
  readonly sigmaAtMinC: number;
}

/** `extraSdC`: an error independent of the forecast's (the sensor's calibration), added in quadrature. */
export function coldRisk(t: Trajectory, standardC: number, fromK = 0, toK = t.meanC.length, extraSdC = 0): ColdRisk {
  const extra2 = extraSdC * extraSdC;
  let p = 0;
  let pk = fromK;
  let first = -1;
  let minC = Number.POSITIVE_INFINITY;
  let minK = fromK;
  for (let k = fromK; k < toK; k++) {
    const m = t.meanC[k]!;
    const s = Math.max(0.05, Math.sqrt(t.sigmaC[k]! * t.sigmaC[k]! + extra2));
    const q = normalCdf((standardC - m) / s);
    if (q > p) {
      p = q;
      pk = k;
    }
    if (first < 0 && q >= 0.5) first = k;
    if (m < minC) {
      minC = m;
      minK = k;
    }
  }
  return { probability: p, firstBelowK: first >= 0 ? first : pk, minC, minK, sigmaAtMinC: t.sigmaC[minK] ?? Number.NaN };
}
