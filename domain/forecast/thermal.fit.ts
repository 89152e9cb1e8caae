/**
 * Per-apartment thermal response, fitted online (issue #20). A first-order RC model of the
 * building mass, discretised on the hour, is a regression on lagged inputs:
 *
 *   T[k] = α·T[k−1] + β·u[k] + γ·O[k] + δ
 *
 * T the apartment's hourly mean indoor temperature, u the effective radiator supply
 * (the station's secondary supply, mixed towards T by the share of normal circulation: no flow,
 * no heat), O the outdoor temperature. RC meaning: τ = −1 h / ln α, and the steady-state
 * gains β/(1−α) (indoor °C per °C of supply) and γ/(1−α). Recursive least squares with
 * forgetting refits on every closed hour; the fit error (RMS of one-step residuals) is kept
 * beside the parameters, and a model with too few hours says so instead of forecasting.
 *
 * Inputs are centred on fixed round numbers (20 °C indoor, 50 °C supply) so the prior and the
 * covariance are well scaled; these are not anybody's true parameters.
 */
const N = 4;
const T0 = 20;
const U0 = 50;

/** Weak physical prior: τ ≈ 7 h, supply gain 0.3, outdoor gain 0.1 (typical for radiator-heated masonry). */
const PRIOR_THETA = [0.87, 0.04, 0.013, 0.03] as const;
/** Prior variances (RLS P₀); loose enough that a few days of data dominate. */
const PRIOR_VAR = [0.05, 0.01, 0.01, 1] as const;

export type FitStatus = 'ready' | 'insufficient_data';

export interface ApartmentFit {
  readonly status: FitStatus;
  readonly hours: number;
  readonly neededHours: number;
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
  readonly delta: number;
  /** RC time constant, hours. */
  readonly tauH: number;
  /** Steady-state indoor change per °C of supply, °C/°C. */
  readonly supplyGain: number;
  /** RMS of one-step (1 h) residuals, °C. */
  readonly rmseC: number;
  /** Current disturbance estimate (recent mean residual), °C per hour. */
  readonly disturbanceC: number;
}

export class ThermalFit {
  readonly theta = Float64Array.from(PRIOR_THETA);
  readonly P = new Float64Array(N * N);
  hours = 0;
  #sse = 0;
  #w = 0;
  disturbance = 0;
  readonly #x = new Float64Array(N);
  readonly #Px = new Float64Array(N);

  constructor(
    private readonly forgetting: number,
    private readonly disturbanceGain: number,
  ) {
    for (let i = 0; i < N; i++) this.P[i * N + i] = PRIOR_VAR[i]!;
  }

  /** One-step prediction of T[k] from T[k−1] and this hour's inputs (without disturbance). */
  predictOne(prevT: number, u: number, outdoor: number): number {
    const t = this.theta;
    return T0 + t[0]! * (prevT - T0) + t[1]! * (u - U0) + t[2]! * outdoor + t[3]!;
  }

  /** Fit one closed hour. Non-finite inputs are ignored. */
  update(prevT: number, u: number, outdoor: number, T: number): void {
    if (!Number.isFinite(prevT) || !Number.isFinite(u) || !Number.isFinite(outdoor) || !Number.isFinite(T)) return;
    const x = this.#x;
    x[0] = prevT - T0;
    x[1] = u - U0;
    x[2] = outdoor;
    x[3] = 1;
    const P = this.P;
    const Px = this.#Px;
    let denom = this.forgetting;
    for (let i = 0; i < N; i++) {
      let s = 0;
      for (let j = 0; j < N; j++) s += P[i * N + j]! * x[j]!;
      Px[i] = s;
      denom += x[i]! * s;
    }
    const e = T - this.predictOne(prevT, u, outdoor);
    const th = this.theta;
    for (let i = 0; i < N; i++) th[i] = th[i]! + (Px[i]! / denom) * e;
    const lam = this.forgetting;
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) P[i * N + j] = (P[i * N + j]! - (Px[i]! * Px[j]!) / denom) / lam;
    // Keep α inside the stable range a heated room has (τ between ~1 h and ~8 days).
    if (th[0]! > 0.995) th[0] = 0.995;
    if (th[0]! < 0.3) th[0] = 0.3;
    this.#sse = this.#sse * lam + e * e;
    this.#w = this.#w * lam + 1;
    this.disturbance = this.disturbance + this.disturbanceGain * (e - this.disturbance);
    this.hours++;
  }

  /** A gap in the data: the disturbance estimate no longer describes the present. */
  gap(): void {
    this.disturbance = 0;
  }

  get rmseC(): number {
    return this.#w > 0 ? Math.sqrt(this.#sse / this.#w) : Number.NaN;
  }

  summary(minHours: number): ApartmentFit {
    const [alpha, beta, gamma, delta] = this.theta as unknown as [number, number, number, number];
    return {
      status: this.hours >= minHours ? 'ready' : 'insufficient_data',
      hours: this.hours,
      neededHours: minHours,
      alpha,
      beta,
      gamma,
      delta,
      tauH: -1 / Math.log(alpha),
      supplyGain: beta / (1 - alpha),
      rmseC: this.rmseC,
      disturbanceC: this.disturbance,
    };
  }

  toJSON(): { theta: number[]; P: number[]; hours: number; sse: number; w: number; d: number } {
    return { theta: [...this.theta], P: [...this.P], hours: this.hours, sse: this.#sse, w: this.#w, d: this.disturbance };
  }

  static fromJSON(j: ReturnType<ThermalFit['toJSON']>, forgetting: number, disturbanceGain: number): ThermalFit {
    const f = new ThermalFit(forgetting, disturbanceGain);
    f.theta.set(j.theta);
    f.P.set(j.P);
    f.hours = j.hours;
    f.#sse = j.sse;
    f.#w = j.w;
    f.disturbance = j.d;
    return f;
  }
}

/** Indoor trajectory and its standard deviation under given hourly inputs. */
export interface Trajectory {
  /** Predicted hourly mean indoor temperature, k = 1…H hours ahead, °C. */
  readonly meanC: Float64Array;
  readonly sigmaC: Float64Array;
  /** ∂T̂[k]/∂(supply offset): the response to a sustained change of the supply, °C/°C. */
  readonly supplySens: Float64Array;
}

/**
 * Roll the model forward from the latest hourly value. `supply[k]`, `outdoor[k]` for
 * k = 0…H−1 are hour k+1's inputs; `outdoorSigma[k]` the outdoor forecast error (°C);
 * `supplyPerOutdoor[k]` how the supply follows the outdoor value there (the heating curve's
 * slope), so a wrong weather forecast moves the supply too. `mix` is the circulation share
 * (1 = normal): the effective supply is mix·S + (1 − mix)·T.
 */
export function effectiveSupply(supply: number, mix: number, indoor: number): number {
  return mix * supply + (1 - mix) * indoor;
}

export function rollForward(
  fit: ThermalFit,
  lastT: number,
  supply: ArrayLike<number>,
  outdoor: ArrayLike<number>,
  outdoorSigma: ArrayLike<number>,
  supplyPerOutdoor: ArrayLike<number>,
  mix: number,
): Trajectory {
  const H = supply.length;
  const meanC = new Float64Array(H);
  const sigmaC = new Float64Array(H);
  const supplySens = new Float64Array(H);
  const [a, b, g] = fit.theta as unknown as [number, number, number];
  const rm = fit.rmseC;
  const e2 = Number.isFinite(rm) ? rm * rm : 0.25;
  const d = fit.disturbance;
  let T = lastT;
  let varNoise = 0;
  let sensO = 0;
  let sensS = 0;
  for (let k = 0; k < H; k++) {
    // The residual-driven disturbance stays for the horizon (offset-free forecasting).
    T = fit.predictOne(T, effectiveSupply(supply[k]!, mix, T), outdoor[k]!) + d;
    varNoise = a * a * varNoise + e2;
    // Outdoor forecast errors of neighbouring hours are strongly correlated: add them linearly.
    sensO = a * sensO + (b * mix * supplyPerOutdoor[k]! + g) * outdoorSigma[k]!;
    sensS = a * sensS + b * mix;
    meanC[k] = T;
    sigmaC[k] = Math.sqrt(varNoise + sensO * sensO);
    supplySens[k] = sensS;
  }
  return { meanC, sigmaC, supplySens };
}
