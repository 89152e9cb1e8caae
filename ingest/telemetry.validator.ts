/**
 * Telemetry validation by device kind (from the registry, never from the payload). Pure: the
 * device's location, the policy and "now" are arguments. One bad element of a batch rejects
 * only itself; every rejection carries a reason the ingest counts and dead-letters.
 */
import { Compile } from 'typebox/compile';
import { HOUR_MS, MINUTE_MS } from '../domain/clock.ts';
import type { HeatingPolicy } from '../domain/policy.ts';
import { parseTimestamp, type Reading } from '../domain/reading.ts';
import { ROOM_FIELDS, RoomSensorPayloadSchema, STATION_FIELDS, StationMeterPayloadSchema } from '../domain/telemetry.schema.ts';
import type { DeviceKind, DeviceLocation } from '../domain/topology.schema.ts';

export type RejectReason =
  | 'bad_topic'
  | 'unknown_device'
  | 'device_disabled'
  | 'gateway_mismatch'
  | 'unsupported_kind'
  | 'payload_too_large'
  | 'bad_json'
  | 'bad_shape'
  | 'empty_batch'
  | 'batch_too_large'
  | 'bad_timestamp'
  | 'timestamp_without_offset'
  | 'future_timestamp'
  | 'too_old'
  | 'wrong_type'
  | 'not_finite'
  | 'out_of_range'
  | 'unknown_field'
  | 'no_fields';

export const REJECT_REASONS: readonly RejectReason[] = [
  'bad_topic',
  'unknown_device',
  'device_disabled',
  'gateway_mismatch',
  'unsupported_kind',
  'payload_too_large',
  'bad_json',
  'bad_shape',
  'empty_batch',
  'batch_too_large',
  'bad_timestamp',
  'timestamp_without_offset',
  'future_timestamp',
  'too_old',
  'wrong_type',
  'not_finite',
  'out_of_range',
  'unknown_field',
  'no_fields',
];

export interface Rejection {
  readonly reason: RejectReason;
  /** The offending element (a batch element) or the whole payload. */
  readonly raw: string | Uint8Array;
  readonly detail?: string;
}

export interface Validated {
  readonly readings: Reading[];
  readonly rejections: readonly Rejection[];
}

/** The rejections of a message without any: one shared empty list, not one per message. */
const NO_REJECTIONS: readonly Rejection[] = Object.freeze([]);

/** Bytes; a full backlog (maxBatchReadings station readings) is well below this. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

interface Range {
  readonly min: number;
  readonly max: number;
}
type FieldRanges = ReadonlyMap<string, Range>;

/** Numeric ranges straight from the domain schemas, room temperature narrowed by the policy. */
function rangesOf(schema: { properties: Record<string, unknown> }, fields: readonly string[]): Map<string, Range> {
  const m = new Map<string, Range>();
  for (const f of fields) {
    const p = schema.properties[f] as { minimum?: number; maximum?: number } | undefined;
    m.set(f, { min: p?.minimum ?? Number.NEGATIVE_INFINITY, max: p?.maximum ?? Number.POSITIVE_INFINITY });
  }
  return m;
}

/** ISO-8601 zone designator at the end: `Z`, `+08:00`, `+0800`, `-05`. */
const OFFSET = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T/;

/** The whole message refused for one reason. */
function rejectWhole(payload: Uint8Array, reason: RejectReason, detail?: string): Validated {
  return { readings: [], rejections: [{ reason, raw: payload, detail }] };
}

const roomCheck = Compile(RoomSensorPayloadSchema);
const stationCheck = Compile(StationMeterPayloadSchema);

export class TelemetryValidator {
  readonly #ranges: Readonly<Record<'room_sensor' | 'station_meter', FieldRanges>>;
  readonly #policy: HeatingPolicy;

  constructor(policy: HeatingPolicy) {
    this.#policy = policy;
    const room = rangesOf(RoomSensorPayloadSchema, ROOM_FIELDS);
    // Policy range for room temperature (validation.roomTempMinC/MaxC, e.g. −40…60 °C).
    room.set('temp', { min: policy.validation.roomTempMinC, max: policy.validation.roomTempMaxC });
    this.#ranges = { room_sensor: room, station_meter: rangesOf(StationMeterPayloadSchema, STATION_FIELDS) };
  }

  /**
   * Validate one telemetry message of a located device. `loc` undefined → unknown device.
   * `gatewayId` is set when it came over a gateway topic.
   */
  validate(payload: Uint8Array, loc: DeviceLocation | undefined, nowMs: number, gatewayId?: string): Validated {
    // Hot path (once per message): no closures here — tsx's keepNames wraps each one created
    // per call in a defineProperty (issue 19 profile).
    if (!loc) return rejectWhole(payload, 'unknown_device');
    if (!loc.enabled) return rejectWhole(payload, 'device_disabled');
    if (gatewayId !== undefined && loc.gatewayId !== gatewayId) return rejectWhole(payload, 'gateway_mismatch');
    if (loc.kind !== 'room_sensor' && loc.kind !== 'station_meter') return rejectWhole(payload, 'unsupported_kind');
    if (payload.byteLength > MAX_PAYLOAD_BYTES) return rejectWhole(payload, 'payload_too_large');
    let doc: unknown;
    try {
      const text = Buffer.isBuffer(payload)
        ? payload.toString('utf8')
        : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
      doc = JSON.parse(text);
    } catch (e) {
      return rejectWhole(payload, 'bad_json', String(e).slice(0, 200));
    }
    if (Array.isArray(doc)) {
      if (doc.length === 0) return rejectWhole(payload, 'empty_batch');
      if (doc.length > this.#policy.validation.maxBatchReadings) return rejectWhole(payload, 'batch_too_large', `${doc.length} elements`);
      const readings: Reading[] = [];
      let rejections: Rejection[] | undefined;
      for (const el of doc) {
        const got = this.#check(el, loc, nowMs);
        if (isWhy(got)) (rejections ??= []).push({ reason: got[0], raw: serialise(el), detail: got[1] });
        else readings.push(got);
      }
      return { readings, rejections: rejections ?? NO_REJECTIONS };
    }
    // One object: its reading in a list of one (a `[]` grown by a push holds 17 slots, and the
    // list lives until the store write: issue 19), or the whole message rejected.
    const got = this.#check(doc, loc, nowMs);
    return isWhy(got) ? rejectWhole(payload, got[0], got[1]) : { readings: [got], rejections: NO_REJECTIONS };
  }

  /** The element's reading, or why it is rejected (no closure per element: hot path). */
  #check(el: unknown, loc: DeviceLocation, nowMs: number): Reading | Why {
    if (el === null || typeof el !== 'object' || Array.isArray(el)) return ['bad_shape'];
    const kind = loc.kind as Exclude<DeviceKind, 'gateway'>;
    const o = el as Record<string, unknown>;
    const ts = o.ts;
    let t: number;
    if (typeof ts === 'number') t = parseTimestamp(ts);
    else if (typeof ts === 'string') {
      // An ISO time without Z or ±hh:mm is local to a clock we do not know (JavaScript would
      // read it as the ingest's own zone): refused as such, not guessed.
      if (ISO_DATE.test(ts) && !OFFSET.test(ts)) return ['timestamp_without_offset', 'ts'];
      t = parseTimestamp(ts);
    } else return ['bad_timestamp', 'ts'];
    if (!Number.isFinite(t) || t < 0) return ['bad_timestamp', 'ts'];
    if (t > nowMs + this.#policy.validation.maxFutureSkewMin * MINUTE_MS) return ['future_timestamp', 'ts'];
    if (t < nowMs - this.#policy.validation.maxBacklogHours * HOUR_MS) return ['too_old', 'ts'];
    const ranges = this.#ranges[kind];
    const fields: Record<string, number> = {};
    let n = 0;
    for (const k in o) {
      if (k === 'ts') continue;
      const v = o[k];
      const r = ranges.get(k);
      if (!r) return ['unknown_field', k.slice(0, 64)];
      if (typeof v !== 'number') return ['wrong_type', k];
      if (!Number.isFinite(v)) return ['not_finite', k];
      if (v < r.min || v > r.max) return ['out_of_range', `${k}=${v}`];
      fields[k] = v;
      n++;
    }
    if (n === 0) return ['no_fields'];
    if (kind === 'room_sensor' && fields.temp === undefined) return ['no_fields', 'temp'];
    // Final guard: the domain schema itself (e.g. ts string length).
    if (!(kind === 'room_sensor' ? roomCheck.Check(o) : stationCheck.Check(o))) return ['bad_shape', 'schema'];
    const reading: Record<string, unknown> = { deviceId: loc.deviceId, kind, ts: t, fields };
    if (loc.roomId) reading.roomId = loc.roomId;
    if (loc.apartmentId) reading.apartmentId = loc.apartmentId;
    if (loc.buildingId) reading.buildingId = loc.buildingId;
    if (loc.stationId) reading.stationId = loc.stationId;
    if (loc.officeId) reading.officeId = loc.officeId;
    return reading as unknown as Reading;
  }
}

/** Why an element is rejected: the reason and a detail (the field, its value). */
type Why = [RejectReason, string?];
const isWhy = (got: Reading | Why): got is Why => Array.isArray(got);

/** A rejected batch element as text for the dead letter. */
function serialise(el: unknown): string {
  try {
    return JSON.stringify(el) ?? String(el);
  } catch {
    // Too deep to serialise (e.g. 50,000 nested arrays: String() recurses too): a marker,
    // never a throw — a throw here was an unhandled rejection that killed the ingest,
    // and the message, still spooled, killed it again on every restart.
    return '[element too deep to serialise]';
  }
}
