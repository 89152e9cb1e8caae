/**
 * What the forecaster knows about a station from its meter, hour by hour: how its supply sits
 * against its heating curve now (the offset the forecast carries forward: a fault, a manual
 * change or an approved advice all show up here), its normal circulation, and the latest
 * outdoor value (the fallback when no weather forecast covers an hour).
 */
import type { HeatingPolicy } from '../policy.ts';
import { heatingCurveSetpointC } from '../rules/station.rule.ts';
import type { StationHour } from './hourly.bins.ts';

/** Weight of the newest hour in the curve-offset and normal-flow estimates. */
const NEWEST_HOUR_WEIGHT = { offsetC: 0.6, normalFlow: 0.05 } as const;

/** What the latest meter reading says the station does now (its hour still open). */
export interface LiveStation {
  readonly ts: number;
  readonly mix: number;
  /** Supply minus the curve, °C (NaN: no circulation, the sensor reads still water). */
  readonly offsetC: number;
}

export class StationState {
  offsetC = 0;
  live: LiveStation | undefined;
  /** Mix and offset the last forecast round of this station used (to notice a change). */
  usedMix = 1;
  usedOffsetC = 0;
  normalFlowM3h = Number.NaN;
  mix = 1;
  lastOutdoorC = Number.NaN;
  lastHour = Number.NEGATIVE_INFINITY;
  hours = 0;

  constructor(
    readonly system: 'radiator' | 'floor',
    private readonly policy: HeatingPolicy,
  ) {}

  curve(outdoorC: number): number {
    return heatingCurveSetpointC(outdoorC, this.policy, this.system);
  }

  /** Slope of the heating curve at an outdoor temperature, °C supply per °C outdoor (heating-norms §D). */
  curveSlope(outdoorC: number): number {
    return this.curve(outdoorC + 0.5) - this.curve(outdoorC - 0.5);
  }

  /** Circulation share of an hour: metered flow against normal flow, else the pump's running share. */
  mixOf(h: StationHour): number {
    if (Number.isFinite(h.flowM3h) && Number.isFinite(this.normalFlowM3h) && this.normalFlowM3h > 0)
      return Math.min(1, Math.max(0, h.flowM3h / this.normalFlowM3h));
    if (Number.isFinite(h.pumpShare)) return h.pumpShare;
    return 1;
  }

  /**
   * One meter reading as it arrives: a pump that stops or a supply that drops shows here
   * minutes after it happens, long before its hour closes (the station's trend).
   */
  observe(
    ts: number,
    f: { readonly secondarySupplyTemp?: number; readonly outdoorTemp?: number; readonly secondaryFlow?: number; readonly pumpHz?: number },
    pumpStoppedHz: number,
  ): void {
    if (this.live && ts <= this.live.ts) return;
    let mix: number;
    if (f.pumpHz !== undefined && Number.isFinite(f.pumpHz) && f.pumpHz < pumpStoppedHz) mix = 0;
    else if (
      f.secondaryFlow !== undefined &&
      Number.isFinite(f.secondaryFlow) &&
      Number.isFinite(this.normalFlowM3h) &&
      this.normalFlowM3h > 0
    )
      mix = Math.min(1, Math.max(0, f.secondaryFlow / this.normalFlowM3h));
    else mix = f.pumpHz !== undefined && Number.isFinite(f.pumpHz) ? 1 : this.mix;
    const supply = f.secondarySupplyTemp;
    const outdoor = f.outdoorTemp ?? this.lastOutdoorC;
    const offsetC =
      mix > 0.5 && supply !== undefined && Number.isFinite(supply) && Number.isFinite(outdoor) ? supply - this.curve(outdoor) : Number.NaN;
    this.live = { ts, mix, offsetC };
  }

  /** The live reading when it is recent (at most `maxAgeMs` before `at`) and newer than the last closed hour. */
  #fresh(at: number, maxAgeMs: number, hourMs: number): LiveStation | undefined {
    const l = this.live;
    return l && at - l.ts <= maxAgeMs && l.ts >= (this.lastHour + 1) * hourMs ? l : undefined;
  }

  /** Circulation share the forecast carries forward: the live one when fresh, else the last closed hour's. */
  forwardMix(at: number, maxAgeMs: number, hourMs: number): number {
    return this.#fresh(at, maxAgeMs, hourMs)?.mix ?? this.mix;
  }

  /** Curve offset carried forward: a fresh live reading replaces it when it differs by more than 1.5 °C (meter noise is ~0.2 °C; a heat-source drop is tens of degrees). */
  forwardOffsetC(at: number, maxAgeMs: number, hourMs: number): number {
    const l = this.#fresh(at, maxAgeMs, hourMs);
    return l && Number.isFinite(l.offsetC) && Math.abs(l.offsetC - this.offsetC) > 1.5 ? l.offsetC : this.offsetC;
  }

  update(hour: number, h: StationHour): void {
    const mix = this.mixOf(h);
    const pumping = !Number.isFinite(h.pumpShare) || h.pumpShare >= 0.99;
    if (pumping && Number.isFinite(h.flowM3h) && mix > 0.7) {
      this.normalFlowM3h = Number.isFinite(this.normalFlowM3h)
        ? this.normalFlowM3h + NEWEST_HOUR_WEIGHT.normalFlow * (h.flowM3h - this.normalFlowM3h)
        : h.flowM3h;
    }
    // Without circulation the supply sensor reads still water: it says nothing about the curve.
    if (mix > 0.5)
      this.offsetC =
        this.hours === 0
          ? h.supplyC - this.curve(h.outdoorC)
          : this.offsetC + NEWEST_HOUR_WEIGHT.offsetC * (h.supplyC - this.curve(h.outdoorC) - this.offsetC);
    this.mix = mix;
    this.lastOutdoorC = h.outdoorC;
    this.lastHour = hour;
    this.hours++;
  }
}
