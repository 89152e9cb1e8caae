/**
 * REST bodies and responses of the API (/api/v1), one TypeBox schema each: the TypeScript
 * type, the request validation and the OpenAPI document come from here (CONVENTIONS.md #3).
 * The dashboard imports the types.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { CauseClassSchema } from './incident.schema.ts';
import { IdSchema, RoomTypeSchema, DeviceKindSchema } from './topology.schema.ts';


export const RoleSchema = Type.Enum(['admin', 'dispatcher', 'station_staff', 'station_head', 'manager', 'engineer', 'resident']);

export const ErrorResponseSchema = Type.Object({
  code: Type.String({ description: 'HEAT_ERR_* code, see docs/errors.md' }),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
});
export type ErrorResponse = Static<typeof ErrorResponseSchema>;

export const LoginBodySchema = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64 }),
  password: Type.String({ minLength: 1, maxLength: 256 }),
});
export type LoginBody = Static<typeof LoginBodySchema>;

export const PersonSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  officeId: Type.Optional(Type.String()),
  apartmentId: Type.Optional(Type.String()),
  phone: Type.Optional(Type.String()),
  disabled: Type.Boolean(),
  createdAt: Type.Number(),
});
export type PersonDto = Static<typeof PersonSchema>;

export const LoginResponseSchema = Type.Object({
  token: Type.String({ description: 'Bearer token for Authorization: Bearer <token> and the socket.io handshake auth.token' }),
  expiresAt: Type.Number(),
  person: PersonSchema,
});
export type LoginResponse = Static<typeof LoginResponseSchema>;

export const NewPersonBodySchema = Type.Object({
  username: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' }),
  name: Type.String({ minLength: 1, maxLength: 100 }),
  role: RoleSchema,
  password: Type.String({ minLength: 8, maxLength: 256 }),
  officeId: Type.Optional(IdSchema),
  apartmentId: Type.Optional(IdSchema),
  phone: Type.Optional(Type.String({ maxLength: 40 })),
});
export type NewPersonBody = Static<typeof NewPersonBodySchema>;

export const IdParamsSchema = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

export const ListQuerySchema = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
});

export const MeasurementsQuerySchema = Type.Object({
  deviceId: Type.Optional(IdSchema),
  roomId: Type.Optional(IdSchema),
  apartmentId: Type.Optional(IdSchema),
  buildingId: Type.Optional(IdSchema),
  stationId: Type.Optional(IdSchema),
  officeId: Type.Optional(IdSchema),
  kind: Type.Optional(DeviceKindSchema),
  field: Type.Optional(Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' })),
  from: Type.Optional(Type.Number()),
  to: Type.Optional(Type.Number()),
  windowMs: Type.Optional(Type.Integer({ minimum: 60_000, maximum: 86_400_000 })),
  agg: Type.Optional(Type.Enum(['mean', 'min', 'max'])),
});
export type MeasurementsQuery = Static<typeof MeasurementsQuerySchema>;

export const OrderStatusSchema = Type.Enum(['new', 'dispatched', 'accepted', 'on_site', 'resolved', 'callback', 'closed', 'cancelled']);
export const OrderSourceSchema = Type.Enum(['proactive', 'complaint', 'measurement', 'outage_followup']);

export const OrdersQuerySchema = Type.Object({
  status: Type.Optional(OrderStatusSchema),
  open: Type.Optional(Type.Boolean()),
  stationId: Type.Optional(IdSchema),
  officeId: Type.Optional(IdSchema),
  apartmentId: Type.Optional(IdSchema),
  source: Type.Optional(OrderSourceSchema),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type OrdersQuery = Static<typeof OrdersQuerySchema>;

export const OrderViewQuerySchema = Type.Object({ view: Type.Optional(Type.Enum(['company', 'station', 'team'])) });

/** Resident complaint (hotline via a dispatcher, or app by the resident) or a measurement request. */
export const ComplaintBodySchema = Type.Object({
  apartmentId: IdSchema,
  content: Type.String({ minLength: 1, maxLength: 2000 }),
  channel: Type.Optional(Type.Enum(['hotline', 'app'])),
  residentPhone: Type.Optional(Type.String({ maxLength: 40 })),
  residentContact: Type.Optional(Type.String({ maxLength: 100 })),
  appointmentAt: Type.Optional(Type.Number()),
});
export type ComplaintBody = Static<typeof ComplaintBodySchema>;

export const RepairSheetSchema = Type.Object({
  content: Type.String({ minLength: 1, maxLength: 4000 }),
  startAt: Type.Number(),
  endAt: Type.Number(),
  workerName: Type.String({ minLength: 1, maxLength: 100 }),
  workerPhone: Type.String({ minLength: 1, maxLength: 40 }),
  residentSigned: Type.Boolean(),
});

export const MeasurementPointSchema = Type.Object({
  tempC: Type.Number({ minimum: -40, maximum: 60 }),
  heightM: Type.Number({ minimum: 0, maximum: 5 }),
  wallDistanceM: Type.Number({ minimum: 0, maximum: 50 }),
});

export const MeasurementRecordSchema = Type.Object({
  measuredAt: Type.Number(),
  rooms: Type.Array(
    Type.Object({ roomId: IdSchema, type: RoomTypeSchema, areaM2: Type.Number({ exclusiveMinimum: 0, maximum: 1000 }), points: Type.Array(MeasurementPointSchema, { maxItems: 20 }) }),
    { minItems: 1, maxItems: 50 },
  ),
  residentSigned: Type.Boolean(),
  closedBeforeMin: Type.Number({ minimum: 0 }),
  outdoorTempC: Type.Optional(Type.Number()),
  residentAltered: Type.Optional(Type.Boolean()),
  measuredBy: Type.Optional(Type.String({ maxLength: 100 })),
});
export type MeasurementRecordBody = Static<typeof MeasurementRecordSchema>;

export const DispatchBodySchema = Type.Object({ assignee: Type.Optional(Type.String({ maxLength: 100 })), supervisor: Type.Optional(Type.String({ maxLength: 100 })) });
export const AcceptBodySchema = Type.Object({ appointmentAt: Type.Optional(Type.Number()) });
export const NotHomeBodySchema = Type.Object({ note: Type.String({ minLength: 1, maxLength: 1000 }), newAppointmentAt: Type.Number() });
export const ResolveBodySchema = Type.Object({
  cause: CauseClassSchema,
  repairSheet: Type.Optional(RepairSheetSchema),
  userSideExplanation: Type.Optional(Type.String({ maxLength: 4000 })),
  measurement: Type.Optional(MeasurementRecordSchema),
});
export type ResolveBody = Static<typeof ResolveBodySchema>;
export const CallbackBodySchema = Type.Object({
  result: Type.String({ minLength: 1, maxLength: 2000 }),
  satisfaction: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
});
/** N12: book the callback; without `at`, the next minute inside callback hours. */
export const ScheduleCallbackBodySchema = Type.Object({ at: Type.Optional(Type.Number()) });
/** N7: a rating 1–5 (the resident's, or entered at the callback). */
export const RatingBodySchema = Type.Object({ satisfaction: Type.Integer({ minimum: 1, maximum: 5 }) });
export const NoteBodySchema = Type.Object({ note: Type.String({ minLength: 1, maxLength: 2000 }) });
export const CloseBodySchema = Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000 })) });

export const OutageBodySchema = Type.Object({
  scopeType: Type.Enum(['station', 'building']),
  scopeId: IdSchema,
  startsAt: Type.Number(),
  endsAt: Type.Number(),
  reason: Type.String({ minLength: 1, maxLength: 1000 }),
  emergency: Type.Optional(Type.Boolean()),
});
export type OutageBody = Static<typeof OutageBodySchema>;

export const KpiQuerySchema = Type.Object({ from: Type.Optional(Type.Number()), to: Type.Optional(Type.Number()) });

export const NewDeviceBodySchema = Type.Object({
  id: IdSchema,
  kind: DeviceKindSchema,
  roomId: Type.Optional(IdSchema),
  stationId: Type.Optional(IdSchema),
  gatewayId: Type.Optional(IdSchema),
  intervalMin: Type.Optional(Type.Number({ minimum: 1, maximum: 1440 })),
});
export type NewDeviceBody = Static<typeof NewDeviceBodySchema>;

export const DeviceListQuerySchema = Type.Object({
  kind: Type.Optional(DeviceKindSchema),
  stationId: Type.Optional(IdSchema),
  gatewayId: Type.Optional(IdSchema),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
});

export const ImportParamsSchema = Type.Object({ kind: Type.Enum(['buildings', 'apartments', 'residents', 'devices']) });
export type ImportKind = Static<typeof ImportParamsSchema>['kind'];

export const ImportReportSchema = Type.Object({
  kind: Type.String(),
  rows: Type.Integer(),
  imported: Type.Integer(),
  errors: Type.Array(Type.Object({ row: Type.Integer(), field: Type.String(), message: Type.String() })),
  secrets: Type.Optional(Type.Record(Type.String(), Type.String())),
});
export type ImportReport = Static<typeof ImportReportSchema>;

export const DeadLettersQuerySchema = Type.Object({
  reason: Type.Optional(Type.String({ maxLength: 100 })),
  deviceId: Type.Optional(IdSchema),
  beforeId: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
});

export const HealthSchema = Type.Object({
  status: Type.Enum(['ok', 'degraded']),
  time: Type.Number(),
  mqtt: Type.Boolean(),
  store: Type.Boolean(),
});

/** Shorthand for a route's standard error responses in OpenAPI. */
export const errorResponses = (...codes: number[]): Record<number, TSchema> => Object.fromEntries(codes.map((c) => [c, ErrorResponseSchema]));
