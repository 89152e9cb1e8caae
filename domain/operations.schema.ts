/**
 * Operations over REST: planned outages (N9), an incident with its order, the audit log and
 * the KPIs (domain/orders/kpi.ts). One schema per shape; each mirrors the record its
 * repository or service returns (operations.schema.test.ts checks them field by field).
 */
import Type, { type Static } from 'typebox';
import { IncidentSchema } from './incident.schema.ts';
import { OrderSchema } from './orders/order.schema.ts';
import { ListOf } from './list.schema.ts';
import { EpochMsSchema } from './time.schema.ts';

/** N9: a planned (or emergency) outage with the apartments it reaches. */
export const OutageSchema = Type.Object({
  id: Type.String(),
  scopeType: Type.Enum(['station', 'building']),
  scopeId: Type.String(),
  stationId: Type.String(),
  startsAt: EpochMsSchema,
  endsAt: EpochMsSchema,
  reason: Type.String(),
  emergency: Type.Boolean(),
  announcedAt: EpochMsSchema,
  announcedBy: Type.String(),
  apartments: ListOf(Type.String()),
  followUpOrderId: Type.Optional(Type.String()),
  explainedIncidentIds: Type.Optional(ListOf(Type.String())),
  emergencyReason: Type.Optional(Type.String()),
  /** N9: when each apartment was told, and how far ahead. */
  notices: Type.Optional(ListOf(Type.Object({ apartmentId: Type.String(), at: EpochMsSchema, hoursAhead: Type.Number() }))),
});
export type OutageDto = Static<typeof OutageSchema>;
/** What a resident sees of an outage: everything but the list of other apartments. */
export const ResidentOutageSchema = Type.Omit(OutageSchema, ['apartments']);
/** GET /outages answers staff with OutageSchema and residents with ResidentOutageSchema. */
export const OutageListSchema = ListOf(Type.Union([OutageSchema, ResidentOutageSchema]));

export const IncidentDetailSchema = Type.Object({ incident: IncidentSchema, order: Type.Union([OrderSchema, Type.Null()]) });

/** What an audit record is about; `access`: a request refused by the default-deny check. */
export const AuditEntitySchema = Type.Enum(['order', 'person', 'device', 'outage', 'import', 'access', 'topology']);
export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: EpochMsSchema,
  actor: Type.String(),
  entity: AuditEntitySchema,
  entityId: Type.String(),
  action: Type.String(),
  detail: Type.Optional(Type.Unknown()),
});

const ComplianceRowSchema = Type.Object({
  id: Type.String(),
  apartments: Type.Integer(),
  apartmentHours: Type.Number(),
  coldApartmentHours: Type.Number(),
  exemptColdApartmentHours: Type.Number(),
  compliance: Type.Union([Type.Number(), Type.Null()], { description: 'share of apartment-hours at or above the standard (N2), 0–1' }),
  complianceWithExempt: Type.Union([Type.Number(), Type.Null()]),
});
const Counts = Type.Record(Type.String(), Type.Integer());
const Rate = Type.Union([Type.Number(), Type.Null()]);
const Minutes = Type.Union([Type.Number(), Type.Null()], { description: 'median minutes; null when no order had the step' });

export const KpisSchema = Type.Object({
  from: Type.Number(),
  to: Type.Number(),
  compliance: Type.Object({ city: ComplianceRowSchema, byOffice: ListOf(ComplianceRowSchema), byStation: ListOf(ComplianceRowSchema) }),
  orders: Type.Object({ received: Type.Integer(), repair: Type.Integer(), bySource: Counts, byStatus: Counts, byCause: Counts }),
  /** N22 */
  callback: Type.Object({ resolved: Type.Integer(), calledBack: Type.Integer(), rate: Rate, target: Type.Number() }),
  /** N7 */
  satisfaction: Type.Object({ rated: Type.Integer(), satisfied: Type.Integer(), rate: Rate, target: Type.Number() }),
  medianMinutes: Type.Object({ answer: Minutes, onSite: Minutes, restore: Minutes }),
  escalationsByLevel: Counts,
  slaBreachesByKind: Counts,
});
export type KpisDto = Static<typeof KpisSchema>;
