/**
 * The embedded ReadingStore: SQLite (better-sqlite3, WAL) in `${dataDir}/readings.db`, so the
 * platform runs on a bare machine without InfluxDB. Same contract as influx.store.ts:
 * primary key (device_id, ts) makes a redelivered reading overwrite itself, history windows
 * are aligned to the epoch like InfluxQL's GROUP BY time(), and windows without data are
 * left out (fill(none)).
 *
 * Season-long views: like the InfluxDB store it keeps hourly aggregates per device and field
 * (`rollup_1h`: n, sum, min, max) and stitches them with raw points by the rule in
 * downsample.plan.ts. A write marks its (hour, device) pairs in `rollup_dirty` in the same
 * transaction, so no late reading is ever missed, also across a crash; sealed dirty hours are
 * recomputed from raw when read (history) or flushed (flushDownsampled).
 */
import type Database from 'better-sqlite3';
import { HOUR_MS, systemClock, type Clock } from '../../domain/clock.ts';
import { ROOM_FIELDS } from '../../domain/telemetry.schema.ts';
import type { Reading } from '../../domain/reading.ts';
import type { HistoryPoint, HistoryQuery, ReadingScope, ReadingStore } from './reading-store.ts';
import { READINGS_DB } from '../records/migrations/index.ts';
import { openSqliteFile } from '../records/sqlite.file.ts';
import { hourSpan, mergePartials, normOffset, planHistory, sealedBefore, type Agg, type Partial } from './downsample.plan.ts';

/** Dirty (hour, device) pairs recomputed per transaction: bounds how long one flush holds the writer lock. */
const FLUSH_CHUNK = 2000;

const COLS = {
  deviceId: 'device_id',
  roomId: 'room_id',
  apartmentId: 'apartment_id',
  buildingId: 'building_id',
  stationId: 'station_id',
  officeId: 'office_id',
  kind: 'kind',
} as const satisfies Record<keyof ReadingScope, string>;

type Row = {
  device_id: string;
  ts: number;
  kind: Reading['kind'];
  room_id: string | null;
  apartment_id: string | null;
  building_id: string | null;
  station_id: string | null;
  office_id: string | null;
  fields: string;
};

const toReading = (r: Row): Reading => {
  const out: Record<string, unknown> = { deviceId: r.device_id, kind: r.kind, ts: r.ts, fields: JSON.parse(r.fields) };
  for (const [key, col] of Object.entries(COLS)) {
    const v = (r as Record<string, unknown>)[col];
    if (key !== 'deviceId' && key !== 'kind' && v != null) out[key] = v;
  }
  return out as unknown as Reading;
};

/** A reading's columns in table order (readings and latest share them; tests write rows with it). */
export const rowArgs = (r: Reading): unknown[] => [
  r.deviceId,
  r.ts,
  r.kind,
  r.roomId ?? null,
  r.apartmentId ?? null,
  r.buildingId ?? null,
  r.stationId ?? null,
  r.officeId ?? null,
  JSON.stringify(r.fields),
];

export class EmbeddedStore implements ReadingStore {
  readonly db: Database.Database;
  readonly #clock: Clock;
  readonly #insert: Database.Statement;
  readonly #upsertLatest: Database.Statement;
  readonly #markDirty: Database.Statement;
  readonly #writeTx: (readings: readonly Reading[]) => void;
  readonly #flushTx: (from: number, to: number) => number;

  private constructor(db: Database.Database, clock: Clock) {
    this.db = db;
    this.#clock = clock;
    this.#markDirty = db.prepare('INSERT OR IGNORE INTO rollup_dirty (hour, device_id) VALUES (?, ?)');
    this.#insert = db.prepare(
      `INSERT OR REPLACE INTO readings (device_id, ts, kind, room_id, apartment_id, building_id, station_id, office_id, fields)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#upsertLatest = db.prepare(
      `INSERT INTO latest (device_id, ts, kind, room_id, apartment_id, building_id, station_id, office_id, fields)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(device_id) DO UPDATE SET ts = excluded.ts, kind = excluded.kind, room_id = excluded.room_id,
         apartment_id = excluded.apartment_id, building_id = excluded.building_id, station_id = excluded.station_id,
         office_id = excluded.office_id, fields = excluded.fields
       WHERE excluded.ts >= latest.ts`,
    );
    this.#writeTx = db.transaction((readings: readonly Reading[]) => {
      // Only the newest reading per device in the batch needs to touch `latest`.
      const newest = new Map<string, Reading>();
      for (const r of readings) {
        this.#insert.run(rowArgs(r));
        const n = newest.get(r.deviceId);
        if (!n || n.ts <= r.ts) newest.set(r.deviceId, r);
      }
      for (const r of newest.values()) {
        this.#upsertLatest.run(rowArgs(r));
      }
      // Every written (hour, device) is stale in rollup_1h until recomputed; once per batch.
      const dirty = new Set<string>();
      for (const r of readings) {
        const hour = r.ts - (((r.ts % HOUR_MS) + HOUR_MS) % HOUR_MS);
        const key = `${hour}\u0000${r.deviceId}`;
        if (dirty.has(key)) continue;
        dirty.add(key);
        this.#markDirty.run(hour, r.deviceId);
      }
    });
    const selDirty = db.prepare('SELECT hour, device_id FROM rollup_dirty WHERE hour >= ? AND hour < ? LIMIT ?');
    const selHour = db.prepare(
      'SELECT ts, kind, room_id, apartment_id, building_id, station_id, office_id, fields FROM readings WHERE device_id = ? AND ts >= ? AND ts < ? ORDER BY ts',
    );
    const delRollup = db.prepare('DELETE FROM rollup_1h WHERE device_id = ? AND hour = ?');
    const insRollup = db.prepare(
      `INSERT INTO rollup_1h (device_id, field, hour, kind, room_id, apartment_id, building_id, station_id, office_id, n, sum, min, max)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const delDirty = db.prepare('DELETE FROM rollup_dirty WHERE hour = ? AND device_id = ?');
    this.#flushTx = db.transaction((from: number, to: number) => {
      const pairs = selDirty.all(from, to, FLUSH_CHUNK) as { hour: number; device_id: string }[];
      for (const { hour, device_id } of pairs) {
        const rows = selHour.all(device_id, hour, hour + HOUR_MS) as Omit<Row, 'device_id'>[];
        delRollup.run(device_id, hour);
        const last = rows.at(-1);
        if (last) {
          const acc = new Map<string, { n: number; sum: number; min: number; max: number }>();
          for (const r of rows) {
            for (const [f, v] of Object.entries(JSON.parse(r.fields) as Record<string, unknown>)) {
              if (typeof v !== 'number') continue;
              const a = acc.get(f);
              if (a) {
                a.n++;
                a.sum += v;
                a.min = Math.min(a.min, v);
                a.max = Math.max(a.max, v);
              } else acc.set(f, { n: 1, sum: v, min: v, max: v });
            }
          }
          // The hour is filed under the device's location of its last reading in that hour
          // (a sensor moved within the hour counts where it ended up).
          for (const [f, a] of acc) {
            insRollup.run(
              device_id,
              f,
              hour,
              last.kind,
              last.room_id,
              last.apartment_id,
              last.building_id,
              last.station_id,
              last.office_id,
              a.n,
              a.sum,
              a.min,
              a.max,
            );
          }
        }
        delDirty.run(hour, device_id);
      }
      return pairs.length;
    });
  }

  /**
   * Open (create) `${dataDir}/readings.db`; `:memory:` for unit tests. `clock`: wall clock of
   * the stitch rule (downsample.plan.ts), driven in tests.
   */
  static open(dataDir: string | ':memory:', opts: { clock?: Clock } = {}): EmbeddedStore {
    // Tables from readings.db's migrations (storage/records/migrations/readings/).
    return new EmbeddedStore(openSqliteFile(dataDir, READINGS_DB), opts.clock ?? systemClock);
  }

  /** Recompute dirty hours in [from, to), in chunks, yielding between transactions. */
  async #flush(from: number, to: number): Promise<number> {
    let done = 0;
    for (;;) {
      const n = this.#flushTx(from, to);
      done += n;
      if (n < FLUSH_CHUNK) return done;
      await new Promise((r) => setImmediate(r));
    }
  }

  /** ReadingStore.flushDownsampled: recompute every dirty hour the stitch rule reads from rollup_1h. */
  flushDownsampled(): Promise<number> {
    return this.#flush(Number.MIN_SAFE_INTEGER, sealedBefore(this.#clock.now()));
  }

  /** ReadingStore.backfillDownsampled: mark every (hour, device) of [from, to) stale and recompute. */
  async backfillDownsampled(from: number, to: number): Promise<number> {
    const span = hourSpan(from, to);
    this.db
      .prepare(
        `INSERT OR IGNORE INTO rollup_dirty (hour, device_id) SELECT DISTINCT ts - (ts % ${HOUR_MS}), device_id FROM readings WHERE ts >= ? AND ts < ?`,
      )
      .run(span.from, span.to);
    await this.#flush(span.from, span.to);
    return (this.db.prepare('SELECT count(*) AS n FROM rollup_1h WHERE hour >= ? AND hour < ?').get(span.from, span.to) as { n: number }).n;
  }

  write(readings: readonly Reading[]): Promise<void> {
    try {
      if (readings.length) this.#writeTx(readings);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  #where(scope: ReadingScope, extra: string[] = [], args: unknown[] = []): { sql: string; args: unknown[] } {
    const parts = [...extra];
    for (const [key, col] of Object.entries(COLS) as [keyof ReadingScope, string][]) {
      const v = scope[key];
      if (v !== undefined) {
        parts.push(`${col} = ?`);
        args.push(v);
      }
    }
    return { sql: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', args };
  }

  latest(scope: ReadingScope): Promise<Reading[]> {
    const w = this.#where(scope);
    return Promise.resolve((this.db.prepare(`SELECT * FROM latest${w.sql} ORDER BY device_id`).all(...w.args) as Row[]).map(toReading));
  }

  /**
   * ReadingStore.reconcileDownsampled: (device, hour) pairs whose reading count differs from the
   * largest per-field count in rollup_1h are marked stale and recomputed. (Rows written with
   * `write()` are never missed here; this catches rows put into readings.db around it.)
   */
  async reconcileDownsampled(from: number, to: number): Promise<number> {
    const span = hourSpan(from, to);
    const end = Math.min(span.to, sealedBefore(this.#clock.now()));
    const stale = this.db
      .prepare(
        `INSERT OR IGNORE INTO rollup_dirty (hour, device_id)
         SELECT r.hour, r.device_id FROM
           (SELECT ts - (ts % ${HOUR_MS}) AS hour, device_id, count(*) AS n FROM readings WHERE ts >= ? AND ts < ? GROUP BY device_id, hour) r
           LEFT JOIN (SELECT hour, device_id, max(n) AS n FROM rollup_1h WHERE hour >= ? AND hour < ? GROUP BY device_id, hour) u
           ON u.hour = r.hour AND u.device_id = r.device_id
         WHERE u.n IS NULL OR u.n != r.n`,
      )
      .run(span.from, end, span.from, end).changes;
    await this.#flush(span.from, end);
    return stale;
  }

  /**
   * Windows of whole hours read rollup_1h for sealed hours and raw readings for the rest
   * (downsample.plan.ts); other windows read raw readings only. Same result either way.
   */
  async history(q: HistoryQuery): Promise<HistoryPoint[]> {
    const win = Math.max(1, Math.round(q.windowMs));
    const off = normOffset(Math.round(q.offsetMs ?? 0), win);
    // Window start of a time column: t − ((t − offset) mod w), a floor also for t < offset.
    const bucket = (col: string) => `(${col} - ((((${col} - ${off}) % ${win}) + ${win}) % ${win}))`;
    const from = Math.floor(q.from);
    const to = Math.floor(q.to);
    const scope: ReadingScope = q.kind || !(ROOM_FIELDS as readonly string[]).includes(q.field) ? q : { ...q, kind: 'room_sensor' };
    const path = `$."${q.field.replace(/"/g, '')}"`;
    const plan = planHistory(from, to, win, this.#clock.now(), off);
    if (!plan.hourly) {
      const agg = q.agg === 'min' ? 'min' : q.agg === 'max' ? 'max' : 'avg';
      const w = this.#where(scope, ['ts >= ?', 'ts < ?', 'v IS NOT NULL'], [from, to]);
      const rows = this.db
        .prepare(
          `SELECT ${bucket('ts')} AS b, ${agg}(v) AS value FROM (SELECT *, json_extract(fields, ?) AS v FROM readings)${w.sql}
           GROUP BY b ORDER BY b`,
        )
        .all(path, ...w.args) as { b: number; value: number | null }[];
      return rows.map((r) => ({ ts: r.b, value: r.value }));
    }
    const agg: Agg = q.agg ?? 'mean';
    await this.#flush(plan.hourly.from, plan.hourly.to);
    const parts: Partial[] = [];
    for (const p of plan.raw) {
      const w = this.#where(scope, ['ts >= ?', 'ts < ?', 'v IS NOT NULL'], [p.from, p.to]);
      const rows = this.db
        .prepare(
          `SELECT ${bucket('ts')} AS ts, sum(v) AS sum, count(v) AS count, min(v) AS min, max(v) AS max
           FROM (SELECT *, json_extract(fields, ?) AS v FROM readings)${w.sql} GROUP BY 1`,
        )
        .all(path, ...w.args) as Partial[];
      parts.push(...rows);
    }
    const w = this.#where(scope, ['field = ?', 'hour >= ?', 'hour < ?'], [q.field, plan.hourly.from, plan.hourly.to]);
    const rows = this.db
      .prepare(
        `SELECT ${bucket('hour')} AS ts, sum(sum) AS sum, sum(n) AS count, min(min) AS min, max(max) AS max FROM rollup_1h${w.sql} GROUP BY 1`,
      )
      .all(...w.args) as Partial[];
    parts.push(...rows);
    return mergePartials(agg, parts);
  }

  count(scope: ReadingScope = {}): Promise<number> {
    const w = this.#where(scope);
    return Promise.resolve((this.db.prepare(`SELECT count(*) AS n FROM readings${w.sql}`).get(...w.args) as { n: number }).n);
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }
}
