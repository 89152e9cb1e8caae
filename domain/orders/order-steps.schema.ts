/**
 * The steps a person takes on an order, once (issue #15): each step's REST body, who may take
 * it and its route path (STEPS), and the order-action union read off that table
 * (PersonActionSchema), plus the system-only link action. Routes, the service and the
 * dashboard's client all read these; nothing else lists the steps by hand.
 *
 * Every body is closed (`additionalProperties: false`): a body can neither pick a different
 * step nor smuggle a field into one (#13 finding 3).
 */
import Type, { type Static, type TObject, type TProperties } from 'typebox';
import { CauseClassSchema } from '../incident.schema.ts';
import { STAFF_ROLES, type Role } from '../roles.ts';
import { IdSchema } from '../topology.schema.ts';
import { MeasurementRecordSchema, RepairSheetSchema, TimestampSchema } from './order.schema.ts';

const closed = { additionalProperties: false } as const;
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

// One body per step route. The route adds `type`; the body cannot name one (closed).
const DispatchProps = {
  assignee: Type.Optional(Type.String({ maxLength: 100 })),
  supervisor: Type.Optional(Type.String({ maxLength: 100 })),
};
const AcceptProps = { appointmentAt: Type.Optional(TimestampSchema) };
/** N25: note left (never on the door) with contact and phone, and a new appointment. */
const NotHomeProps = { note: Text(1000), newAppointmentAt: TimestampSchema };
const ResolveProps = {
  cause: CauseClassSchema,
  repairSheet: Type.Optional(RepairSheetSchema),
  userSideExplanation: Type.Optional(Type.String({ maxLength: 4000 })),
  measurement: Type.Optional(MeasurementRecordSchema),
};
/** N6, seed ch.2 §13: running late, the worker phones to apologise and agrees a new time. */
const RescheduleProps = { note: Text(1000), newAppointmentAt: TimestampSchema };
/** N12: book the callback; without `at`, the next minute inside callback hours. */
const ScheduleCallbackProps = { at: Type.Optional(TimestampSchema) };
/** N7 scores: integers 1–5. */
export const SatisfactionSchema = Type.Integer({ minimum: 1, maximum: 5 });
const CallbackProps = { result: Text(2000), satisfaction: Type.Optional(SatisfactionSchema) };
/** N7: a rating 1–5 (the resident's, or entered at the callback). */
const RatingProps = { satisfaction: SatisfactionSchema };
const NoteProps = { note: Text(2000) };
const CloseProps = { note: Type.Optional(Type.String({ maxLength: 2000 })) };

const FIELD_ROLES: readonly Role[] = ['admin', 'station_staff', 'station_head'];
const DESK_ROLES: readonly Role[] = ['admin', 'dispatcher'];

/**
 * Every step a person takes on an order, once: its body's fields (the route adds `type`), who
 * may take it (the routes enforce it and the dashboard shows a role only its own) and, where
 * it is not the type with dashes, its route path. ORDER_STEPS, STEP_ROLES and
 * PersonActionSchema are read off this table.
 */
const STEPS = {
  dispatch: { props: DispatchProps, roles: DESK_ROLES },
  accept: { props: AcceptProps, roles: FIELD_ROLES },
  not_home: { props: NotHomeProps, roles: FIELD_ROLES },
  reschedule: { props: RescheduleProps, roles: FIELD_ROLES },
  arrive: { props: {}, roles: FIELD_ROLES },
  resolve: { props: ResolveProps, roles: FIELD_ROLES },
  schedule_callback: { props: ScheduleCallbackProps, roles: DESK_ROLES },
  callback: { props: CallbackProps, roles: DESK_ROLES },
  rate: { props: RatingProps, roles: ['admin', 'dispatcher', 'resident'], path: 'rating' },
  close: { props: CloseProps, roles: DESK_ROLES },
  cancel: { props: NoteProps, roles: ['admin', 'dispatcher', 'manager'] },
  note: { props: NoteProps, roles: STAFF_ROLES },
} as const satisfies Record<string, { props: TProperties; roles: readonly Role[]; path?: string }>;
type Steps = typeof STEPS;
export type OrderStepType = keyof Steps;
export const ORDER_STEP_TYPES = Object.keys(STEPS) as OrderStepType[];
type Dashed<S extends string> = S extends `${infer A}_${infer B}` ? `${A}-${Dashed<B>}` : S;
type StepPath<K extends OrderStepType> = Steps[K] extends { path: infer P } ? P : Dashed<K>;
const steps = Object.entries(STEPS) as [OrderStepType, Steps[OrderStepType]][];

/** Each step: its route path and its body (closed: a body naming a type is refused). Routes, service and dashboard read this table. */
export const ORDER_STEPS = Object.fromEntries(
  steps.map(([type, s]) => [type, { path: 'path' in s ? s.path : type.replaceAll('_', '-'), body: Type.Object(s.props, closed) }]),
) as { readonly [K in OrderStepType]: { readonly path: StepPath<K>; readonly body: TObject<Steps[K]['props']> } };

/** Who may take each step. */
export const STEP_ROLES = Object.fromEntries(steps.map(([type, s]) => [type, s.roles])) as Readonly<Record<OrderStepType, readonly Role[]>>;

export type ResolveBody = Static<(typeof ORDER_STEPS)['resolve']['body']>;

/** What a person may ask of an order: exactly one step route's body plus the route's type. */
export type PersonAction = { [K in OrderStepType]: { type: K } & Static<TObject<Steps[K]['props']>> }[OrderStepType];
export const PersonActionSchema = Type.Unsafe<PersonAction>(
  Type.Union(steps.map(([type, s]) => Type.Object({ type: Type.Literal(type), ...s.props }, closed))),
);

/** System-only step: the service joins incidents and apartments to an order (N4); no route reaches it. */
export const LinkActionSchema = Type.Object(
  {
    type: Type.Literal('link'),
    apartments: Type.Optional(Type.Array(IdSchema, { maxItems: 100_000 })),
    incidentId: Type.Optional(Type.String()),
    note: Text(2000),
  },
  closed,
);
export type LinkAction = Static<typeof LinkActionSchema>;
