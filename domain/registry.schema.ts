/**
 * The registry's answers over REST (/api/v1 registry and device routes): topology levels with
 * their children, devices with their status, the one-time secret at provisioning, dead
 * letters. Built from the topology schemas (topology.schema.ts); one schema per shape.
 */
import Type, { type Static } from 'typebox';
import { ApartmentSchema, BuildingSchema, DeviceKindSchema, DeviceSchema, PlaceIds, RoomSchema, StationSchema } from './topology.schema.ts';
import { ListOf } from './list.schema.ts';
import { EpochMsSchema } from './time.schema.ts';

export const StationDetailSchema = Type.Object({ ...StationSchema.properties, buildings: ListOf(BuildingSchema) });
export const BuildingDetailSchema = Type.Object({ ...BuildingSchema.properties, apartments: ListOf(ApartmentSchema) });
/** An apartment with its building (absent only if the registry lost it) and rooms. */
export const ApartmentDetailSchema = Type.Object({
  ...ApartmentSchema.properties,
  building: Type.Optional(BuildingSchema),
  rooms: ListOf(RoomSchema),
});
export type ApartmentDetail = Static<typeof ApartmentDetailSchema>;

/** Where a device's readings belong (DeviceLocation in topology.schema.ts). */
export const DeviceLocationSchema = Type.Object({
  deviceId: Type.String(),
  kind: DeviceKindSchema,
  ...PlaceIds,
  sourceId: Type.Optional(Type.String()),
  gatewayId: Type.Optional(Type.String()),
  intervalMin: Type.Number(),
  enabled: Type.Boolean(),
});

/** The broker's last word on a device's connection (heat/v1/platform/status). */
export const DeviceStatusSchema = Type.Object({ status: Type.String({ description: 'online or offline' }), at: EpochMsSchema });

/** GET /devices: a device with its online status, last reading time and battery. */
export const DeviceRowSchema = Type.Object({
  ...DeviceSchema.properties,
  online: Type.Boolean(),
  statusAt: Type.Union([EpochMsSchema, Type.Null()]),
  lastSeen: Type.Union([Type.Number(), Type.Null()]),
  battery: Type.Union([Type.Number(), Type.Null()]),
  lowBattery: Type.Boolean(),
});
export type DeviceRow = Static<typeof DeviceRowSchema>;

export const DeviceDetailSchema = Type.Object({
  ...DeviceSchema.properties,
  location: Type.Optional(DeviceLocationSchema),
  status: Type.Union([DeviceStatusSchema, Type.Null()]),
});

/** Provisioning and rotation: the only time the secret leaves the platform. */
export const DeviceSecretSchema = Type.Object({ device: DeviceSchema, secret: Type.String() });
export type DeviceSecret = Static<typeof DeviceSecretSchema>;

/** Enable/disable: `published` is false when no broker took the registry change. */
export const DeviceToggleSchema = Type.Object({ device: DeviceSchema, published: Type.Boolean() });

/** DELETE /devices/:id: the broker is told when `published`. */
export const DeviceDeletedSchema = Type.Object({ deleted: Type.String(), published: Type.Boolean() });

export const DeadLetterSchema = Type.Object({
  id: Type.Integer(),
  at: Type.Number({ description: 'arrival time (ingest clock), epoch ms' }),
  deviceId: Type.Optional(Type.String()),
  topic: Type.String(),
  reason: Type.String(),
  raw: Type.String({ description: 'payload as text, truncated' }),
});
export type DeadLetter = Static<typeof DeadLetterSchema>;
export const DeadLettersSchema = Type.Object({ items: ListOf(DeadLetterSchema), byReason: Type.Record(Type.String(), Type.Integer()) });
