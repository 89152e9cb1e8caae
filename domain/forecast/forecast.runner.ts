/**
 * The forecast runner (issue #20): pure, event-time, beside the rules engine. The host feeds
 * it the same readings (`ingest`), the engine's incident events (`observe`, so a real cold
 * incident confirms a prediction) and the watermark (`advanceTo`); weather forecasts come in
 * through `setForecast`. On every closed hour it refits each apartment's thermal model, rolls
 * it forward under the forecast and the station's current heating curve, and opens or closes
 * `predicted_cold` incidents. Curve advice and the balancing diagnosis read its state.
 */
import type { IncidentEvent } from '../incident.schema.ts';
import type { HeatingPolicy } from '../policy.ts';
import type { Reading } from '../reading.ts';
import { buildTopologyIndex, type TopologyIndex } from '../rules/topology.index.ts';
import type { City } from '../topology.schema.ts';
import { coldRisk, normalCdf, type ColdRisk } from './cold-risk.ts';
import { defaultForecastOptions, type ForecastOptions } from './forecast.options.ts';
import { HOUR_MS, HourlyBins, type ClosedHour } from './hourly.bins.ts';
import { PredictedColdTracker, type ColdPrediction } from './predicted-cold.tracker.ts';
import { StationState } from './station.state.ts';
import { effectiveSupply, rollForward, ThermalFit, type ApartmentFit, type Trajectory } from './thermal.fit.ts';
import { forecastAt, type WeatherForecast } from './weather.schema.ts';

/** Hours of apartment values kept for the balancing diagnosis. */
export const RECENT_HOURS = 48;

export interface ForecastRunnerOptions {
  readonly city: City;
  readonly policy: HeatingPolicy;
  readonly options?: Partial<ForecastOptions>;
}

/** One apartment's forecast, or why there is none. */
export type ApartmentForecast =
  | {
      readonly status: 'ready';
      readonly apartmentId: string;
      /** Forecast origin: end of the last closed hour, epoch ms. Hour k of the trajectory ends at origin + k h. */
      readonly origin: number;
      readonly lastC: number;
      readonly trajectory: Trajectory;
      readonly fit: ApartmentFit;
      readonly outdoorSource: 'forecast' | 'persistence';
    }
  | { readonly status: 'insufficient_data' | 'no_station_data' | 'stale'; readonly apartmentId: string; readonly fit?: ApartmentFit };

export class ForecastRunner {
  readonly city: City;
  readonly ix: TopologyIndex;
  readonly policy: HeatingPolicy;
  readonly o: ForecastOptions;
  readonly bins: HourlyBins;
  readonly tracker: PredictedColdTracker;
  readonly fits: ThermalFit[];
  readonly stations: StationState[];
  /** Latest closed hourly value and its hour, per apartment. */
  readonly lastT: Float64Array;
  readonly lastHour: Float64Array;
  /** Ring of the last RECENT_HOURS hourly values per apartment (NaN: none). */
  readonly recent: Float64Array;
  #cityForecast: WeatherForecast | undefined;
  readonly #stationForecast = new Map<string, WeatherForecast>();
  #latestHour = Number.NEGATIVE_INFINITY;
  #forecastChanged = false;
  /** The newest watermark handed to advanceTo (forecast rounds happen at it). */
  #now = Number.NEGATIVE_INFINITY;
  readonly #stationIdx: Map<string, number>;
  /** Observers of each closed hour (evaluation harnesses). */
  readonly hourListeners: ((h: ClosedHour) => void)[] = [];

  constructor(opts: ForecastRunnerOptions) {
    this.city = opts.city;
    this.policy = opts.policy;
    this.o = { ...defaultForecastOptions, ...opts.options };
    this.ix = buildTopologyIndex(opts.city, opts.policy);
    this.bins = new HourlyBins(this.ix, opts.policy.station.pumpStoppedHz);
    this.tracker = new PredictedColdTracker({
      openProbability: this.o.openProbability,
      avoidedAfterMs: this.o.avoidedAfterH * HOUR_MS,
      ruleDelayMs: opts.policy.comfort.coldOpenAfterMin * 60_000, // N2
    });
    const nA = this.ix.aptIds.length;
    this.fits = Array.from({ length: nA }, () => new ThermalFit(this.o.forgetting, this.o.disturbanceGain));
    this.stations = this.ix.stationIds.map((_, s) => new StationState(this.ix.stationFloor[s] ? 'floor' : 'radiator', opts.policy));
    this.lastT = new Float64Array(nA).fill(Number.NaN);
    this.lastHour = new Float64Array(nA).fill(Number.NEGATIVE_INFINITY);
    this.recent = new Float64Array(nA * RECENT_HOURS).fill(Number.NaN);
    this.#stationIdx = new Map(this.ix.stationIds.map((id, i) => [id, i]));
  }

  ingest(r: Reading): void {
    this.bins.add(r);
    if (r.kind === 'station_meter') {
      const m = this.ix.meterOf.get(r.deviceId);
      if (m !== undefined) this.stations[this.ix.meterStation[m]!]!.observe(r.ts, r.fields, this.policy.station.pumpStoppedHz);
    }
  }

  setForecast(f: WeatherForecast): void {
    if (f.stationId) this.#stationForecast.set(f.stationId, f);
    else this.#cityForecast = f;
    this.#forecastChanged = true;
  }

  observe(events: readonly IncidentEvent[]): IncidentEvent[] {
    return this.tracker.observe(events);
  }

  /** Close the hours the watermark has passed; refit and forecast after the newest one. */
  advanceTo(ts: number): IncidentEvent[] {
    if (ts > this.#now) this.#now = ts;
    const closed = this.bins.closeUpTo(ts, this.o.hourGraceMs);
    for (const h of closed) this.#fitHour(h);
    // A closed hour, or a new weather forecast: every station again.
    if (closed.length > 0 || (this.#forecastChanged && Number.isFinite(this.#latestHour))) {
      this.#forecastChanged = false;
      return this.#forecastRound();
    }
    // Between hours: a station whose pump stopped or whose supply dropped is re-forecast now,
    // not when its hour closes (up to an hour later).
    const changed: number[] = [];
    for (let s = 0; s < this.stations.length; s++) {
      const st = this.stations[s]!;
      if (st.hours === 0) continue;
      const mix = this.#mix(s);
      const off = this.#offset(s);
      if (Math.abs(mix - st.usedMix) >= this.o.liveChangeMix || Math.abs(off - st.usedOffsetC) >= this.o.liveChangeOffsetC) changed.push(s);
    }
    return changed.length ? this.#forecastRound(changed) : [];
  }

  #liveAgeMs(): number {
    return this.o.liveMaxAgeMin * 60_000;
  }

  /** Circulation share and curve offset the forecast carries forward for station `s` (live when fresh). */
  #mix(s: number): number {
    return this.stations[s]!.forwardMix(this.#now, this.#liveAgeMs(), HOUR_MS);
  }

  #offset(s: number): number {
    return this.stations[s]!.forwardOffsetC(this.#now, this.#liveAgeMs(), HOUR_MS);
  }

  #fitHour(h: ClosedHour): void {
    const ix = this.ix;
    for (let s = 0; s < this.stations.length; s++) {
      const sh = h.station[s];
      if (sh) this.stations[s]!.update(h.hour, sh);
    }
    const slot = ((h.hour % RECENT_HOURS) + RECENT_HOURS) % RECENT_HOURS;
    for (let a = 0; a < ix.aptIds.length; a++) {
      const T = h.apt[a]!;
      this.recent[a * RECENT_HOURS + slot] = T;
      if (!Number.isFinite(T)) continue;
      const st = ix.aptStation[a]!;
      const sh = st >= 0 ? h.station[st] : undefined;
      const fit = this.fits[a]!;
      if (this.lastHour[a] === h.hour - 1 && sh) {
        const prev = this.lastT[a]!;
        fit.update(prev, effectiveSupply(sh.supplyC, this.stations[st]!.mixOf(sh), prev), sh.outdoorC, T);
      } else fit.gap();
      this.lastT[a] = T;
      this.lastHour[a] = h.hour;
    }
    this.#latestHour = Math.max(this.#latestHour, h.hour);
    for (const l of this.hourListeners) l(h);
  }

  /**
   * Chance that the apartment's *true* value falls below the standard (N2) within the first
   * `hours` hours of a forecast: the forecast's own error plus the sensor's calibration error,
   * which N31 bounds (± instrumentErrorC, taken as uniform: sd = bound / √3). The model learns
   * the sensor's reading, offset included; the standard is about the room.
   */
  coldProbability(t: Trajectory, hours: number = this.o.horizonH): ColdRisk {
    const instrumentSdC = this.policy.measurement.instrumentErrorC / Math.sqrt(3); // N31
    return coldRisk(t, this.policy.comfort.standardC, 0, Math.min(hours, t.meanC.length), instrumentSdC);
  }

  /** Outdoor inputs of the next `H` hourly means for a station (forecast, else persistence). */
  outdoorInputs(stationIdx: number, H: number): { mean: Float64Array; sigma: Float64Array; source: 'forecast' | 'persistence' } {
    const origin = (this.#latestHour + 1) * HOUR_MS;
    const f = this.#stationForecast.get(this.ix.stationIds[stationIdx]!) ?? this.#cityForecast;
    const st = this.stations[stationIdx]!;
    const mean = new Float64Array(H);
    const sigma = new Float64Array(H);
    let source: 'forecast' | 'persistence' = 'forecast';
    // A forecast issued this hour starts at the hour; the open hour before it (the hour-close
    // grace) starts from the station's own latest outdoor value.
    const first = f?.hours[0]?.ts ?? Number.NaN;
    const at = (ts: number) =>
      forecastAt(f, ts) ??
      (ts < first && first - ts <= HOUR_MS && Number.isFinite(st.lastOutdoorC)
        ? { outdoorTemp: st.lastOutdoorC, leadH: 0, spreadC: undefined }
        : undefined);
    for (let k = 0; k < H; k++) {
      // Hour k+1's mean ≈ the mean of the forecast at its two ends.
      const a = at(origin + k * HOUR_MS);
      const b = at(origin + (k + 1) * HOUR_MS);
      if (a && b) {
        mean[k] = (a.outdoorTemp + b.outdoorTemp) / 2;
        const lead = Math.max(1, b.leadH);
        sigma[k] = b.spreadC ?? this.o.fallbackSpreadC * 0.5 + 0.08 * lead;
      } else {
        source = 'persistence';
        mean[k] = st.lastOutdoorC;
        sigma[k] = this.o.fallbackSpreadC + this.o.fallbackSpreadPerHourC * (k + 1);
      }
    }
    return { mean, sigma, source };
  }

  /** Forecast one apartment `H` hours ahead with the station's supply moved by `offsetC`. */
  forecastApartment(
    a: number,
    H: number = this.o.horizonH,
    offsetC = 0,
    inputs?: ReturnType<ForecastRunner['outdoorInputs']>,
  ): ApartmentForecast {
    const apartmentId = this.ix.aptIds[a]!;
    const fit = this.fits[a]!;
    const summary = fit.summary(this.o.minFitHours);
    if (summary.status !== 'ready') return { status: 'insufficient_data', apartmentId, fit: summary };
    const s = this.ix.aptStation[a]!;
    const st = s >= 0 ? this.stations[s] : undefined;
    if (!st || st.hours === 0 || !Number.isFinite(st.lastOutdoorC)) return { status: 'no_station_data', apartmentId, fit: summary };
    // A value older than 3 h is not a starting point for a 6 h forecast.
    if (this.lastHour[a]! < this.#latestHour - 3) return { status: 'stale', apartmentId, fit: summary };
    const inp = inputs ?? this.outdoorInputs(s, H);
    const { supply, slope } = this.#supplyInputs(s, inp, offsetC);
    const trajectory = rollForward(fit, this.lastT[a]!, supply, inp.mean, inp.sigma, slope, this.#mix(s));
    return {
      status: 'ready',
      apartmentId,
      origin: (this.#latestHour + 1) * HOUR_MS,
      lastC: this.lastT[a]!,
      trajectory,
      fit: summary,
      outdoorSource: inp.source,
    };
  }

  /** The station's supply under its current curve for the forecast hours (cached per round: every flat of the station shares it). */
  #supplyInputs(
    s: number,
    inp: ReturnType<ForecastRunner['outdoorInputs']>,
    offsetC: number,
  ): { supply: Float64Array; slope: Float64Array } {
    const st = this.stations[s]!;
    const base = this.#offset(s);
    const hit = this.#supplyCache;
    if (hit && hit.inp === inp && hit.offsetC === offsetC && hit.s === s && hit.base === base) return hit;
    const H = inp.mean.length;
    const supply = new Float64Array(H);
    const slope = new Float64Array(H);
    for (let k = 0; k < H; k++) {
      supply[k] = st.curve(inp.mean[k]!) + base + offsetC;
      slope[k] = st.curveSlope(inp.mean[k]!);
    }
    this.#supplyCache = { inp, offsetC, s, base, supply, slope };
    return this.#supplyCache;
  }

  #supplyCache: { inp: unknown; offsetC: number; s: number; base: number; supply: Float64Array; slope: Float64Array } | undefined;

  get origin(): number {
    return (this.#latestHour + 1) * HOUR_MS;
  }

  stationIndex(id: string): number | undefined {
    return this.#stationIdx.get(id);
  }

  /** Forecast every station (a closed hour) or the stations in `only` (their live state changed). */
  #forecastRound(only?: readonly number[]): IncidentEvent[] {
    const ix = this.ix;
    const H = this.o.horizonH;
    const std = this.policy.comfort.standardC; // N2
    const origin = this.origin;
    // Event time of the round: a prediction is dated when the platform could make it.
    const now = Math.max(origin, this.#now);
    const candidates: { a: number; p: ColdPrediction }[] = [];
    const stationReady = new Int32Array(ix.stationIds.length);
    const stationCold = new Int32Array(ix.stationIds.length);
    const buildingReady = new Int32Array(ix.buildingIds.length);
    const buildingCold = new Int32Array(ix.buildingIds.length);
    const round = only ?? ix.stationIds.map((_, s) => s);
    for (const s of round) {
      const st = this.stations[s]!;
      st.usedMix = this.#mix(s);
      st.usedOffsetC = this.#offset(s);
      const inputs = this.outdoorInputs(s, H);
      for (const a of ix.stationApts[s]!) {
        if (ix.aptMeasuredRooms[a]!.length === 0) continue;
        const f = this.forecastApartment(a, H, 0, inputs);
        if (f.status !== 'ready') continue;
        stationReady[s]!++;
        buildingReady[ix.aptBuilding[a]!]!++;
        // Likely within the horizon, or a fair chance within the short window (forecast.options.ts).
        const risk = this.coldProbability(f.trajectory);
        const short = this.coldProbability(f.trajectory, this.o.shortWindowH);
        if (risk.probability < this.o.openProbability && short.probability < this.o.shortOpenProbability) continue;
        stationCold[s]!++;
        buildingCold[ix.aptBuilding[a]!]!++;
        if (f.lastC < std || this.tracker.isCold(f.apartmentId)) continue; // already cold: the threshold rule's business
        candidates.push({
          a,
          p: {
            apartmentId: f.apartmentId,
            buildingId: ix.buildingIds[ix.aptBuilding[a]!],
            stationId: ix.stationIds[s],
            at: now,
            probability: risk.probability,
            firstBelowAt: origin + risk.firstBelowK * HOUR_MS,
            predictedMinC: risk.minC,
            predictedMinAt: origin + risk.minK * HOUR_MS,
            sigmaC: risk.sigmaAtMinC,
            cause: 'unknown',
            evidence: {
              lastC: Math.round(f.lastC * 100) / 100,
              shortWindowProbability: Math.round(short.probability * 100) / 100,
              modelRmseC: Math.round(f.fit.rmseC * 100) / 100,
              modelHours: f.fit.hours,
              disturbanceC: Math.round(f.fit.disturbanceC * 100) / 100,
              stationCurveOffsetC: Math.round(st.usedOffsetC * 10) / 10,
              circulation: Math.round(st.usedMix * 100) / 100,
              outdoorSource: f.outdoorSource,
              horizonH: H,
            },
          },
        });
      }
    }
    const g = this.policy.grouping;
    const preds = candidates.map(({ a, p }) => {
      const s = ix.aptStation[a]!;
      const b = ix.aptBuilding[a]!;
      const st = this.stations[s]!;
      // heating-norms §E classes, by where the expected shortfall sits.
      const stationWide =
        (stationReady[s]! >= g.minMonitored && stationCold[s]! / stationReady[s]! >= g.stationColdShare) ||
        st.usedOffsetC < -this.policy.station.curveToleranceC ||
        st.usedMix < 0.5;
      const buildingWide = buildingReady[b]! >= g.minMonitored && buildingCold[b]! / buildingReady[b]! >= g.buildingColdShare;
      const cause = stationWide ? 'station' : buildingWide ? 'building' : this.fits[a]!.disturbance < -0.1 ? 'in_home' : 'unknown';
      const out: ColdPrediction = { ...p, cause };
      return out;
    });
    if (!only) return this.tracker.update(now, preds);
    const inRound = new Set(only.map((s) => ix.stationIds[s]));
    return this.tracker.update(now, preds, (inc) => inRound.has(inc.stationId));
  }
}

export { normalCdf };
