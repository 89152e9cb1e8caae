/**
 * The on-disk form of the rules engine's state (`RulesEngine.snapshot()`), one schema per
 * version. Version 2 names every column: one array per state field and entity (indexed like
 * `ids`), station meter values and fault timers as one column per field or fault *name*,
 * sensor flags as one 0/1 column per flag — nothing is addressed as `i * FIELD_COUNT`, so a
 * station field added or removed later is a missing or extra column, never a shifted one.
 * Version 1 (positional) is described here only so snapshot.codec.ts can migrate it.
 */
import Type, { type Static } from 'typebox';
import { IncidentSchema } from '../incident.schema.ts';

export const SNAPSHOT_VERSION = 2;

/** A number, or null for NaN (JSON has no NaN): "no value yet". */
const Num = Type.Union([Type.Number(), Type.Null()]);
const Col = Type.Array(Num);
const Ids = Type.Array(Type.String());
const Bit = Type.Array(Type.Integer({ minimum: 0, maximum: 1 }));

export const SensorColumnsSchema = Type.Object({
  ids: Ids,
  lastTs: Col,
  temp: Col,
  stuckSince: Col,
  stuckValue: Col,
  windowRef: Col,
  windowSince: Col,
  /** Watermark when each sensor's last reading was handed in (later than lastTs for a backlog). */
  heard: Col,
  /** One 0/1 column per flag (engine.state.ts SENSOR_FLAGS); a missing flag column reads as 0. */
  flags: Type.Record(Type.String(), Bit),
  /** Per sensor, its recent readings oldest first (the §E.5 window pattern's memory). */
  recentTs: Type.Array(Type.Array(Type.Number())),
  recentTemp: Type.Array(Type.Array(Type.Number())),
});

/**
 * The apartment timers, stored alike by versions 1 and 2 (v2 kept v1's columns). A version
 * that changes one of them must give the older versions their own copy.
 */
const ApartmentTimers = { ids: Ids, belowSince: Col, aboveStdSince: Col, recoverSince: Col, lastEval: Col, lastValue: Col, hint: Col };

export const ApartmentColumnsSchema = Type.Object({
  ...ApartmentTimers,
  /** N2 evidence rows (one per apartment and local day), as columns. */
  compliance: Type.Object({
    apartmentId: Ids,
    day: Type.Array(Type.Integer()),
    msBelow: Type.Array(Type.Number()),
    msExempt: Type.Array(Type.Number()),
  }),
});

export const StationColumnsSchema = Type.Object({
  ids: Ids,
  /** Latest meter value per STATION_FIELDS name; a field this snapshot lacks reads as "never reported". */
  values: Type.Record(Type.String(), Col),
  /** Since when each fault condition (STATION_FAULTS name) has held. */
  faultSince: Type.Record(Type.String(), Col),
  /** Confirmed faults, one 0/1 column per STATION_FAULTS name. */
  confirmed: Type.Record(Type.String(), Bit),
  outdoorDay: Col,
  outdoorSum: Type.Array(Type.Number()),
  outdoorCount: Type.Array(Type.Number()),
});

export const MeterColumnsSchema = Type.Object({ ids: Ids, lastTs: Col, silent: Bit, heard: Col });

export const EngineSnapshotSchema = Type.Object({
  version: Type.Literal(SNAPSHOT_VERSION),
  now: Num,
  sensors: SensorColumnsSchema,
  apartments: ApartmentColumnsSchema,
  stations: StationColumnsSchema,
  meters: MeterColumnsSchema,
  /** N3 fallback: the city-wide outdoor mean so far on `day`. */
  outdoor: Type.Object({ day: Num, sum: Type.Number(), count: Type.Number() }),
  /** Group incident id → apartments whose resolved incidents still point to it. */
  resolvedChildren: Type.Record(Type.String(), Ids),
  open: Type.Array(IncidentSchema),
});
/** Plain-JSON state of an engine (NaN stored as null). Restore with `RulesEngine.restore`. */
export type EngineSnapshot = Static<typeof EngineSnapshotSchema>;

/** Version 1, as the engine wrote it until version 2: station values `i * 16 + slot`, fault timers `i * 4 + bit`, rings `i * 8 + slot`, flags as bits. */
export const EngineSnapshotV1Schema = Type.Object({
  version: Type.Literal(1),
  now: Num,
  sensors: Type.Object({
    ids: Ids,
    lastTs: Col,
    temp: Col,
    flags: Type.Array(Type.Integer()),
    stuckSince: Col,
    stuckValue: Col,
    windowRef: Col,
    windowSince: Col,
    ringTs: Col,
    ringTemp: Col,
    ringPos: Type.Array(Type.Integer()),
    heard: Type.Optional(Col),
  }),
  apartments: Type.Object({
    ...ApartmentTimers,
    compliance: Type.Array(Type.Tuple([Type.String(), Type.Integer(), Type.Number(), Type.Number()])),
  }),
  stations: Type.Object({
    ids: Ids,
    values: Col,
    faultSince: Col,
    confirmed: Type.Array(Type.Integer()),
    outdoorDay: Col,
    outdoorSum: Type.Array(Type.Number()),
    outdoorCount: Type.Array(Type.Number()),
  }),
  meters: Type.Object({ ids: Ids, lastTs: Col, silent: Type.Array(Type.Integer()), heard: Type.Optional(Col) }),
  resolvedChildren: Type.Optional(Type.Record(Type.String(), Ids)),
  outdoor: Type.Tuple([Num, Type.Number(), Type.Number()]),
  open: Type.Array(IncidentSchema),
});
export type EngineSnapshotV1 = Static<typeof EngineSnapshotV1Schema>;
