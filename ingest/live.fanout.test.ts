import { describe, expect, it } from 'vitest';
import type { LiveReading } from '../domain/events.ts';
import type { Reading } from '../domain/reading.ts';
import { topics } from '../domain/topics.ts';
import { LiveFanout } from './live.fanout.ts';

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

describe('LiveFanout', () => {
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
    const [m, ...rest] = new LiveFanout(1000).messages(rs);
    expect(rest).toEqual([]);
    expect(m!.topic).toBe(topics.live);
    // The live form of each reading, written out: the tags it has (an empty or absent one left out), never the office.
    const live: LiveReading[] = [
      {
        deviceId: 'd1',
        kind: 'room_sensor',
        ts: 1000,
        fields: { temp: 19.5 },
        roomId: 'r-d1',
        apartmentId: 'a-1',
        buildingId: 'b-1',
        stationId: 'st-1',
      },
      { deviceId: 'd"2\\', kind: 'room_sensor', ts: 1000, fields: { temp: -3 }, roomId: '房间 "一"', stationId: 'st-1' },
      { deviceId: 'm1', kind: 'station_meter', ts: 5, fields: { primarySupplyTemp: 80.25, pumpHz: 50 }, stationId: 'st-1' },
    ];
    expect(m!.payload).toBe(JSON.stringify(live));
    expect(m!.payload).not.toContain('of-1');
  });

  it("keeps each device's newest reading only (in batch order of those kept), and chunks by devices", () => {
    const rs = [room('d1', 1000, 18), room('d2', 1000, 19), room('d1', 3000, 20), room('d1', 2000, 21), room('d3', 1, 22)];
    const ms = new LiveFanout(2).messages(rs);
    expect(ms).toHaveLength(2);
    const all = ms.flatMap((m) => JSON.parse(m.payload) as LiveReading[]);
    expect(all.map((l) => [l.deviceId, l.ts, l.fields.temp])).toEqual([
      ['d2', 1000, 19],
      ['d1', 3000, 20],
      ['d3', 1, 22],
    ]);
  });

  it('judges each batch on its own: a device in an earlier batch is not a repeat, the same timestamp twice keeps the later', () => {
    const live = new LiveFanout(1000);
    const devices = (rs: Reading[]) =>
      live.messages(rs).flatMap((m) => (JSON.parse(m.payload) as LiveReading[]).map((l) => [l.deviceId, l.fields.temp]));
    expect(devices([room('d1', 1000, 18), room('d2', 1000, 19)])).toEqual([
      ['d1', 18],
      ['d2', 19],
    ]);
    // The next batch: d1 and d2 again, older than before (a backlog): still shown, once each.
    expect(devices([room('d2', 500, 17), room('d1', 500, 16), room('d2', 500, 15)])).toEqual([
      ['d1', 16],
      ['d2', 15],
    ]);
  });

  it('sends nothing for an empty batch', () => {
    expect(new LiveFanout(1000).messages([])).toEqual([]);
  });
});
