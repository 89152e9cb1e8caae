/**
 * One contract suite, two stores: the embedded SQLite store and InfluxDB over the v1 HTTP API
 * (a real influxd from tests/harness). Whatever the API and dashboard rely on is pinned here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../domain/clock.ts';
import type { Reading } from '../domain/reading.ts';
import { EmbeddedStore } from '../storage/readings/embedded.store.ts';
import { InfluxStore } from '../storage/readings/influx.store.ts';
import type { ReadingStore } from '../storage/readings/reading-store.ts';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.ts';

const T0 = Date.UTC(2025, 11, 1); // a season day, aligned to a day boundary

const room = (deviceId: string, ts: number, temp: number, loc: { room: string; apt: string; bldg: string; st: string }): Reading => ({
  deviceId,
  kind: 'room_sensor',
  ts,
  fields: { temp, rh: 40 },
  roomId: loc.room,
  apartmentId: loc.apt,
  buildingId: loc.bldg,
  stationId: loc.st,
  officeId: 'of-1',
});
const A = { room: 'r-1', apt: 'a-1', bldg: 'b-1', st: 's-1' };
const B = { room: 'r-2', apt: 'a-1', bldg: 'b-1', st: 's-1' };
const C = { room: 'r-3', apt: 'a-2', bldg: 'b-2', st: 's-1' };

function contract(name: string, open: () => Promise<ReadingStore>, close: () => Promise<void>) {
  describe(`ReadingStore contract: ${name}`, () => {
    let store: ReadingStore;
    beforeAll(async () => {
      store = await open();
      const rs: Reading[] = [];
      // 3 sensors, one reading every 10 min for 2 days.
      for (let t = T0; t < T0 + 2 * DAY_MS; t += 10 * MINUTE_MS) {
        rs.push(room('dev-a', t, 20, A), room('dev-b', t, 18, B), room('dev-c', t, 22, C));
      }
      rs.push({ deviceId: 'met-1', kind: 'station_meter', ts: T0 + HOUR_MS, fields: { secondarySupplyTemp: 55, pumpHz: 40 }, stationId: 's-1', officeId: 'of-1' });
      await store.write(rs);
    });
    afterAll(async () => {
      await store.close();
      await close();
    });

    it('counts every written point, by scope', async () => {
      expect(await store.count({ kind: 'room_sensor' })).toBe(3 * 288);
      expect(await store.count({ apartmentId: 'a-1' })).toBe(2 * 288);
      expect(await store.count({ kind: 'station_meter' })).toBe(1);
      expect(await store.count()).toBe(3 * 288 + 1);
    });

    it('overwrites the same device + ts (redelivery is harmless)', async () => {
      await store.write([room('dev-a', T0, 21, A), room('dev-a', T0, 20, A)]);
      expect(await store.count({ deviceId: 'dev-a' })).toBe(288);
    });

    it('gives the latest reading per device in scope with its location', async () => {
      const l = await store.latest({ apartmentId: 'a-1' });
      expect(l.map((r) => r.deviceId)).toEqual(['dev-a', 'dev-b']);
      expect(l[0]).toMatchObject({ kind: 'room_sensor', ts: T0 + 2 * DAY_MS - 10 * MINUTE_MS, fields: { temp: 20, rh: 40 }, roomId: 'r-1', buildingId: 'b-1', stationId: 's-1', officeId: 'of-1' });
      const st = await store.latest({ stationId: 's-1', kind: 'station_meter' });
      expect(st).toHaveLength(1);
      expect(st[0]).toMatchObject({ deviceId: 'met-1', fields: { secondarySupplyTemp: 55, pumpHz: 40 } });
      expect((await store.latest({ stationId: 's-1' })).length).toBe(4);
    });

    it('aggregates history by window, aligned to the epoch, without empty windows', async () => {
      const day = await store.history({ apartmentId: 'a-1', field: 'temp', from: T0, to: T0 + 2 * DAY_MS, windowMs: DAY_MS });
      expect(day).toEqual([
        { ts: T0, value: 19 },
        { ts: T0 + DAY_MS, value: 19 },
      ]);
      const hourMin = await store.history({ buildingId: 'b-1', field: 'temp', from: T0, to: T0 + 3 * HOUR_MS, windowMs: HOUR_MS, agg: 'min' });
      expect(hourMin).toEqual([0, 1, 2].map((h) => ({ ts: T0 + h * HOUR_MS, value: 18 })));
      const minute = await store.history({ roomId: 'r-3', field: 'temp', from: T0, to: T0 + 30 * MINUTE_MS, windowMs: MINUTE_MS, agg: 'max' });
      expect(minute).toEqual([0, 10, 20].map((m) => ({ ts: T0 + m * MINUTE_MS, value: 22 })));
      const station = await store.history({ stationId: 's-1', field: 'secondarySupplyTemp', from: T0, to: T0 + DAY_MS, windowMs: DAY_MS });
      expect(station).toEqual([{ ts: T0, value: 55 }]);
    });

    it('returns nothing for an empty scope', async () => {
      expect(await store.latest({ apartmentId: 'nope' })).toEqual([]);
      expect(await store.history({ apartmentId: 'nope', field: 'temp', from: T0, to: T0 + DAY_MS, windowMs: HOUR_MS })).toEqual([]);
      expect(await store.count({ deviceId: 'nope' })).toBe(0);
    });

    it('keeps tag values with spaces, commas, quotes and non-ASCII intact', async () => {
      const odd = { room: "r 1,x='y'", apt: '单元 3-2', bldg: 'b"9', st: 's\\1' };
      await store.write([room('dev odd', T0, 19.5, odd)]);
      const l = await store.latest({ apartmentId: '单元 3-2' });
      expect(l).toHaveLength(1);
      expect(l[0]).toMatchObject({ deviceId: 'dev odd', roomId: "r 1,x='y'", buildingId: 'b"9', stationId: 's\\1', fields: { temp: 19.5 } });
    });
  });
}

let dir = '';
contract(
  'embedded (SQLite)',
  () => {
    dir = mkdtempSync(join(tmpdir(), 'store-contract-'));
    return Promise.resolve(EmbeddedStore.open(dir));
  },
  () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
);

let influxd: InfluxdHandle | undefined;
contract(
  'InfluxDB v1 HTTP API (real influxd)',
  async () => {
    influxd = await startInfluxd();
    return InfluxStore.open({ url: influxd.url, db: 'contract' });
  },
  async () => influxd?.stop(),
);
