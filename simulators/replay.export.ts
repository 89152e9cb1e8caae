/** Export of readings for replay: CSV records and line protocol (as the store writes it), and simulated readings in delivery order. */
import { Point } from '@influxdata/influxdb-client';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { csvRecord } from '../domain/csv.ts';
import type { Reading } from '../domain/reading.ts';
import { ROOM_FIELDS, STATION_FIELDS } from '../domain/telemetry.schema.ts';
import { simulateDeliveries } from './feed.ts';
import type { ThermalModel } from './thermal.model.ts';

/** A reading as one CSV record (domain/csv.ts): ts, deviceId, then the fields in `fields` order, empty where absent. */
export function toCsvRecord(r: Reading, fields: readonly string[]): string {
  return csvRecord([r.ts, r.deviceId, ...fields.map((f) => r.fields[f])]);
}
/** Line protocol as the store writes it (measurement room|station, location tags, ms), built with Point. */
export function toLineProtocol(r: Reading): string {
  const p = new Point(r.kind === 'station_meter' ? 'station' : 'room');
  p.tag('device', r.deviceId);
  for (const [k, tag] of [
    ['roomId', 'room'],
    ['apartmentId', 'apartment'],
    ['buildingId', 'building'],
    ['stationId', 'station'],
    ['officeId', 'office'],
  ] as const) {
    const v = r[k];
    if (v) p.tag(tag, v);
  }
  for (const [k, v] of Object.entries(r.fields)) p.floatField(k, v);
  p.timestamp(r.ts);
  return p.toLineProtocol({ convertTime: (t) => String(t) }) ?? '';
}

/** Stream readings to a CSV or line-protocol file (e.g. a simulated season to replay). */
export async function writeReadings(path: string, format: 'csv' | 'lp', readings: Iterable<Reading>): Promise<number> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  const fields = [...ROOM_FIELDS, ...STATION_FIELDS];
  let n = 0;
  let buf = format === 'csv' ? csvRecord(['ts', 'deviceId', ...fields]) : '';
  for (const r of readings) {
    buf += format === 'csv' ? toCsvRecord(r, fields) : `${toLineProtocol(r)}\n`;
    n++;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
  return n;
}

/** Readings of a simulation in delivery order. */
export function* simulatedReadings(model: ThermalModel, from: number, to: number): Generator<Reading> {
  for (const d of simulateDeliveries(model, { from, to })) yield* d.readings;
}
