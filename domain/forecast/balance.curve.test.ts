/** Balancing diagnosis and curve advice on constructed inputs with a known answer. */
import { describe, expect, it } from 'vitest';
import { diagnoseBalance, type BalanceApartment } from './balance.diagnosis.ts';
import { adviseCurve } from './curve.advisor.ts';
import { defaultForecastOptions } from './forecast.options.ts';

/** A station of 3 buildings × 2 entrances × 6 floors × 2 units, warmer in the middle of buildings. */
function station(adjust: (a: BalanceApartment) => number): BalanceApartment[] {
  const out: BalanceApartment[] = [];
  let n = 0;
  for (let b = 1; b <= 3; b++)
    for (let e = 1; e <= 2; e++)
      for (let f = 1; f <= 6; f++)
        for (let u = 1; u <= 2; u++) {
          const exposure = (f === 1 || f === 6 ? -0.6 : 0) + -0.3; // every flat here is an end unit
          const jitter = (((n++ * 7919) % 11) - 5) * 0.05;
          const a: BalanceApartment = {
            apartmentId: `b${b}-${e}-${f}-${u}`,
            buildingId: `b${b}`,
            entrance: e,
            floor: f,
            floors: 6,
            endUnit: true,
            meanC: 20.5 + exposure + jitter,
            hours: 48,
          };
          out.push({ ...a, meanC: a.meanC + adjust(a) });
        }
  return out;
}
const o = { minEffectC: defaultForecastOptions.balanceMinEffectC, minZ: defaultForecastOptions.balanceMinZ };

describe('diagnoseBalance', () => {
  it('lists nothing for a balanced station: exposure is not a fault', () => {
    expect(
      diagnoseBalance(
        's',
        station(() => 0),
        o,
      ).items,
    ).toEqual([]);
  });

  it('ranks a cold riser first, with its evidence, and not its healthy sibling', () => {
    const d = diagnoseBalance(
      's',
      station((a) => (a.buildingId === 'b2' && a.entrance === 2 ? -2.5 : 0)),
      o,
    );
    expect(d.items[0]).toMatchObject({ kind: 'riser', id: 'b2#2', buildingId: 'b2', entrance: 2 });
    expect(d.items[0]!.effectC).toBeLessThan(-2);
    expect(d.items[0]!.evidence).toMatchObject({ apartments: 12, siblingRisers: 1 });
    expect(d.items.some((i) => i.id === 'b2#1')).toBe(false);
  });

  it('names a whole building when all its risers are cold, and a floor its riser does not explain', () => {
    const d = diagnoseBalance(
      's',
      station((a) => (a.buildingId === 'b3' ? -3 : a.buildingId === 'b1' && a.floor === 3 ? -2 : 0)),
      o,
    );
    expect(d.items.find((i) => i.kind === 'building')?.id).toBe('b3');
    expect(d.items.filter((i) => i.kind === 'riser')).toEqual([]);
    expect(d.items.find((i) => i.kind === 'floor')?.id).toBe('b1@3');
  });
});

describe('adviseCurve', () => {
  const traj = (baseC: number, H = 24) => ({
    meanC: new Float64Array(H).fill(baseC),
    sigmaC: new Float64Array(H).fill(0.3),
    supplySens: new Float64Array(H).fill(0.3),
  });

  it('trims an overheated station to the lowest offset that keeps the coldest 10 % at ≥ 18.5 °C', () => {
    const ts = Array.from({ length: 20 }, (_, i) => traj(20.5 + i * 0.2));
    const a = adviseCurve('s', 0, ts, 0, defaultForecastOptions);
    expect(a.status).toBe('advice');
    // The 10 % quantile starts at ≈ 20.9 °C; each °C of supply moves it 0.3 °C: ≈ −8 °C, the search's limit.
    expect(a.offsetC).toBeLessThan(0);
    expect(a.coldestAdvisedC).toBeGreaterThanOrEqual(18.5);
    expect(a.meanAdvisedC).toBeLessThan(a.meanNowC);
    expect(a.estimatedEnergyChangePct).toBeCloseTo(6 * (a.meanAdvisedC - a.meanNowC), 1);
  });

  it('raises the curve when the coldest flats would fall short, and says when even the limit is not enough', () => {
    const up = adviseCurve(
      's',
      0,
      Array.from({ length: 10 }, () => traj(18)),
      0,
      defaultForecastOptions,
    );
    expect(up.offsetC).toBeCloseTo(2, 1); // 0.5 °C short / 0.3 per °C → 1.67, on the 0.5 °C grid: 2
    expect(up.estimatedEnergyChangePct).toBeGreaterThan(0);
    const stuck = adviseCurve(
      's',
      0,
      Array.from({ length: 10 }, () => traj(10)),
      0,
      defaultForecastOptions,
    );
    expect(stuck.targetUnreachable).toBe(true);
    expect(stuck.offsetC).toBe(defaultForecastOptions.advisorMaxUpC);
  });

  it('gives no advice on too few fitted apartments', () => {
    const a = adviseCurve('s', 0, [traj(20)], 12, defaultForecastOptions);
    expect(a).toMatchObject({ status: 'insufficient_data', offsetC: 0, apartmentsWithoutModel: 12 });
  });
});
