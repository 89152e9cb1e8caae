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
const OFFSET_GAIN = 0.6;
const FLOW_GAIN = 0.05;

export class StationState {
  offsetC = 0;
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
    if (Number.isFinite(h.flowM3h) && Number.isFinite(this.normalFlowM3h) && this.normalFlowM3h > 0) return Math.min(1, Math.max(0, h.flowM3h / this.normalFlowM3h));
    if (Number.isFinite(h.pumpShare)) return h.pumpShare;
    return 1;
  }

  update(hour: number, h: StationHour): void {
    const mix = this.mixOf(h);
    const pumping = !Number.isFinite(h.pumpShare) || h.pumpShare >= 0.99;
    if (pumping && Number.isFinite(h.flowM3h) && mix > 0.7) {
      this.normalFlowM3h = Number.isFinite(this.normalFlowM3h) ? this.normalFlowM3h + FLOW_GAIN * (h.flowM3h - this.normalFlowM3h) : h.flowM3h;
    }
    // Without circulation the supply sensor reads still water: it says nothing about the curve.
    if (mix > 0.5) this.offsetC = this.hours === 0 ? h.supplyC - this.curve(h.outdoorC) : this.offsetC + OFFSET_GAIN * (h.supplyC - this.curve(h.outdoorC) - this.offsetC);
    this.mix = mix;
    this.lastOutdoorC = h.outdoorC;
    this.lastHour = hour;
    this.hours++;
  }
}
