/**
 * The topology of a heating company, one schema per level:
 * company → heating-management station (供热所, "office") → heat-exchange station (换热站)
 * → building → entrance (单元) → floor → apartment → room; plus heat sources and devices.
 *
 * Each schema gives the TypeScript type (Static), runtime validation and OpenAPI.
 */
import Type, { type Static } from 'typebox';
import { Literals } from './literals.schema.ts';

export const IdSchema = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' });

export const GeoPointSchema = Type.Object({
  lat: Type.Number({ minimum: -90, maximum: 90 }),
  lon: Type.Number({ minimum: -180, maximum: 180 }),
});
export type GeoPoint = Static<typeof GeoPointSchema>;

/** A heat source (热源): a CHP plant or boiler house feeding stations over the primary network. */
export const HeatSourceSchema = Type.Object({
  id: IdSchema,
  name: Type.String({ maxLength: 200 }),
  location: GeoPointSchema,
});
export type HeatSource = Static<typeof HeatSourceSchema>;

/** 供热所: heating-management station; owns a grid of stations and one service team (N5). */
export const OfficeSchema = Type.Object({
  id: IdSchema,
  name: Type.String({ maxLength: 200 }),
  phone: Type.Optional(Type.String({ maxLength: 40 })),
});
export type Office = Static<typeof OfficeSchema>;

/** 换热站: heat-exchange station. */
export const StationSchema = Type.Object({
  id: IdSchema,
  name: Type.String({ maxLength: 200 }),
  officeId: IdSchema,
  sourceId: IdSchema,
  /** Primary-network branch (pipe) the station hangs on; stations on one branch fail together. */
  branchId: Type.String({ maxLength: 64 }),
  location: GeoPointSchema,
  /** Secondary system type decides its design temperatures. */
  system: Literals(['radiator', 'floor']),
});
export type Station = Static<typeof StationSchema>;

export const BuildingSchema = Type.Object({
  id: IdSchema,
  name: Type.String({ maxLength: 200 }),
  stationId: IdSchema,
  address: Type.String({ maxLength: 300 }),
  location: GeoPointSchema,
  floors: Type.Integer({ minimum: 1, maximum: 200 }),
  entrances: Type.Integer({ minimum: 1, maximum: 50 }),
  /** Apartments per floor per entrance. */
  unitsPerFloor: Type.Integer({ minimum: 1, maximum: 20 }),
});
export type Building = Static<typeof BuildingSchema>;

export const RoomTypeSchema = Literals(['bedroom', 'living', 'kitchen', 'bathroom', 'study', 'other']);

export const RoomSchema = Type.Object({
  id: IdSchema,
  apartmentId: IdSchema,
  name: Type.String({ maxLength: 100 }),
  type: RoomTypeSchema,
  areaM2: Type.Number({ exclusiveMinimum: 0, maximum: 1000 }),
});
export type Room = Static<typeof RoomSchema>;

export const ApartmentSchema = Type.Object({
  id: IdSchema,
  buildingId: IdSchema,
  /** 1-based entrance (单元) number. */
  entrance: Type.Integer({ minimum: 1 }),
  /** 1-based floor. */
  floor: Type.Integer({ minimum: 1 }),
  /** 1-based position on the landing; 1 and unitsPerFloor are end units. */
  unit: Type.Integer({ minimum: 1 }),
  /** e.g. "3-502": entrance 3, floor 5, unit 2. */
  number: Type.String({ maxLength: 40 }),
  areaM2: Type.Number({ exclusiveMinimum: 0, maximum: 10000 }),
});
export type Apartment = Static<typeof ApartmentSchema>;

export const DeviceKindSchema = Literals(['room_sensor', 'station_meter', 'gateway']);
export type DeviceKind = Static<typeof DeviceKindSchema>;

/** A device as the registry knows it. Where it sits comes from here, never from its payload. */
export const DeviceSchema = Type.Object({
  id: IdSchema,
  kind: DeviceKindSchema,
  /** room_sensor: the room it measures. */
  roomId: Type.Optional(IdSchema),
  /** station_meter: the station it meters. */
  stationId: Type.Optional(IdSchema),
  /** Devices behind a gateway publish through it. */
  gatewayId: Type.Optional(IdSchema),
  /** Expected reporting interval, minutes. */
  intervalMin: Type.Number({ minimum: 1, maximum: 1440 }),
  enabled: Type.Boolean(),
});
export type Device = Static<typeof DeviceSchema>;

/** A whole city as the generator produces it and the registry loads it. */
export interface City {
  readonly seed: number;
  readonly name: string;
  readonly policyCity: string;
  readonly sources: readonly HeatSource[];
  readonly offices: readonly Office[];
  readonly stations: readonly Station[];
  readonly buildings: readonly Building[];
  readonly apartments: readonly Apartment[];
  readonly rooms: readonly Room[];
  readonly devices: readonly Device[];
}

/** The places above a device (ReadingPlace), as schema properties: a reading's tags, and the scopes a query may name. */
export const PlaceIds = {
  roomId: Type.Optional(Type.String()),
  apartmentId: Type.Optional(Type.String()),
  buildingId: Type.Optional(Type.String()),
  stationId: Type.Optional(Type.String()),
  officeId: Type.Optional(Type.String()),
};

/** The device and the places above it: the tags every stored reading carries (reading.ts). */
export interface ReadingPlace {
  readonly deviceId: string;
  readonly kind: DeviceKind;
  readonly roomId?: string;
  readonly apartmentId?: string;
  readonly buildingId?: string;
  readonly stationId?: string;
  readonly officeId?: string;
}

/**
 * Where a device's readings belong: resolved from the registry at ingest and used as tags.
 * Every field but deviceId/kind is optional because a station meter has no room.
 */
export interface DeviceLocation extends ReadingPlace {
  readonly sourceId?: string;
  readonly gatewayId?: string;
  readonly intervalMin: number;
  readonly enabled: boolean;
}
