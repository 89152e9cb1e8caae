/**
 * A spooled message → the unit of work of the write pipeline: its topic parsed, its payload
 * validated against the device's registry location, readings and rejections apart.
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
      return { seq: e.seq, topic: e.topic, at: e.at, readings: [], rejections: [{ reason: 'bad_topic', raw: e.payload }] };
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
    // The location's id where there is one: the topic's copy of it then dies young.
    return { seq: e.seq, topic: e.topic, deviceId: loc?.deviceId ?? t.deviceId, at: e.at, readings: v.readings, rejections: v.rejections };
  };
}
