/**
 * Defaults of the forecasting module, one object with units in the names (CONVENTIONS.md #6).
 * These are modelling choices, not norms: the standard itself (N2) and the heating curve
 * (heating-norms §D) come from HeatingPolicy.
 */
export interface ForecastOptions {
  /** Forecast horizon the cold-risk forecast looks at, hours (issue #20: 6–24 h). */
  readonly horizonH: number;
  /** Hours a fitted model needs before it forecasts (fewer: "insufficient data"). */
  readonly minFitHours: number;
  /** RLS forgetting factor per hourly sample: memory ≈ 1 / (1 − λ) hours (here ≈ 10 days). */
  readonly forgetting: number;
  /** Weight of the newest residual in the disturbance estimate (offset-free forecasting). */
  readonly disturbanceGain: number;
  /** A closed hour is fitted once the watermark is this far past its end, ms. */
  readonly hourGraceMs: number;
  /** Probability of falling below the standard within the horizon that opens a predicted_cold ("more likely than not"). */
  readonly openProbability: number;
  /** A predicted_cold whose expected crossing passed this long ago without a real incident is avoided, hours. */
  readonly avoidedAfterH: number;
  /** Curve advisor: share of coldest monitored apartments the target applies to. */
  readonly advisorColdestShare: number;
  /** Curve advisor: indoor target of that share over the forecast, °C (0.5 °C above N2's 18 °C). */
  readonly advisorTargetC: number;
  /** Curve advisor: offset search range and step, °C of secondary supply. */
  readonly advisorMaxDownC: number;
  readonly advisorMaxUpC: number;
  readonly advisorStepC: number;
  /** Rule of thumb stated to engineers as an estimate: heat use changes ≈ 6 % per °C of indoor temperature. */
  readonly energyPctPerIndoorC: number;
  /** Minimum ready apartment models before a station gets advice. */
  readonly advisorMinApartments: number;
  /** Balancing: effects smaller than this are not listed, °C. */
  readonly balanceMinEffectC: number;
  /** Balancing: robust z (effect / its standard error) an item needs to be listed. */
  readonly balanceMinZ: number;
  /** The near window, hours (issue #20 scores "below the standard within 6 h"). */
  readonly shortWindowH: number;
  /**
   * Probability of falling below the standard within the near window that opens a
   * predicted_cold too. Lower than `openProbability` on purpose: a proactive check of a flat that
   * then stays warm costs a visit or a call; a resident left cold costs an N2 shortfall and a
   * complaint. 0.3: about one proactive order in three may prove unneeded.
   */
  readonly shortOpenProbability: number;
  /** A live meter reading older than this does not describe the station now, min. */
  readonly liveMaxAgeMin: number;
  /** A station whose live circulation share moved by this much since its last forecast round is re-forecast at once (0–1). */
  readonly liveChangeMix: number;
  /** …or whose live supply offset against the curve moved by this much, °C. */
  readonly liveChangeOffsetC: number;
  /** Forecast spread used when no weather forecast covers an hour (persistence of the outdoor value), °C at 1 h, growing per hour. */
  readonly fallbackSpreadC: number;
  readonly fallbackSpreadPerHourC: number;
}

export const defaultForecastOptions: ForecastOptions = Object.freeze({
  horizonH: 24,
  minFitHours: 36,
  forgetting: 0.996,
  disturbanceGain: 0.5,
  hourGraceMs: 5 * 60_000,
  openProbability: 0.5,
  avoidedAfterH: 3,
  advisorColdestShare: 0.1,
  advisorTargetC: 18.5,
  advisorMaxDownC: 8,
  advisorMaxUpC: 8,
  advisorStepC: 0.5,
  energyPctPerIndoorC: 6,
  advisorMinApartments: 5,
  balanceMinEffectC: 0.8,
  balanceMinZ: 3,
  shortWindowH: 6,
  shortOpenProbability: 0.3,
  liveMaxAgeMin: 15,
  liveChangeMix: 0.25,
  liveChangeOffsetC: 3,
  fallbackSpreadC: 1,
  fallbackSpreadPerHourC: 0.3,
});
