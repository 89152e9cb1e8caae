/**
 * Device protocol v1 payloads (docs/device-protocol.md). A telemetry message is one object
 * or an array of objects (a sensor's backlog after an outage). Ranges here are physical
 * plausibility; policy ranges (e.g. room −40…60 °C) come from HeatingPolicy.validation.
 */
import Type, { type Static } from 'typebox';
import { Literals } from './literals.schema.ts';

/** ISO-8601 string or epoch milliseconds. */
export const TimestampSchema = Type.Union([Type.String({ minLength: 10, maxLength: 40 }), Type.Number({ minimum: 0 })]);

export const RoomSensorPayloadSchema = Type.Object(
  {
    ts: TimestampSchema,
    /** Room temperature, °C. */
    temp: Type.Number({ minimum: -40, maximum: 60 }),
    /** Relative humidity, %. */
    rh: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    /** Battery voltage, V. */
    bat: Type.Optional(Type.Number({ minimum: 0, maximum: 10 })),
    /** Radio signal strength, dBm. */
    rssi: Type.Optional(Type.Number({ minimum: -200, maximum: 0 })),
  },
  { additionalProperties: false },
);
export type RoomSensorPayload = Static<typeof RoomSensorPayloadSchema>;

const t = (min: number, max: number) => Type.Optional(Type.Number({ minimum: min, maximum: max }));

export const StationMeterPayloadSchema = Type.Object(
  {
    ts: TimestampSchema,
    primarySupplyTemp: t(-40, 200), // °C
    primaryReturnTemp: t(-40, 200), // °C
    secondarySupplyTemp: t(-40, 150), // °C
    secondaryReturnTemp: t(-40, 150), // °C
    primarySupplyPressure: t(0, 4), // MPa
    primaryReturnPressure: t(0, 4), // MPa
    secondarySupplyPressure: t(0, 2.5), // MPa
    secondaryReturnPressure: t(0, 2.5), // MPa
    primaryFlow: t(0, 10000), // m³/h
    secondaryFlow: t(0, 10000), // m³/h
    makeupFlow: t(0, 1000), // m³/h
    heatPower: t(0, 200000), // kW
    heatTotal: t(0, 1e9), // GJ
    pumpHz: t(0, 100), // Hz
    valvePct: t(0, 100), // %
    outdoorTemp: t(-60, 50), // °C
  },
  { additionalProperties: false },
);
export type StationMeterPayload = Static<typeof StationMeterPayloadSchema>;

/** A station meter's fields, in the schema's order (the order the rules' station rows use). */
export type StationField = Exclude<keyof StationMeterPayload, 'ts'>;
export const STATION_FIELDS: readonly StationField[] = Object.keys(StationMeterPayloadSchema.properties).filter(
  (k): k is StationField => k !== 'ts',
);

export const ROOM_FIELDS = ['temp', 'rh', 'bat', 'rssi'] as const satisfies readonly (keyof RoomSensorPayload)[];
export type RoomField = (typeof ROOM_FIELDS)[number];

export const StatusPayloadSchema = Literals(['online', 'offline']);
export type StatusPayload = Static<typeof StatusPayloadSchema>;

/** Retained per-device configuration sent to the device. */
export const DeviceConfigPayloadSchema = Type.Object({
  intervalMin: Type.Number({ minimum: 1, maximum: 1440 }),
});
export type DeviceConfigPayload = Static<typeof DeviceConfigPayloadSchema>;
