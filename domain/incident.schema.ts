/**
 * Incidents: what the rules engine concludes. One open incident per subject and kind.
 * Published on MQTT (topics.incidents, QoS 1) as IncidentEvent JSON for the API.
 */
import Type, { type Static } from 'typebox';
import { Literals } from './literals.schema.ts';
import { EpochMsSchema } from './time.schema.ts';

/** Incident kinds that need someone to go and fix something: each opens an order (or joins one). */
export const ORDER_INCIDENT_KINDS = [
  'apartment_cold',
  'building_cold',
  'station_cold',
  'source_cold',
  'station_fault',
  'station_silent',
  /** Issue #20 (domain/forecast): an apartment warm now but forecast below the standard within the horizon. */
  'predicted_cold',
] as const;
/** Sensor trouble: it goes to the device list, never to an order. */
export const SENSOR_INCIDENT_KINDS = ['sensor_offline', 'sensor_low_battery', 'sensor_stuck', 'sensor_implausible'] as const;
export const IncidentKindSchema = Literals([...ORDER_INCIDENT_KINDS, ...SENSOR_INCIDENT_KINDS]);
export type IncidentKind = Static<typeof IncidentKindSchema>;

/** heating-norms §E root-cause classes. */
export const CauseClassSchema = Literals(['heat_source', 'station', 'building', 'in_home', 'not_a_fault', 'unknown']);
export type CauseClass = Static<typeof CauseClassSchema>;

export const SubjectTypeSchema = Literals(['apartment', 'room', 'device', 'building', 'station', 'source']);
export type SubjectType = Static<typeof SubjectTypeSchema>;

export const SeveritySchema = Literals(['info', 'minor', 'major', 'critical']);
export type Severity = Static<typeof SeveritySchema>;

export const IncidentStatusSchema = Literals(['open', 'resolved']);

export const IncidentSchema = Type.Object({
  /** Deterministic: `${kind}:${subjectId}:${startTs}` so replays give identical ids. */
  id: Type.String(),
  kind: IncidentKindSchema,
  subjectType: SubjectTypeSchema,
  subjectId: Type.String(),
  status: IncidentStatusSchema,
  /** Event time the condition began (not when it was detected), epoch ms. */
  startTs: EpochMsSchema,
  endTs: Type.Optional(EpochMsSchema),
  severity: SeveritySchema,
  cause: CauseClassSchema,
  /** The facts that decided the cause, e.g. { stationPumpHz: 0, coldNeighbourShare: 0.8 }. */
  evidence: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])),
  /** Parent incident (building/station/source) this one is grouped under. */
  parentId: Type.Optional(Type.String()),
  /** N3: shortfall on a day colder than design outdoor temperature: recorded, exempt. */
  exempt: Type.Optional(Type.Boolean()),
  stationId: Type.Optional(Type.String()),
  buildingId: Type.Optional(Type.String()),
  apartmentId: Type.Optional(Type.String()),
  /** For group incidents: the child incident subjects (apartment ids). */
  children: Type.Optional(Type.Array(Type.String())),
  /**
   * State number of this incident, 1 at opening and +1 with every event (deterministic, so a
   * replay gives the same). A consumer keeps the highest: equal = a redelivery, lower = stale.
   */
  revision: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type Incident = Static<typeof IncidentSchema>;

export const IncidentEventSchema = Type.Object({
  type: Literals(['opened', 'updated', 'resolved']),
  /** Event time of this transition, epoch ms. */
  at: EpochMsSchema,
  incident: IncidentSchema,
});
export type IncidentEvent = Static<typeof IncidentEventSchema>;
