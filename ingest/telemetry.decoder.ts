/**
 * A spooled message → the unit of work of the write pipeline: its topic parsed, its payload
 * validated against the device's registry location, readings and rejections apart. The
 * entry's payload may be a view into the spool reader's buffer (spool.feed.ts), reused by
 * its next read: a Work never holds it — a rejection of the whole message gets a copy.
 */
import type { Logger } from 'pino';
import type { Reading } from '../domain/reading.ts';
import { parseTopic } from '../domain/topics.ts';
import type { DeviceLocations } from './device-locations.ts';
import type { SpoolEntry } from './spool.repository.ts';
import type { Rejection, TelemetryValidator } from './telemetry.validator.ts';

export interface Work {
  readonly seq: number;
  readonly topic: string;
  readonly deviceId?: string;
  readonly at: number;
  readonly readings: Reading[];
  readonly rejections: readonly Rejection[];
}

export function decoder(validator: TelemetryValidator, locations: DeviceLocations, log: Logger): (e: SpoolEntry) => Work {
  return (e) => {
    const t = parseTopic(e.topic);
    if (t.type !== 'telemetry')
      return { seq: e.seq, topic: e.topic, at: e.at, readings: [], rejections: [{ reason: 'bad_topic', raw: Buffer.from(e.payload) }] };
    const loc = locations.locate(t.deviceId);
    let v: ReturnType<TelemetryValidator['validate']>;
    try {
      v = validator.validate(e.payload, loc, e.at, t.gatewayId);
    } catch (err) {
      // A payload that breaks the validator is rejected, never a crash: a crash would repeat
      // on every restart, since the message is still in the spool (a poison message).
      log.warn({ err: String(err), deviceId: t.deviceId }, 'validator failed on a payload');
      v = { readings: [], rejections: [{ reason: 'bad_shape', raw: e.payload, detail: 'validator error' }] };
    }
    const rejections = v.rejections.length ? ownPayload(v.rejections, e.payload) : v.rejections;
    // The location's id where there is one: the topic's copy of it then dies young.
    return { seq: e.seq, topic: e.topic, deviceId: loc?.deviceId ?? t.deviceId, at: e.at, readings: v.readings, rejections };
  };
}

/** The rejections, those that hold the message's payload given a copy of it (the rest as they are). */
function ownPayload(rejections: readonly Rejection[], payload: Buffer): readonly Rejection[] {
  let copy: Buffer | undefined;
  const out: Rejection[] = [];
  for (const r of rejections) out.push(r.raw === payload ? { ...r, raw: (copy ??= Buffer.from(payload)) } : r);
  return out;
}
