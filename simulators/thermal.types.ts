/**
 * The thermal model's inputs and outputs (simulators/thermal.model.ts): the faults and
 * weather events a scenario may inject, the weather and model options, and what a device
 * would send. Types only, shared by scenario files, the fleet, replay and forecasts.
 */
import type { HeatingPolicy } from '../domain/policy.ts';
import type { RoomSensorPayload, StationMeterPayload } from '../domain/telemetry.schema.ts';
import type { City } from '../domain/topology.schema.ts';
import type { CityIndex } from './city.index.ts';

/** A fault or weather event, JSON-friendly (scenario files). `at`: ISO string or epoch ms. */
export type FaultSpec = { readonly at: string | number; readonly durationMin?: number } & (
  | { readonly kind: 'cold_snap'; readonly depthC: number }
  | { readonly kind: 'heat_source_drop'; readonly sourceId: string; readonly dropC?: number }
  | { readonly kind: 'pump_failure'; readonly stationId: string }
  | { readonly kind: 'stuck_valve'; readonly stationId: string; readonly valvePct: number }
  | { readonly kind: 'leak'; readonly stationId: string; readonly makeupM3h?: number }
  | { readonly kind: 'riser_imbalance'; readonly buildingId: string; readonly entrance?: number; readonly factor?: number }
  | { readonly kind: 'air_lock'; readonly apartmentId: string }
  | { readonly kind: 'blocked_strainer'; readonly apartmentId: string }
  | { readonly kind: 'window_open'; readonly roomId: string }
  /** A device goes silent; `backlog: true` = network outage (it buffers and sends later), false = dead. */
  | { readonly kind: 'sensor_offline'; readonly deviceId: string; readonly backlog?: boolean }
  | { readonly kind: 'battery_dying'; readonly deviceId: string }
  | { readonly kind: 'sensor_stuck'; readonly deviceId: string }
);
export type FaultKind = FaultSpec['kind'];

export interface ActiveFault {
  readonly spec: FaultSpec;
  readonly from: number;
  readonly to: number;
}

export interface WeatherOptions {
  /** Replace the seasonal mean by a fixed daily mean, °C (scenarios that want a plain day). */
  readonly meanC?: number;
  /** Half the day–night swing, °C. Default 4. */
  readonly dailyAmplitudeC?: number;
  /** Multi-day weather variation on/off. Default on. */
  readonly variation?: boolean;
}

export interface ThermalModelOptions {
  readonly city: City;
  readonly policy: HeatingPolicy;
  /** Model start, epoch ms: rooms start in steady state here. */
  readonly start: number;
  readonly seed?: number;
  readonly faults?: readonly FaultSpec[];
  readonly weather?: WeatherOptions;
  /** Integration step, minutes (exact exponential updates: any step is stable). Default 5; the window-open pattern needs ≤ 5. */
  readonly stepMin?: number;
  readonly index?: CityIndex;
}

/** What a device would send now, and whether it can. */
export type DeviceOutput =
  | { readonly deliver: 'now' | 'buffer'; readonly payload: Omit<RoomSensorPayload, 'ts'> | Omit<StationMeterPayload, 'ts'> }
  | { readonly deliver: 'drop' };

/** One station's control state in the model; the values are those of the last step. */
export interface StationState {
  readonly id: string;
  readonly sourceId: string;
  readonly key: number;
  readonly nominalFlowM3h: number;
  readonly pumpHz: number;
  readonly makeupM3h: number;
  heatTotalGJ: number;
  // Values of the last step.
  outdoor: number;
  setpoint: number;
  primarySupply: number;
  secondarySupply: number;
  secondaryReturn: number;
  valvePct: number;
  flowFrac: number;
  heatKW: number;
  leakM3h: number;
}
