import { Point } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../domain/reading.ts';
import { MEASUREMENT, TAGS, toLine } from './influx.schema.ts';

/** What @influxdata/influxdb-client's Point writes for a reading (toLine's reference). */
function viaPoint(r: Reading): string | undefined {
  const p = new Point(MEASUREMENT[r.kind]);
  for (const [key, tag] of Object.entries(TAGS) as [keyof typeof TAGS, string][]) {
    const v = r[key];
    if (v) p.tag(tag, v);
  }
  for (const f in r.fields) p.floatField(f, r.fields[f]!);
  p.timestamp(r.ts);
  return p.toLineProtocol({ convertTime: (t) => String(t) });
}

const base: Reading = {
  deviceId: 'rs-00001',
  kind: 'room_sensor',
  ts: 1_764_000_000_123,
  fields: { temp: 19.5 },
  roomId: 'room-1',
  apartmentId: 'apt-1',
  buildingId: 'bld-1',
  stationId: 'st-1',
  officeId: 'off-1',
};

describe('toLine (line protocol of one reading)', () => {
  const cases: [string, Reading][] = [
    ['a room reading with every tag', base],
    ['no location tags', { deviceId: 'rs-2', kind: 'room_sensor', ts: 1, fields: { temp: -3 } }],
    ['some tags empty', { ...base, roomId: '', stationId: undefined }],
    [
      'a station reading, several fields in payload order (written sorted)',
      {
        deviceId: 'sm-1',
        kind: 'station_meter',
        ts: 5,
        fields: { supply_temp: 80.25, return_temp: 50, flow: 1e-7, pressure: 123456789.5 },
      },
    ],
    ['characters line protocol escapes in tags', { ...base, deviceId: 'a b,c=d', buildingId: 'x\ty\nz\r', officeId: '办公室 1' }],
    ['integers and large numbers', { ...base, fields: { temp: 20, humidity: 1e21 } }],
  ];
  it.each(cases)('%s: the same bytes as Point', (_, r) => {
    expect(toLine(r)).toBe(viaPoint(r));
    expect(toLine(r)).toBeDefined();
  });

  it('leaves out a reading without fields, as Point does', () => {
    const r = { ...base, fields: {} };
    expect(toLine(r)).toBeUndefined();
    expect(viaPoint(r)).toBeUndefined();
  });

  it('refuses a non-finite field, as Point does', () => {
    const r = { ...base, fields: { temp: Number.NaN } };
    expect(() => viaPoint(r)).toThrow(/invalid float/);
    expect(() => toLine(r)).toThrow(/invalid float/);
  });

  it('writes the tags sorted by key and the timestamp in ms', () => {
    expect(toLine(base)).toBe(
      'room,apartment=apt-1,building=bld-1,device=rs-00001,office=off-1,room=room-1,station=st-1 temp=19.5 1764000000123',
    );
  });
});
