/**
 * The simulator's forecast error model (issue #20: "a forecast with realistic error, bias and
 * spread growing with lead time"), measured over many issues against a known truth: the error
 * grows with lead, its per-issue bias grows with lead, it is unbiased over many issues, and the
 * spread each hour states matches the error it actually has (a calibrated forecast, which the
 * cold-risk probabilities rely on).
 */
import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../domain/clock.ts';
import { validateForecast } from '../domain/forecast/weather.schema.ts';
import { forecastSpreadC, simulatedForecast } from './forecast.weather.ts';

const T0 = Date.UTC(2026, 11, 1, 0, 0, 0);
/** A truth with a day–night cycle and a slow drift, so errors are measured on moving weather. */
const truth = (ts: number) => -3 + 5 * Math.sin((2 * Math.PI * ts) / (24 * HOUR_MS)) + 2 * Math.sin((2 * Math.PI * ts) / (97 * HOUR_MS));
const LEADS = [0, 3, 6, 12, 24, 36, 48] as const;
const ISSUES = 1500;

/** Errors (forecast − truth) by lead over ISSUES hourly issues, and each issue's mean error over a lead window. */
function sample(): { err: Map<number, number[]>; meanErr: (from: number, to: number) => number[] } {
  const err = new Map<number, number[]>(LEADS.map((l) => [l, []]));
  const forecasts = Array.from({ length: ISSUES }, (_, k) =>
    simulatedForecast(truth, { city: 'beijing', issuedAt: T0 + k * HOUR_MS, hours: 48, seed: 7 }),
  );
  for (const f of forecasts)
    for (const l of LEADS) {
      const h = f.hours[l]!;
      err.get(l)!.push(h.outdoorTemp - truth(h.ts));
    }
  const meanErr = (from: number, to: number) =>
    forecasts.map((f) => {
      const hs = f.hours.slice(from, to + 1);
      return hs.reduce((s, h) => s + h.outdoorTemp - truth(h.ts), 0) / hs.length;
    });
  return { err, meanErr };
}

const rms = (xs: readonly number[]) => Math.sqrt(xs.reduce((s, x) => s + x * x, 0) / xs.length);
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: readonly number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};

describe('simulated weather forecast error', () => {
  const { err, meanErr } = sample();

  it('grows with lead time: about 0.3 °C at issue, ~1 °C at 6 h, 2–3 °C at 24 h, more at 48 h', () => {
    const r = LEADS.map((l) => rms(err.get(l)!));
    for (let i = 1; i < r.length; i++) expect(r[i]!).toBeGreaterThan(r[i - 1]!);
    expect(r[0]!).toBeLessThan(0.5);
    expect(r[LEADS.indexOf(6)]!).toBeGreaterThan(0.6);
    expect(r[LEADS.indexOf(6)]!).toBeLessThan(1.4);
    expect(r[LEADS.indexOf(24)]!).toBeGreaterThan(1.8);
    expect(r[LEADS.indexOf(24)]!).toBeLessThan(3.2);
    expect(r[LEADS.indexOf(48)]!).toBeGreaterThan(r[LEADS.indexOf(24)]! * 1.3);
  });

  it("states its own spread truthfully: each lead's stated spread is within 12 % of the error it has", () => {
    const f = simulatedForecast(truth, { city: 'beijing', issuedAt: T0, hours: 48, seed: 7 });
    for (const l of LEADS) {
      const stated = f.hours[l]!.spreadC!;
      expect(stated).toBeCloseTo(forecastSpreadC(l), 2);
      expect(rms(err.get(l)!) / stated).toBeGreaterThan(0.88);
      expect(rms(err.get(l)!) / stated).toBeLessThan(1.12);
    }
    // The stated spread grows hour by hour.
    for (let k = 1; k <= 48; k++) expect(f.hours[k]!.spreadC!).toBeGreaterThan(f.hours[k - 1]!.spreadC!);
  });

  it('has a per-issue bias that grows with lead (a front early or late), and none over many issues', () => {
    // The mean error of an issue over a window of leads is its bias there (the wandering part averages out).
    const nearBias = sd(meanErr(0, 3));
    const dayBias = sd(meanErr(21, 27));
    expect(dayBias).toBeGreaterThan(3 * nearBias);
    expect(dayBias).toBeGreaterThan(0.9);
    // Unbiased on average: no lead is systematically warm or cold (within 3 standard errors).
    for (const l of LEADS) expect(Math.abs(mean(err.get(l)!))).toBeLessThan((3 * sd(err.get(l)!)) / Math.sqrt(ISSUES / 24));
  });

  it('is a valid forecast on the wire, deterministic per seed and issue hour', () => {
    const a = simulatedForecast(truth, { city: 'beijing', issuedAt: T0 + 20 * 60_000, hours: 48, seed: 7 });
    expect(a.issuedAt).toBe(T0);
    expect(a.source).toBe('simulator');
    expect(a.hours).toHaveLength(49);
    expect(simulatedForecast(truth, { city: 'beijing', issuedAt: T0, hours: 48, seed: 7 })).toEqual(a);
    expect(simulatedForecast(truth, { city: 'beijing', issuedAt: T0, hours: 48, seed: 8 })).not.toEqual(a);
    const wire = JSON.parse(JSON.stringify({ ...a, issuedAt: new Date(a.issuedAt).toISOString() })) as unknown;
    const v = validateForecast(wire, { now: T0 + 30 * 60_000, maxFutureSkewMs: 5 * 60_000 });
    expect(v.ok).toBe(true);
  });
});
