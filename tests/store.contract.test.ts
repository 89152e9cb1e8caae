/**
 * One contract suite, two stores: the embedded SQLite store and InfluxDB over the v1 HTTP API
 * (a real influxd from tests/harness). Whatever the API and dashboard rely on is pinned here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, MINUTE_MS, ManualClock, type Clock } from '../domain/clock.ts';
import type { Reading } from '../domain/reading.ts';
import { EmbeddedStore, rowArgs } from '../storage/readings/embedded.store.ts';
import { InfluxStore, toLine } from '../storage/readings/influx.store.ts';
import type { ReadingStore } from '../storage/readings/reading-store.ts';
import { startInfluxd, type InfluxdHandle } from './harness/influxd.ts';

const T0 = Date.UTC(2025, 11, 1); // a season day, aligned to a day boundary
/** Multi-week data for the downsampled views: 3 weeks from S0 up to "now", inside the current hour. */
const S0 = T0 + 3 * DAY_MS;
const NOW = S0 + 21 * DAY_MS + 35 * MINUTE_MS;

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

type Agg = 'mean' | 'min' | 'max';
/** The history a raw scan gives: epoch-aligned windows over the points in [from, to), fill(none). */
function expected(
  rs: readonly Reading[],
  scope: (r: Reading) => boolean,
  field: string,
  from: number,
  to: number,
  windowMs: number,
  agg: Agg,
  offsetMs = 0,
) {
  const b = new Map<number, number[]>();
  for (const r of rs) {
    const v = r.fields[field];
    if (!scope(r) || v === undefined || r.ts < from || r.ts >= to) continue;
    const k = Math.floor((r.ts - offsetMs) / windowMs) * windowMs + offsetMs;
    b.set(k, [...(b.get(k) ?? []), v]);
  }
  return [...b.entries()]
    .sort((x, y) => x[0] - y[0])
    .map(([ts, vs]) => ({
      ts,
      value: agg === 'mean' ? vs.reduce((a, c) => a + c, 0) / vs.length : agg === 'min' ? Math.min(...vs) : Math.max(...vs),
    }));
}
function expectHistory(got: { ts: number; value: number | null }[], want: { ts: number; value: number }[]) {
  expect(got.map((p) => p.ts)).toEqual(want.map((p) => p.ts));
  got.forEach((p, i) => expect(p.value).toBeCloseTo(want[i]!.value, 9));
}

/**
 * `open(clock)`: the store under test with the wall clock of its stitch rule. `importAround`:
 * put readings into raw storage the way an import tool would, around `write()` (so the store
 * does not know those hours changed).
 */
function contract(
  name: string,
  open: (clock: Clock) => Promise<ReadingStore>,
  close: () => Promise<void>,
  importAround: (store: ReadingStore, rs: readonly Reading[]) => Promise<void>,
) {
  describe(`ReadingStore contract: ${name}`, () => {
    let store: ReadingStore;
    const clock = new ManualClock(NOW);
    beforeAll(async () => {
      store = await open(clock);
      const rs: Reading[] = [];
      // 3 sensors, one reading every 10 min for 2 days.
      for (let t = T0; t < T0 + 2 * DAY_MS; t += 10 * MINUTE_MS) {
        rs.push(room('dev-a', t, 20, A), room('dev-b', t, 18, B), room('dev-c', t, 22, C));
      }
      rs.push({
        deviceId: 'met-1',
        kind: 'station_meter',
        ts: T0 + HOUR_MS,
        fields: { secondarySupplyTemp: 55, pumpHz: 40 },
        stationId: 's-1',
        officeId: 'of-1',
      });
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
      expect(l[0]).toMatchObject({
        kind: 'room_sensor',
        ts: T0 + 2 * DAY_MS - 10 * MINUTE_MS,
        fields: { temp: 20, rh: 40 },
        roomId: 'r-1',
        buildingId: 'b-1',
        stationId: 's-1',
        officeId: 'of-1',
      });
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
      const hourMin = await store.history({
        buildingId: 'b-1',
        field: 'temp',
        from: T0,
        to: T0 + 3 * HOUR_MS,
        windowMs: HOUR_MS,
        agg: 'min',
      });
      expect(hourMin).toEqual([0, 1, 2].map((h) => ({ ts: T0 + h * HOUR_MS, value: 18 })));
      const minute = await store.history({
        roomId: 'r-3',
        field: 'temp',
        from: T0,
        to: T0 + 30 * MINUTE_MS,
        windowMs: MINUTE_MS,
        agg: 'max',
      });
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
      expect(l[0]).toMatchObject({
        deviceId: 'dev odd',
        roomId: "r 1,x='y'",
        buildingId: 'b"9',
        stationId: 's\\1',
        fields: { temp: 19.5 },
      });
    });

    describe('season-long views: hourly downsampled series stitched with raw', () => {
      // Building b-s: 3 rooms over 3 weeks up to NOW (35 min into the current hour). dev-s2
      // reports every 20 min, the others every 10 min: a mean of hourly means would be wrong.
      const inS = (r: Reading) => r.buildingId === 'b-s';
      const rs: Reading[] = [];
      const loc = (i: number) => ({ room: `rs-${i}`, apt: `as-${i % 2}`, bldg: 'b-s', st: 's-2' });
      for (let t = S0, k = 0; t <= NOW; t += 10 * MINUTE_MS, k++) {
        for (let i = 1; i <= 3; i++) {
          if (i === 2 && k % 2 === 1) continue;
          rs.push(room(`dev-s${i}`, t, 14 + ((k * 7 + i * 5) % 23) * 0.25, loc(i)));
        }
      }
      beforeAll(async () => {
        await store.write(rs);
      });

      it('1 d and 1 h windows over 3 weeks equal the raw aggregates, the current hour included', async () => {
        const to = NOW + HOUR_MS;
        for (const agg of ['mean', 'min', 'max'] as const) {
          const day = await store.history({ buildingId: 'b-s', field: 'temp', from: S0, to, windowMs: DAY_MS, agg });
          expect(day).toHaveLength(22);
          expectHistory(day, expected(rs, inS, 'temp', S0, to, DAY_MS, agg));
        }
        // Wider scopes (InfluxDB keeps a series per station and office too).
        const st = await store.history({ stationId: 's-2', field: 'temp', from: S0, to, windowMs: DAY_MS, agg: 'min' });
        expectHistory(
          st,
          expected(rs, (r) => r.stationId === 's-2', 'temp', S0, to, DAY_MS, 'min'),
        );
        const office = await store.history({ officeId: 'of-1', field: 'temp', from: S0, to, windowMs: 12 * HOUR_MS });
        expectHistory(
          office,
          expected(rs, (r) => r.officeId === 'of-1', 'temp', S0, to, 12 * HOUR_MS, 'mean'),
        );
        // Unaligned from: the head up to the first hour boundary comes from raw.
        const from = S0 + 25 * MINUTE_MS;
        const hour = await store.history({ apartmentId: 'as-0', field: 'temp', from, to, windowMs: HOUR_MS });
        expectHistory(
          hour,
          expected(rs, (r) => r.apartmentId === 'as-0', 'temp', from, to, HOUR_MS, 'mean'),
        );
        // The last two hours (previous and current) are raw: the current one holds NOW's readings.
        expect(hour.at(-1)!.ts).toBe(Math.floor(NOW / HOUR_MS) * HOUR_MS);
        const sixH = await store.history({ roomId: 'rs-2', field: 'temp', from: S0, to, windowMs: 6 * HOUR_MS, agg: 'max' });
        expectHistory(
          sixH,
          expected(rs, (r) => r.roomId === 'rs-2', 'temp', S0, to, 6 * HOUR_MS, 'max'),
        );
        // Local days (UTC+8): windows at −8 h; the same with a 90-minute window (raw only).
        const local = await store.history({ buildingId: 'b-s', field: 'temp', from: S0, to, windowMs: DAY_MS, offsetMs: -8 * HOUR_MS });
        expect(local[0]!.ts).toBe(S0 - 8 * HOUR_MS);
        expectHistory(local, expected(rs, inS, 'temp', S0, to, DAY_MS, 'mean', 16 * HOUR_MS));
        const localOdd = await store.history({
          buildingId: 'b-s',
          field: 'temp',
          from: S0,
          to,
          windowMs: 90 * MINUTE_MS,
          offsetMs: -8 * HOUR_MS,
          agg: 'max',
        });
        expectHistory(localOdd, expected(rs, inS, 'temp', S0, to, 90 * MINUTE_MS, 'max', 60 * MINUTE_MS)); // −8 h ≡ +60 min (mod 90 min)
        // Windows that are not whole hours read raw points: same answer.
        const odd = await store.history({ buildingId: 'b-s', field: 'temp', from: S0, to, windowMs: 90 * MINUTE_MS, agg: 'min' });
        expectHistory(odd, expected(rs, inS, 'temp', S0, to, 90 * MINUTE_MS, 'min'));
      });

      it('a late reading (a backlog older than the CQ window) reaches the downsampled hours', async () => {
        const late = room('dev-s1', S0 + 5 * DAY_MS + 3 * MINUTE_MS, 35, loc(1));
        await store.write([late]);
        const all = [...rs, late];
        const day = await store.history({ buildingId: 'b-s', field: 'temp', from: S0, to: NOW, windowMs: DAY_MS, agg: 'max' });
        expect(day.find((p) => p.ts === S0 + 5 * DAY_MS)?.value).toBe(35);
        expectHistory(day, expected(all, inS, 'temp', S0, NOW, DAY_MS, 'max'));
        const mean = await store.history({ buildingId: 'b-s', field: 'temp', from: S0, to: NOW, windowMs: DAY_MS });
        expectHistory(mean, expected(all, inS, 'temp', S0, NOW, DAY_MS, 'mean'));
        rs.push(late);
      });

      it('when the hour turns, the sealed hours are read downsampled (as the CQ writes them)', async () => {
        const last = room('dev-s3', NOW + 10 * MINUTE_MS, 30, loc(3));
        await store.write([last]);
        rs.push(last);
        clock.advance(2 * HOUR_MS);
        // influxd's CQ runs on its own wall clock, not this test's: run the same SELECT … INTO.
        await store.backfillDownsampled!(NOW - 2 * HOUR_MS, NOW + HOUR_MS);
        const hour = await store.history({
          buildingId: 'b-s',
          field: 'temp',
          from: NOW - 6 * HOUR_MS,
          to: NOW + 2 * HOUR_MS,
          windowMs: HOUR_MS,
          agg: 'max',
        });
        expect(hour.at(-1)).toEqual({ ts: Math.floor(NOW / HOUR_MS) * HOUR_MS, value: 30 });
        expectHistory(hour, expected(rs, inS, 'temp', NOW - 6 * HOUR_MS, NOW + 2 * HOUR_MS, HOUR_MS, 'max'));
      });

      it('an import around write() reaches whole-hour windows after backfillDownsampled', async () => {
        const day = S0 + 8 * DAY_MS;
        const imported = [room('dev-s9', day + 30 * MINUTE_MS, 5, loc(9)), room('dev-s9', day + 90 * MINUTE_MS, 7, loc(9))];
        const before = await store.history({ buildingId: 'b-s', field: 'temp', from: day, to: day + DAY_MS, windowMs: DAY_MS, agg: 'min' });
        await importAround(store, imported);
        // Sub-hour windows read raw points: the import is there at once.
        const minute = await store.history({ roomId: 'rs-9', field: 'temp', from: day, to: day + DAY_MS, windowMs: MINUTE_MS });
        expect(minute).toEqual([
          { ts: day + 30 * MINUTE_MS, value: 5 },
          { ts: day + 90 * MINUTE_MS, value: 7 },
        ]);
        // Whole-hour windows read the hourly series, which do not know of the import yet …
        expect(
          await store.history({ buildingId: 'b-s', field: 'temp', from: day, to: day + DAY_MS, windowMs: DAY_MS, agg: 'min' }),
        ).toEqual(before);
        // … until the operator re-downsamples the imported range.
        expect(await store.backfillDownsampled!(day, day + DAY_MS)).toBeGreaterThan(0);
        rs.push(...imported);
        const after = await store.history({ buildingId: 'b-s', field: 'temp', from: day, to: day + DAY_MS, windowMs: DAY_MS, agg: 'min' });
        expect(after).toEqual([{ ts: day, value: 5 }]);
        const mean = await store.history({ buildingId: 'b-s', field: 'temp', from: S0, to: NOW, windowMs: DAY_MS });
        expectHistory(mean, expected(rs, inS, 'temp', S0, NOW, DAY_MS, 'mean'));
      });

      it('reconcileDownsampled finds the hours whose raw points differ from the hourly counts', async () => {
        const day = S0 + 12 * DAY_MS;
        const imported = [room('dev-s1', day + 7 * HOUR_MS + 1000, 33, loc(1))];
        await importAround(store, imported);
        rs.push(...imported);
        expect(await store.reconcileDownsampled!(S0, NOW)).toBeGreaterThan(0);
        const max = await store.history({ buildingId: 'b-s', field: 'temp', from: S0, to: NOW, windowMs: DAY_MS, agg: 'max' });
        expect(max.find((p) => p.ts === day)?.value).toBe(33);
        expectHistory(max, expected(rs, inS, 'temp', S0, NOW, DAY_MS, 'max'));
        const mean = await store.history({ buildingId: 'b-s', field: 'temp', from: S0, to: NOW, windowMs: DAY_MS });
        expectHistory(mean, expected(rs, inS, 'temp', S0, NOW, DAY_MS, 'mean'));
        // Consistent now: nothing left to recompute.
        expect(await store.reconcileDownsampled!(S0, NOW)).toBe(0);
      });

      it('flushDownsampled is a no-op when nothing is stale', async () => {
        await store.flushDownsampled!();
        expect(await store.flushDownsampled!()).toBe(0);
      });
    });
  });
}

let dir = '';
contract(
  'embedded (SQLite)',
  (clock) => {
    dir = mkdtempSync(join(tmpdir(), 'store-contract-'));
    return Promise.resolve(EmbeddedStore.open(dir, { clock }));
  },
  () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  (store, rs) => {
    // An import tool writing rows straight into readings.db.
    const ins = (store as EmbeddedStore).db.prepare(
      'INSERT OR REPLACE INTO readings (device_id, ts, kind, room_id, apartment_id, building_id, station_id, office_id, fields) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const r of rs) ins.run(...rowArgs(r));
    return Promise.resolve();
  },
);

let influxd: InfluxdHandle | undefined;
contract(
  'InfluxDB v1 HTTP API (real influxd)',
  async (clock) => {
    influxd = await startInfluxd();
    return InfluxStore.open({ url: influxd.url, db: 'contract', clock });
  },
  async () => influxd?.stop(),
  // Line protocol posted straight to /write (e.g. `influx -import`).
  (store, rs) => (store as InfluxStore).writeLines(rs.map((r) => toLine(r)!).join('\n')),
);
