/**
 * Heat-exchange station rules (heating-norms §D, §E.2) on the latest meter values. Pure
 * functions over a flat Float64Array row (one slot per STATION_FIELDS entry, NaN = never
 * reported) so the engine can keep every station's state in one typed array.
 */
import type { HeatingPolicy } from '../policy.ts';
import { STATION_FIELDS, type StationField } from '../telemetry.schema.ts';

export const FIELD_COUNT = STATION_FIELDS.length;
const slot = Object.fromEntries(STATION_FIELDS.map((f, i) => [f, i])) as Record<StationField, number>;
export const STATION_SLOT: Readonly<Record<StationField, number>> = slot;

/** The station fault conditions, in a fixed order (bit i = STATION_FAULTS[i]). */
export const STATION_FAULTS = ['pump_stopped', 'below_curve', 'low_primary_dt', 'leak'] as const;
export type StationFault = (typeof STATION_FAULTS)[number];
export const FAULT_PUMP = 1;
export const FAULT_CURVE = 2;
export const FAULT_LOW_DT = 4;
export const FAULT_LEAK = 8;

/**
 * Weather-compensation (heating) curve: the secondary supply setpoint for an outdoor
 * temperature, linear between (+5 °C → curveSupplyAtPlus5C) and (N3 design outdoor →
 * curveSupplyAtDesignC), clamped to that range (heating-norms §D). Floor-heating stations
 * use their own, lower anchor points.
 */
export function heatingCurveSetpointC(outdoorC: number, policy: HeatingPolicy, system: 'radiator' | 'floor' = 'radiator'): number {
  const p = policy.station;
  const warm = system === 'floor' ? p.curveFloorSupplyAtPlus5C : p.curveSupplyAtPlus5C;
  const cold = system === 'floor' ? p.curveFloorSupplyAtDesignC : p.curveSupplyAtDesignC;
  const design = policy.comfort.designOutdoorC; // N3
  const warmOutdoorC = 5;
  if (outdoorC >= warmOutdoorC) return warm;
  if (outdoorC <= design) return cold;
  return warm + ((cold - warm) * (warmOutdoorC - outdoorC)) / (warmOutdoorC - design);
}

/** Bit set of fault conditions that hold for this row of latest values (§E.2). */
export function stationFaultBits(v: Float64Array, base: number, policy: HeatingPolicy, system: 'radiator' | 'floor' = 'radiator'): number {
  const p = policy.station;
  let bits = 0;
  const pump = v[base + slot.pumpHz]!;
  if (pump < p.pumpStoppedHz) bits |= FAULT_PUMP;
  const outdoor = v[base + slot.outdoorTemp]!;
  const secSupply = v[base + slot.secondarySupplyTemp]!;
  // Comparisons with NaN are false: a field never reported never raises a fault.
  if (secSupply < heatingCurveSetpointC(outdoor, policy, system) - p.curveToleranceC) bits |= FAULT_CURVE;
  const dT = v[base + slot.primarySupplyTemp]! - v[base + slot.primaryReturnTemp]!;
  if (dT < p.lowPrimaryDeltaC && v[base + slot.valvePct]! >= p.valveFullyOpenPct) bits |= FAULT_LOW_DT;
  if (v[base + slot.secondarySupplyPressure]! < p.lowSecondaryPressureMPa && v[base + slot.makeupFlow]! > p.makeupSurgeM3h)
    bits |= FAULT_LEAK;
  return bits;
}

export function faultNames(bits: number): string {
  const out: string[] = [];
  for (let i = 0; i < STATION_FAULTS.length; i++) if (bits & (1 << i)) out.push(STATION_FAULTS[i]!);
  return out.join(',');
}
