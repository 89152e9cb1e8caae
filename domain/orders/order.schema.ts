/**
 * The order contract, once (issue #15): statuses, sources, channels, the intake bodies, the
 * repair sheet and measurement record, and every order response, as TypeBox schemas (the
 * step bodies and the order-action union: order-steps.schema.ts). The TypeScript types, the
 * request validation, the OpenAPI document and the dashboard's client all derive from here;
 * nothing else spells these lists out by hand.
 *
 * Every body is closed (`additionalProperties: false`) and every timestamp bounded, so a body
 * can neither pick a different step nor smuggle a field into one (#13 finding 3), and a
 * stored timestamp always formats (#13 finding 8).
 */
import Type, { type Static } from 'typebox';
import { CauseClassSchema } from '../incident.schema.ts';
import { ListOf } from '../list.schema.ts';
import { OrderPredictionSchema, OrderTextSchema } from './order-text.schema.ts';
import { EscalationLevelSchema } from '../policy.schema.ts';
import { IdSchema, RoomTypeSchema } from '../topology.schema.ts';
import { EpochMsSchema } from '../time.schema.ts';

const closed = { additionalProperties: false } as const;

/** Epoch milliseconds between 2000-01-01 and 2100-01-01 UTC: anything outside is a typo or an attack, never a date. */
export const TimestampSchema = Type.Integer({ minimum: 946_684_800_000, maximum: 4_102_444_800_000, description: 'epoch ms (2000–2100)' });

export const OrderStatusSchema = Type.Enum(['new', 'dispatched', 'accepted', 'on_site', 'resolved', 'callback', 'closed', 'cancelled']);
export type OrderStatus = Static<typeof OrderStatusSchema>;
/** Statuses in which the fault is still unhandled: the SLA and escalation clocks run (N21). */
export const OPEN_STATUSES: readonly OrderStatus[] = ['new', 'dispatched', 'accepted', 'on_site'];
export const OrderSourceSchema = Type.Enum(['proactive', 'complaint', 'measurement', 'outage_followup']);
export type OrderSource = Static<typeof OrderSourceSchema>;
export const OrderChannelSchema = Type.Enum(['hotline', 'app', 'system']);
export type OrderChannel = Static<typeof OrderChannelSchema>;
export const OrderSubjectSchema = Type.Enum(['apartment', 'building', 'station', 'source']);
export type OrderSubject = Static<typeof OrderSubjectSchema>;
export const OrderViewNameSchema = Type.Enum(['company', 'station', 'team']);
export type OrderViewName = Static<typeof OrderViewNameSchema>;

export const OrdersQuerySchema = Type.Object(
  {
    status: Type.Optional(OrderStatusSchema),
    open: Type.Optional(Type.Boolean()),
    stationId: Type.Optional(IdSchema),
    officeId: Type.Optional(IdSchema),
    apartmentId: Type.Optional(IdSchema),
    source: Type.Optional(OrderSourceSchema),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  closed,
);
export type OrdersQuery = Static<typeof OrdersQuerySchema>;

export const OrderViewQuerySchema = Type.Object({ view: Type.Optional(OrderViewNameSchema) }, closed);

const Phone = Type.String({ minLength: 1, maxLength: 40 });
const Name = Type.String({ minLength: 1, maxLength: 100 });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

/** Resident complaint (hotline via a dispatcher, or app by the resident) or a measurement request. */
export const ComplaintBodySchema = Type.Object(
  {
    apartmentId: IdSchema,
    content: Text(2000),
    channel: Type.Optional(Type.Enum(['hotline', 'app'])),
    residentPhone: Type.Optional(Type.String({ maxLength: 40 })),
    residentContact: Type.Optional(Type.String({ maxLength: 100 })),
    appointmentAt: Type.Optional(TimestampSchema),
  },
  closed,
);
export type ComplaintBody = Static<typeof ComplaintBodySchema>;

/** N23: the field worker's repair sheet. */
export const RepairSheetSchema = Type.Object(
  {
    content: Text(4000),
    startAt: TimestampSchema,
    endAt: TimestampSchema,
    workerName: Name,
    workerPhone: Phone,
    residentSigned: Type.Boolean(),
  },
  closed,
);
export type RepairSheet = Static<typeof RepairSheetSchema>;

/** N30/N31: one measuring point. */
export const MeasurementPointSchema = Type.Object(
  {
    tempC: Type.Number({ minimum: -40, maximum: 60 }),
    heightM: Type.Number({ minimum: 0, maximum: 5 }),
    wallDistanceM: Type.Number({ minimum: 0, maximum: 50 }),
  },
  closed,
);

export const MeasuredRoomSchema = Type.Object(
  {
    roomId: IdSchema,
    type: RoomTypeSchema,
    areaM2: Type.Number({ exclusiveMinimum: 0, maximum: 1000 }),
    points: Type.Array(MeasurementPointSchema, { maxItems: 20 }),
  },
  closed,
);

/** N30–N33: the measurement record as the field worker enters it. */
export const MeasurementRecordSchema = Type.Object(
  {
    measuredAt: TimestampSchema,
    rooms: Type.Array(MeasuredRoomSchema, { minItems: 1, maxItems: 50 }),
    residentSigned: Type.Boolean(),
    closedBeforeMin: Type.Number({ minimum: 0, maximum: 100_000 }),
    /** N31: the instrument's stated error, °C (the record is invalid above the city's bound). */
    instrumentErrorC: Type.Number({ minimum: 0, maximum: 10 }),
    outdoorTempC: Type.Optional(Type.Number({ minimum: -60, maximum: 50 })),
    residentAltered: Type.Optional(Type.Boolean()),
    measuredBy: Type.Optional(Type.String({ maxLength: 100 })),
  },
  closed,
);
export type MeasurementRecordBody = Static<typeof MeasurementRecordSchema>;

// ---- Responses (issue #15: every route declares its response; fastify serialises through
// these schemas and drops what they do not list). `Order` (order.ts) is OrderSchema's type, so
// the record and its response cannot drift apart.

const HistoryEntrySchema = Type.Object({
  at: EpochMsSchema,
  by: Type.String(),
  action: Type.String(),
  from: Type.Optional(OrderStatusSchema),
  to: Type.Optional(OrderStatusSchema),
  note: Type.Optional(Type.String()),
});
/** N21: a person told of an escalation. */
const RecipientSchema = Type.Object({ personId: Type.String(), name: Type.String(), role: Type.String() });
const EscalationSchema = Type.Object({
  level: EscalationLevelSchema,
  at: EpochMsSchema,
  afterHours: Type.Number(),
  /** N21: who was told — the order's own office's 所长, then the named managers. */
  notified: ListOf(RecipientSchema),
});
const SlaBreachSchema = Type.Object({ kind: Type.Enum(['answer', 'on_site', 'restore']), dueAt: EpochMsSchema, at: EpochMsSchema });
/** N25: resident out — note left with contact and a new appointment; or (N6) a late worker re-booked by phone. */
const NotHomeVisitSchema = Type.Object({
  at: EpochMsSchema,
  note: Type.String(),
  newAppointmentAt: EpochMsSchema,
  kind: Type.Optional(Type.Enum(['not_home', 'reschedule'])),
});

/** A measurement record as stored: `measuredBy` is always filled in by the service. */
const StoredMeasurementRecordSchema = Type.Object({
  ...MeasurementRecordSchema.properties,
  rooms: ListOf(Type.Object({ ...MeasuredRoomSchema.properties, points: ListOf(MeasurementPointSchema) })),
  measuredBy: Type.String(),
});
/** N30–N34: what the service concluded from a measurement record (domain/measurement.ts). */
export const MeasurementResultSchema = Type.Object({
  verdict: Type.Enum(['compliant', 'below_standard', 'invalid']),
  problems: ListOf(Type.String()),
  rooms: ListOf(
    Type.Object({
      roomId: Type.String(),
      type: RoomTypeSchema,
      valueC: Type.Number(),
      counted: Type.Boolean(),
      shortfallC: Type.Number(),
      refundPct: Type.Number(),
    }),
  ),
  apartmentValueC: Type.Union([Type.Number(), Type.Null()]),
  refundPctPerDay: Type.Number(),
  exempt: Type.Boolean(),
});

/** The whole order record (N20), as the company copy shows it. */
export const OrderSchema = Type.Object({
  id: Type.String(),
  /** N20: form number, e.g. 2026-000042. */
  number: Type.String(),
  source: OrderSourceSchema,
  channel: OrderChannelSchema,
  status: OrderStatusSchema,
  subjectType: OrderSubjectSchema,
  apartmentId: Type.Optional(Type.String()),
  buildingId: Type.Optional(Type.String()),
  stationId: Type.Optional(Type.String()),
  /** N5: the grid's office (供热所) serving the subject. */
  officeId: Type.Optional(Type.String()),
  /** Apartments this order covers (a station order lists them all, N4 links join here). */
  apartments: ListOf(Type.String()),
  incidentIds: ListOf(Type.String()),
  outageId: Type.Optional(Type.String()),
  /** The incident's cause, then the cause found on site. */
  cause: Type.Optional(CauseClassSchema),
  // N20 fields
  /** 接访供热所: office that received the request. */
  receivingOfficeId: Type.Optional(Type.String()),
  /** 接访时间 */
  receivedAt: EpochMsSchema,
  /** 接访人 */
  receiver: Type.String(),
  /** 预约上门时间 */
  appointmentAt: Type.Optional(EpochMsSchema),
  residentAddress: Type.Optional(Type.String()),
  residentPhone: Type.Optional(Type.String()),
  residentContact: Type.Optional(Type.String()),
  /** 服务内容 (the Chinese rendering when the platform wrote it: the paper form's text) */
  content: Type.String(),
  /** 服务内容 the platform wrote, as a message key and parameters: each reader sees it in their language. */
  contentText: Type.Optional(OrderTextSchema), // order-text.schema.ts
  /** Issue #20: opened from a predicted_cold — its state decides whether the repair clocks run (sla.ts). */
  prediction: Type.Optional(OrderPredictionSchema),
  /** 下发时间 */
  issuedAt: Type.Optional(EpochMsSchema),
  /** 接收人 */
  assignee: Type.Optional(Type.String()),
  /** 服务监督人 */
  supervisor: Type.Optional(Type.String()),
  /** N12: when the callback is booked (always inside callback hours). */
  callbackDueAt: Type.Optional(EpochMsSchema),
  /** 回访时间, 回访人, 回访结果 */
  callbackAt: Type.Optional(EpochMsSchema),
  callbackBy: Type.Optional(Type.String()),
  callbackResult: Type.Optional(Type.String()),
  /** N7: satisfaction 1–5 given at the callback. */
  satisfaction: Type.Optional(Type.Number()),
  // lifecycle facts
  /** N10: when the resident had an answer (the station accepted and booked). */
  answeredAt: Type.Optional(EpochMsSchema),
  onSiteAt: Type.Optional(EpochMsSchema),
  resolvedAt: Type.Optional(EpochMsSchema),
  closedAt: Type.Optional(EpochMsSchema),
  repairSheet: Type.Optional(RepairSheetSchema),
  /** N24: written explanation when the cause is inside the home. */
  userSideExplanation: Type.Optional(Type.String()),
  notHome: ListOf(NotHomeVisitSchema),
  measurement: Type.Optional(Type.Object({ record: StoredMeasurementRecordSchema, result: MeasurementResultSchema })),
  /** N34: a proven shortfall refunds `pctPerDay` for each day from `accruesFromAt` until heat is restored. */
  refund: Type.Optional(Type.Object({ pctPerDay: Type.Number(), accruesFromAt: EpochMsSchema, restoredAt: Type.Optional(EpochMsSchema) })),
  /** N4: the person who first received the request (told how it ended). */
  receiverId: Type.Optional(Type.String()),
  /** N4: the open order this complaint's apartment was already covered by. */
  linkedOrderId: Type.Optional(Type.String()),
  escalations: ListOf(EscalationSchema),
  slaBreaches: ListOf(SlaBreachSchema),
  history: ListOf(HistoryEntrySchema),
});
export type OrderDto = Static<typeof OrderSchema>;

/** N20: the team copy — what the field worker needs (orderView(o, 'team')); residents get it too. */
export const ORDER_TEAM_FIELDS = [
  // `source`: the worker must know which sheet the job takes — a repair sheet (N23) or a measurement record (N30).
  'id',
  'number',
  'source',
  'status',
  'subjectType',
  'apartmentId',
  'buildingId',
  'stationId',
  'apartments',
  'appointmentAt',
  'residentAddress',
  'residentPhone',
  'residentContact',
  'content',
  'contentText',
  'prediction', // the worker must know a predicted check (nobody may be cold yet) from a repair
  'issuedAt',
  'assignee',
  'repairSheet',
  'userSideExplanation',
  'notHome',
  'onSiteAt',
  'resolvedAt',
  'cause',
  'measurement',
] as const;
export const OrderTeamViewSchema = Type.Pick(OrderSchema, ORDER_TEAM_FIELDS);
export type OrderTeamView = Static<typeof OrderTeamViewSchema>;

/**
 * What a resident sees of an order on their apartment: the team copy, what they asked for and
 * when, their own rating (N7: so it is never asked twice) and the status steps with their times
 * — no staff notes, no usernames.
 */
export const ORDER_RESIDENT_FIELDS = [...ORDER_TEAM_FIELDS, 'source', 'receivedAt', 'callbackAt', 'satisfaction'] as const;
export const OrderTimelineSchema = ListOf(Type.Object({ at: EpochMsSchema, to: OrderStatusSchema }));
export const OrderResidentViewSchema = Type.Object({
  ...Type.Pick(OrderSchema, ORDER_RESIDENT_FIELDS).properties,
  timeline: OrderTimelineSchema,
});
export type OrderResidentView = Static<typeof OrderResidentViewSchema>;

/**
 * An order as a route answers it: the company or station copy (the whole record; the station
 * copy only lacks the optional rating), the resident's view or the team copy. The full record
 * is tried first, the team copy (a subset of the others) last.
 */
export const OrderViewSchema = Type.Union([OrderSchema, OrderResidentViewSchema, OrderTeamViewSchema]);
export type OrderViewDto = Static<typeof OrderViewSchema>;

/** POST /orders and /measurement-requests: `linked` when the request joined an open order (N4). */
export const OrderRequestResultSchema = Type.Object({ linked: Type.Boolean(), order: OrderViewSchema });

/** A notification sent about an order (socket room and event). */
export const OrderNotificationSchema = Type.Object({
  id: Type.Integer(),
  at: EpochMsSchema,
  orderId: Type.String(),
  room: Type.String(),
  type: Type.String(),
  detail: Type.Optional(Type.String()),
});
