import { describe, expect, it } from 'vitest';
import type { LiveReading } from '../domain/events.ts';
import type { Reading } from '../domain/reading.ts';
import { topics } from '../domain/topics.ts';
import { liveMessages } from './live.fanout.ts';

const room = (deviceId: string, ts: number, temp: number, extra: Partial<Reading> = {}): Reading => ({
  deviceId,
  kind: 'room_sensor',
  ts,
  fields: { temp },
  roomId: `r-${deviceId}`,
  apartmentId: 'a-1',
  buildingId: 'b-1',
  stationId: 'st-1',
  officeId: 'of-1',
  ...extra,
});

/** The reference the direct JSON must equal: JSON.stringify of the LiveReadings. */
const asLive = (r: Reading): LiveReading => {
  const l: Record<string, unknown> = { deviceId: r.deviceId, kind: r.kind, ts: r.ts, fields: r.fields };
  if (r.roomId) l.roomId = r.roomId;
  if (r.apartmentId) l.apartmentId = r.apartmentId;
  if (r.buildingId) l.buildingId = r.buildingId;
  if (r.stationId) l.stationId = r.stationId;
  return l as unknown as LiveReading;
};

describe('liveMessages', () => {
  it('writes the JSON.stringify text of the live readings, without the office', () => {
    const rs = [
      room('d1', 1000, 19.5),
      room('d"2\\', 1000, -3, { roomId: '房间 "一"', apartmentId: undefined, buildingId: '' }),
      {
        deviceId: 'm1',
        kind: 'station_meter',
        ts: 5,
        fields: { primarySupplyTemp: 80.25, pumpHz: 50 },
        stationId: 'st-1',
        officeId: 'of-1',
      } as Reading,
    ];
    const [m, ...rest] = liveMessages(rs, 1000);
    expect(rest).toEqual([]);
    expect(m!.topic).toBe(topics.live);
    expect(m!.payload).toBe(JSON.stringify(rs.map(asLive)));
    expect(m!.payload).not.toContain('of-1');
  });

  it("keeps each device's newest reading only, and chunks by devices", () => {
    const rs = [room('d1', 1000, 18), room('d2', 1000, 19), room('d1', 3000, 20), room('d1', 2000, 21), room('d3', 1, 22)];
    const ms = liveMessages(rs, 2);
    expect(ms).toHaveLength(2);
    const all = ms.flatMap((m) => JSON.parse(m.payload) as LiveReading[]);
    expect(all.map((l) => [l.deviceId, l.ts, l.fields.temp])).toEqual([
      ['d1', 3000, 20],
      ['d2', 1000, 19],
      ['d3', 1, 22],
    ]);
  });

  it('sends nothing for an empty batch', () => {
    expect(liveMessages([], 1000)).toEqual([]);
  });
});
