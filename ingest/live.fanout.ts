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

/**
 * The live messages of the stored batches, one batch at a time. Each device's newest reading
 * is found without a Map per batch (issue 19: building one of 5,000 entries was a third of the
 * fan-out's CPU at 1 reading/message): one Map for the life of the ingest holds, per device,
 * the stamp of its newest reading so far (bounded by the devices that send), and a stamp
 * of this batch on an earlier reading is the only sign of a repeated device. A batch
 * without one — the usual case at 1 reading/message — goes out as it is.
 */
export class LiveFanout {
  readonly #chunk: number;
  /** deviceId → stamp of its newest reading (batch base + index in the batch). */
  readonly #newest = new Map<string, number>();
  #nextBase = 0;

  /** `chunk`: devices per live message. */
  constructor(chunk: number) {
    this.#chunk = chunk;
  }

  /** The live messages for one stored batch (empty when there is nothing to show). */
  messages(readings: readonly Reading[]): { topic: string; payload: string }[] {
    if (!readings.length) return [];
    const base = this.#nextBase;
    this.#nextBase += readings.length;
    const newest = this.#newest;
    let repeated = false;
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i]!;
      const had = newest.get(r.deviceId);
      if (had !== undefined && had >= base) {
        repeated = true;
        if (readings[had - base]!.ts > r.ts) continue; // an older reading after a newer one
      }
      newest.set(r.deviceId, base + i);
    }
    let all = readings;
    if (repeated) {
      // Each device once, at the place of its newest reading.
      const kept: Reading[] = [];
      for (let i = 0; i < readings.length; i++) if (newest.get(readings[i]!.deviceId) === base + i) kept.push(readings[i]!);
      all = kept;
    }
    const chunk = this.#chunk;
    const out: { topic: string; payload: string }[] = [];
    for (let i = 0; i < all.length; i += chunk) {
      const part: LiveReading[] = [];
      for (let j = i; j < Math.min(i + chunk, all.length); j++) part.push(toLive(all[j]!));
      out.push({ topic: topics.live, payload: JSON.stringify(part) });
    }
    return out;
  }
}
