/**
 * Stored history as hourly readings for a ForecastRunner (issue #20): the hourly mean of each
 * counted room's temperature and of the station meters' supply, outdoor, flow and pump
 * frequency, handed in at mid-hour. The API rebuilds a station's runner from it for its views;
 * the ingest's forecast loop warms up from it at start, so a restart does not wait
 * `minFitHours` of live data before it forecasts again.
 */
import { HOUR_MS } from '../../domain/clock.ts';
import type { HeatingPolicy } from '../../domain/policy.ts';
import type { Reading } from '../../domain/reading.ts';
import type { City } from '../../domain/topology.schema.ts';
import type { ReadingStore } from './reading-store.ts';

const METER_FIELDS = ['secondarySupplyTemp', 'outdoorTemp', 'secondaryFlow', 'pumpHz'] as const;

/** Hourly readings of `city` from `from` to `to` (epoch ms, whole hours), oldest first. */
export async function hourlyHistory(
  store: Pick<ReadingStore, 'history'>,
  city: City,
  policy: HeatingPolicy,
  from: number,
  to: number,
): Promise<Reading[]> {
  const q = { from, to, windowMs: HOUR_MS, agg: 'mean' as const };
  const readings: Reading[] = [];
  for (const meter of city.devices) {
    if (meter.kind !== 'station_meter' || !meter.stationId) continue;
    const stationId = meter.stationId;
    const byTs = new Map<number, Record<string, number>>();
    for (const field of METER_FIELDS) {
      for (const p of await store.history({ ...q, stationId, kind: 'station_meter', field })) {
        if (p.value === null) continue;
        const row = byTs.get(p.ts) ?? {};
        row[field] = p.value;
        byTs.set(p.ts, row);
      }
    }
    for (const [ts, fields] of byTs) readings.push({ deviceId: meter.id, kind: 'station_meter', ts: ts + HOUR_MS / 2, fields, stationId });
  }
  // One hourly mean per counted room, handed in as its first sensor's reading.
  const counted = new Set<string>(policy.comfort.countedRoomTypes); // N2, N32
  const roomType = new Map(city.rooms.map((r) => [r.id, r.type]));
  const seen = new Set<string>();
  for (const dev of city.devices) {
    if (dev.kind !== 'room_sensor' || !dev.roomId || seen.has(dev.roomId) || !counted.has(roomType.get(dev.roomId)!)) continue;
    seen.add(dev.roomId);
    for (const p of await store.history({ ...q, roomId: dev.roomId, kind: 'room_sensor', field: 'temp' })) {
      if (p.value !== null) readings.push({ deviceId: dev.id, kind: 'room_sensor', ts: p.ts + HOUR_MS / 2, fields: { temp: p.value } });
    }
  }
  return readings.sort((a, b) => a.ts - b.ts);
}
