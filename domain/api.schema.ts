/**
 * REST bodies and responses of the API (/api/v1), one TypeBox schema each: the TypeScript
 * type, the request validation and the OpenAPI document come from here (CONVENTIONS.md #3).
 * The dashboard imports the types.
 */
import Type, { type Static, type TSchema } from 'typebox';
import { ApartmentSchema, DeviceKindSchema, IdSchema } from './topology.schema.ts';
import { TimestampSchema } from './orders/order.schema.ts';

/** Every request body is closed: a property the schema does not name is a 400 naming it (issue 13). */
const closed = { additionalProperties: false } as const;

export { RoleSchema } from './roles.ts';
import { RoleSchema } from './roles.ts';
import { ListOf } from './list.schema.ts';
import { EpochMsSchema } from './time.schema.ts';

export const ErrorResponseSchema = Type.Object({
  code: Type.String({ description: 'HEAT_ERR_* code, see docs/errors.md' }),
  message: Type.String(),
  details: Type.Optional(Type.Unknown()),
});
export type ErrorResponse = Static<typeof ErrorResponseSchema>;

export const LoginBodySchema = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    password: Type.String({ minLength: 1, maxLength: 256 }),
  },
  closed,
);
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
  createdAt: EpochMsSchema,
});
export type PersonDto = Static<typeof PersonSchema>;

export const LoginResponseSchema = Type.Object({
  token: Type.String({ description: 'Bearer token for Authorization: Bearer <token> and the socket.io handshake auth.token' }),
  expiresAt: EpochMsSchema,
  person: PersonSchema,
});
export type LoginResponse = Static<typeof LoginResponseSchema>;

/** Password rules beyond the length (common passwords, runs, the username): api/password.ts. */
export const NewPasswordSchema = Type.String({
  minLength: 10,
  maxLength: 256,
  description: 'at least 10 characters, not a common password',
});

export const NewPersonBodySchema = Type.Object(
  {
    /** Optional stable id (imports from another system); an id in use is a 409. */
    id: Type.Optional(IdSchema),
    username: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.@-]+$' }),
    name: Type.String({ minLength: 1, maxLength: 100 }),
    role: RoleSchema,
    password: NewPasswordSchema,
    /** station_staff / station_head: required, an existing office. */
    officeId: Type.Optional(IdSchema),
    /** resident: required, an existing apartment. */
    apartmentId: Type.Optional(IdSchema),
    phone: Type.Optional(Type.String({ maxLength: 40 })),
  },
  closed,
);
export type NewPersonBody = Static<typeof NewPersonBodySchema>;

export const DisablePersonBodySchema = Type.Object({ disabled: Type.Optional(Type.Boolean()) }, closed);

export const ChangePasswordBodySchema = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 256 }), newPassword: NewPasswordSchema },
  closed,
);
export type ChangePasswordBody = Static<typeof ChangePasswordBodySchema>;

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
  from: Type.Optional(TimestampSchema),
  to: Type.Optional(TimestampSchema),
  windowMs: Type.Optional(Type.Integer({ minimum: 60_000, maximum: 86_400_000 })),
  agg: Type.Optional(Type.Enum(['mean', 'min', 'max'])),
});
export type MeasurementsQuery = Static<typeof MeasurementsQuerySchema>;

// Order statuses, sources and every order body live in domain/orders/order.schema.ts (one contract, #15).

export const OutageBodySchema = Type.Object(
  {
    scopeType: Type.Enum(['station', 'building']),
    scopeId: IdSchema,
    startsAt: TimestampSchema,
    endsAt: TimestampSchema,
    reason: Type.String({ minLength: 1, maxLength: 1000 }),
    emergency: Type.Optional(Type.Boolean()),
    /** N9: why an emergency skips the 48 h notice; required with `emergency`. */
    emergencyReason: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  },
  closed,
);
export type OutageBody = Static<typeof OutageBodySchema>;

export const KpiQuerySchema = Type.Object({ from: Type.Optional(TimestampSchema), to: Type.Optional(TimestampSchema) });

export const NewDeviceBodySchema = Type.Object(
  {
    id: IdSchema,
    kind: DeviceKindSchema,
    roomId: Type.Optional(IdSchema),
    stationId: Type.Optional(IdSchema),
    gatewayId: Type.Optional(IdSchema),
    intervalMin: Type.Optional(Type.Number({ minimum: 1, maximum: 1440 })),
  },
  closed,
);
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
  errors: ListOf(Type.Object({ row: Type.Integer(), field: Type.String(), message: Type.String() })),
  secrets: Type.Optional(Type.Record(Type.String(), Type.String())),
});
export type ImportReport = Static<typeof ImportReportSchema>;

export const DeadLettersQuerySchema = Type.Object({
  reason: Type.Optional(Type.String({ maxLength: 100 })),
  deviceId: Type.Optional(IdSchema),
  beforeId: Type.Optional(Type.Integer({ minimum: 1 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
});

/** POST /replay: a scenario by name or a recorded file, and the time compression. */
export const ReplayBodySchema = Type.Object(
  {
    scenario: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.-]+$' })),
    /** An uploaded recording's name (POST /api/v1/replay/files), never a path. */
    file: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.-]+$' })),
    speed: Type.Number({ minimum: 1, maximum: 10_000 }), // runReplay's own bound
  },
  closed,
);

/**
 * One durable write path of the services in this process (issue 17): the broker's journal
 * and telemetry spool, the ingest's spool and its store writes. `failing` is the error it
 * fails with now (its writes are not acknowledged), null once a write succeeds again.
 */
export const WritePathHealthSchema = Type.Object({
  path: Type.Enum(['broker.journal', 'broker.spool', 'ingest.spool', 'ingest.store', 'ingest.deadLetters']),
  failing: Type.Union([Type.String(), Type.Null()]),
  /** Failed writes since the service started. */
  errors: Type.Number(),
});
export type WritePathHealth = Static<typeof WritePathHealthSchema>;

export const HealthSchema = Type.Object({
  status: Type.Enum(['ok', 'degraded']),
  time: Type.Number(),
  mqtt: Type.Boolean(),
  store: Type.Boolean(),
  /** Write paths of the broker and ingest running in this process (`npm start`); empty for the API alone. */
  writes: ListOf(WritePathHealthSchema),
  /** records.db takes writes; false after a disk fault (full, I/O error) until a write succeeds again. */
  records: Type.Boolean(),
  /** The last records.db disk fault (SQLite code, when), also after recovery. */
  recordsLastFault: Type.Optional(Type.Object({ code: Type.String(), at: EpochMsSchema })),
});

/** Shorthand for a route's standard error responses in OpenAPI. */
export const errorResponses = (...codes: number[]): Record<number, TSchema> =>
  Object.fromEntries(codes.map((c) => [c, ErrorResponseSchema]));

// ---- Responses of the auth, people and system routes (issue #15: every route declares one).

/** GET /auth/me: the signed-in person and, for a resident, their apartment. */
export const MeSchema = Type.Object({ person: PersonSchema, apartment: Type.Optional(ApartmentSchema) });
export type Me = Static<typeof MeSchema>;

/** 204: the answer has no body. */
export const NoContentSchema = Type.Null({ description: 'No content' });

export const ApiMetricsSchema = Type.Object({
  api: Type.Record(Type.String(), Type.Number()),
  broker: Type.Unknown({ description: "the broker's metrics, null when it runs in another process" }),
});

/** A text body of the given media type (CSV export, Prometheus exposition). */
export const textResponse = (mediaType: string, description: string) => ({
  description,
  content: { [mediaType]: { schema: Type.String() } },
});
