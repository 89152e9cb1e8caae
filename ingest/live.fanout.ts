/**
 * Live fan-out after a store write: the newest reading of each device in the batch, in
 * chunks on `heat/v1/platform/live` at QoS 0 (the dashboard shows latest values; history
 * comes from the store). A backlog of ten readings per device costs one live entry, not ten —
 * the fan-out was ~3 µs per reading in JSON and MQTT encoding, plus the broker's and the
 * API's share. One MQTT message per chunk of `liveChunk` devices, never one per reading.
 * (Writing the JSON by hand instead of LiveReading objects + JSON.stringify was tried for
 * issue 19: 40–60 % slower than V8's JSON.stringify fast path, so not kept.)
 */
import type { LiveReading } from '../domain/events.ts';
import type { Reading } from '../domain/reading.ts';
import { topics } from '../domain/topics.ts';

/** A stored reading as the live topic carries it (no office tag). */
function toLive(r: Reading): LiveReading {
  const l: Record<string, unknown> = { deviceId: r.deviceId, kind: r.kind, ts: r.ts, fields: r.fields };
  if (r.roomId) l.roomId = r.roomId;
  if (r.apartmentId) l.apartmentId = r.apartmentId;
  if (r.buildingId) l.buildingId = r.buildingId;
  if (r.stationId) l.stationId = r.stationId;
  return l as unknown as LiveReading;
}

/** The live messages for one stored batch (empty when there is nothing to show). */
export function liveMessages(readings: readonly Reading[], chunk: number): { topic: string; payload: string }[] {
  if (!readings.length) return [];
  const newest = new Map<string, Reading>();
  for (const r of readings) {
    const had = newest.get(r.deviceId);
    if (!had || had.ts <= r.ts) newest.set(r.deviceId, r);
  }
  const all = newest.size === readings.length ? readings : [...newest.values()];
  const out: { topic: string; payload: string }[] = [];
  for (let i = 0; i < all.length; i += chunk) {
    const part: LiveReading[] = [];
    for (let j = i; j < Math.min(i + chunk, all.length); j++) part.push(toLive(all[j]!));
    out.push({ topic: topics.live, payload: JSON.stringify(part) });
  }
  return out;
}
