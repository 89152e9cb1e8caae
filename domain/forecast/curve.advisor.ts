/**
 * Heating-curve advisor (issue #20): per station, the secondary-supply offset that keeps the
 * coldest share of its monitored apartments at or above the target over the forecast while
 * trimming the overheated ones — the lowest offset that still meets the target. The
 * forecast is linear in a sustained supply offset (T̂(Δ) = T̂(0) + Δ·∂T̂/∂Δ per hour), so one
 * forecast per apartment serves every candidate. The energy change is an estimate from a rule
 * of thumb (≈ 6 % of heat per °C of indoor temperature), stated as such. The platform only
 * proposes: an engineer approves or dismisses, and nobody but the engineer touches a controller.
 */
import type { ForecastOptions } from './forecast.options.ts';
import type { Trajectory } from './thermal.fit.ts';

export interface CurveAdvice {
  readonly stationId: string;
  /** Forecast origin the advice is for, epoch ms. */
  readonly origin: number;
  readonly horizonH: number;
  readonly status: 'advice' | 'insufficient_data';
  /** Offset to add to the station's current supply setpoint, °C (negative: lower the curve). */
  readonly offsetC: number;
  readonly apartments: number;
  readonly apartmentsWithoutModel: number;
  readonly coldestShare: number;
  readonly targetC: number;
  /** Lowest hourly value of the coldest share's quantile over the horizon, without and with the offset, °C. */
  readonly coldestNowC: number;
  readonly coldestAdvisedC: number;
  /** Mean predicted indoor temperature over the horizon, without and with the offset, °C. */
  readonly meanNowC: number;
  readonly meanAdvisedC: number;
  /** Estimated heat-use change, % (≈ energyPctPerIndoorC × indoor change; an estimate). */
  readonly estimatedEnergyChangePct: number;
  /** True when even the largest raise leaves the coldest share below target (the curve is at its limit). */
  readonly targetUnreachable: boolean;
}

/** The q-quantile (0…1) of the first n values of xs (sorted in place). */
function quantile(xs: Float64Array, n: number, q: number): number {
  const v = xs.subarray(0, n).sort();
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return v[lo]! + (v[hi]! - v[lo]!) * (pos - lo);
}

export function adviseCurve(
  stationId: string,
  origin: number,
  trajectories: readonly Trajectory[],
  apartmentsWithoutModel: number,
  o: Pick<
    ForecastOptions,
    | 'advisorColdestShare'
    | 'advisorTargetC'
    | 'advisorMaxDownC'
    | 'advisorMaxUpC'
    | 'advisorStepC'
    | 'energyPctPerIndoorC'
    | 'advisorMinApartments'
  >,
): CurveAdvice {
  const n = trajectories.length;
  const H = n ? trajectories[0]!.meanC.length : 0;
  const base = {
    stationId,
    origin,
    horizonH: H,
    apartments: n,
    apartmentsWithoutModel,
    coldestShare: o.advisorColdestShare,
    targetC: o.advisorTargetC,
  };
  if (n < o.advisorMinApartments || H === 0) {
    return {
      ...base,
      status: 'insufficient_data',
      offsetC: 0,
      coldestNowC: Number.NaN,
      coldestAdvisedC: Number.NaN,
      meanNowC: Number.NaN,
      meanAdvisedC: Number.NaN,
      estimatedEnergyChangePct: 0,
      targetUnreachable: false,
    };
  }
  const buf = new Float64Array(n);
  const coldestAt = (offset: number): number => {
    let worst = Number.POSITIVE_INFINITY;
    for (let k = 0; k < H; k++) {
      for (let i = 0; i < n; i++) buf[i] = trajectories[i]!.meanC[k]! + offset * trajectories[i]!.supplySens[k]!;
      worst = Math.min(worst, quantile(buf, n, o.advisorColdestShare));
    }
    return worst;
  };
  const meanAt = (offset: number): number => {
    let s = 0;
    for (const t of trajectories) for (let k = 0; k < H; k++) s += t.meanC[k]! + offset * t.supplySens[k]!;
    return s / (n * H);
  };
  // The coldest quantile rises monotonically with the offset: the lowest offset that meets the target.
  let chosen = o.advisorMaxUpC;
  let reachable = false;
  for (let off = -o.advisorMaxDownC; off <= o.advisorMaxUpC + 1e-9; off += o.advisorStepC) {
    if (coldestAt(off) >= o.advisorTargetC) {
      chosen = Math.round(off * 10) / 10;
      reachable = true;
      break;
    }
  }
  const meanNowC = meanAt(0);
  const meanAdvisedC = meanAt(chosen);
  return {
    ...base,
    status: 'advice',
    offsetC: chosen,
    coldestNowC: coldestAt(0),
    coldestAdvisedC: coldestAt(chosen),
    meanNowC,
    meanAdvisedC,
    estimatedEnergyChangePct: Math.round(o.energyPctPerIndoorC * (meanAdvisedC - meanNowC) * 10) / 10,
    targetUnreachable: !reachable,
  };
}
