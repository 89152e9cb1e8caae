/**
 * The engineer's replay workspace over REST (api/routes/replay.routes.ts): scenarios with
 * their names in both UI languages, runs that outlive the page that started them, and each
 * run's own sandboxed city — never the live one — for the map, station and building views.
 */
import Type, { type Static } from 'typebox';
import { IncidentSchema } from './incident.schema.ts';
import { ApartmentSchema, BuildingSchema, HeatSourceSchema, StationSchema } from './topology.schema.ts';
import { EpochMsSchema } from './time.schema.ts';
import { ListOf } from './list.schema.ts';

/** A text in each UI language. */
export const LocalizedTextSchema = Type.Object({ 'zh-CN': Type.String(), en: Type.String() });
export type LocalizedText = Static<typeof LocalizedTextSchema>;

export const ScenarioInfoSchema = Type.Object({
  id: Type.String(),
  title: LocalizedTextSchema,
  summary: LocalizedTextSchema,
  /** Event-time span, epoch ms. */
  start: EpochMsSchema,
  end: EpochMsSchema,
});
export type ScenarioInfo = Static<typeof ScenarioInfoSchema>;

export const ReplayStatusSchema = Type.Enum(['running', 'finished', 'stopped', 'failed']);
export type ReplayStatus = Static<typeof ReplayStatusSchema>;

export const ReplayRunSchema = Type.Object({
  id: Type.String(),
  scenario: Type.Optional(Type.String()),
  /** Name of an uploaded recording. */
  file: Type.Optional(Type.String()),
  title: LocalizedTextSchema,
  speed: Type.Number(),
  /** Wall time the run started, epoch ms. */
  startedAt: EpochMsSchema,
  status: ReplayStatusSchema,
  /** Progress, per-mille of the run's event-time span (or of the file's bytes). */
  done: Type.Number(),
  total: Type.Number(),
  etaMs: Type.Optional(Type.Number()),
  /** Event time the run has reached, epoch ms. */
  eventTs: EpochMsSchema,
  readings: Type.Number(),
  incidents: Type.Number(),
  open: Type.Number(),
  error: Type.Optional(Type.String()),
});
export type ReplayRun = Static<typeof ReplayRunSchema>;

export const StationCountsSchema = Type.Object({ monitored: Type.Number(), cold: Type.Number() });

export const ReplayCitySchema = Type.Object({
  run: ReplayRunSchema,
  stations: ListOf(StationSchema),
  sources: ListOf(HeatSourceSchema),
  /** The run's open incidents (event time), newest first. */
  incidents: ListOf(IncidentSchema),
  /** Per station: monitored apartments with a value, and those below the standard (N2). */
  counts: Type.Record(Type.String(), StationCountsSchema),
  /**
   * What each open incident is about, by name (station name, building address, address and
   * apartment number): the run's city is not in the live registry the dashboard names ids from.
   * A device has no entry: its number is its name.
   */
  subjects: Type.Record(Type.String(), Type.String()),
});
export type ReplayCity = Static<typeof ReplayCitySchema>;

export const ReplayStationSchema = Type.Object({
  run: ReplayRunSchema,
  station: StationSchema,
  buildings: ListOf(BuildingSchema),
  apartments: ListOf(ApartmentSchema),
  /** Latest meter reading in the run. */
  meter: Type.Optional(Type.Object({ ts: EpochMsSchema, fields: Type.Record(Type.String(), Type.Number()) })),
  /** The run's meter series, mean per `bucketMs` of event time, by field — for the station view's charts. */
  series: Type.Optional(
    Type.Object({
      bucketMs: Type.Number(),
      fields: Type.Record(Type.String(), ListOf(Type.Object({ ts: EpochMsSchema, value: Type.Number() }))),
    }),
  ),
  /** Latest apartment value in the run (mean of its rooms), °C. */
  apartmentValues: Type.Record(Type.String(), Type.Number()),
  /** Every incident of the run on this station (open and resolved). */
  incidents: ListOf(IncidentSchema),
});
export type ReplayStation = Static<typeof ReplayStationSchema>;

export const ReplayUploadSchema = Type.Object({ file: Type.String(), bytes: Type.Number(), format: Type.Enum(['csv', 'lp']) });
export type ReplayUpload = Static<typeof ReplayUploadSchema>;

/** POST /replay (202): the run started; `total` when the size is known up front. */
export const ReplayStartedSchema = Type.Object({ runId: Type.String(), total: Type.Optional(Type.Number()) });
