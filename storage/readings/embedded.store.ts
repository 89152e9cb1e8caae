/**
 * The embedded ReadingStore: SQLite (better-sqlite3, WAL) in `${dataDir}/readings.db`, so the
 * platform runs on a bare machine without InfluxDB. Same contract as influx.store.ts:
 * primary key (device_id, ts) makes a redelivered reading overwrite itself, history windows
 * are aligned to the epoch like InfluxQL's GROUP BY time(), and windows without data are
 * left out (fill(none)).
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOM_FIELDS } from '../../domain/telemetry.schema.ts';
import type { Reading } from '../../domain/reading.ts';
import type { HistoryPoint, HistoryQuery, ReadingScope, ReadingStore } from './reading-store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS readings (
  device_id TEXT NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL,
  room_id TEXT, apartment_id TEXT, building_id TEXT, station_id TEXT, office_id TEXT,
  fields TEXT NOT NULL,
  PRIMARY KEY (device_id, ts)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_room ON readings(room_id, ts) WHERE room_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS readings_apartment ON readings(apartment_id, ts) WHERE apartment_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS readings_building ON readings(building_id, ts) WHERE building_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS readings_station ON readings(station_id, ts) WHERE station_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS latest (
  device_id TEXT PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL,
  room_id TEXT, apartment_id TEXT, building_id TEXT, station_id TEXT, office_id TEXT,
  fields TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS latest_apartment ON latest(apartment_id);
CREATE INDEX IF NOT EXISTS latest_building ON latest(building_id);
CREATE INDEX IF NOT EXISTS latest_station ON latest(station_id);
`;

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

export class EmbeddedStore implements ReadingStore {
  readonly db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #upsertLatest: Database.Statement;
  readonly #writeTx: (readings: readonly Reading[]) => void;

  private constructor(db: Database.Database) {
    this.db = db;
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
        const args = [r.deviceId, r.ts, r.kind, r.roomId ?? null, r.apartmentId ?? null, r.buildingId ?? null, r.stationId ?? null, r.officeId ?? null, JSON.stringify(r.fields)];
        this.#insert.run(args);
        const n = newest.get(r.deviceId);
        if (!n || n.ts <= r.ts) newest.set(r.deviceId, r);
      }
      for (const r of newest.values()) {
        this.#upsertLatest.run(r.deviceId, r.ts, r.kind, r.roomId ?? null, r.apartmentId ?? null, r.buildingId ?? null, r.stationId ?? null, r.officeId ?? null, JSON.stringify(r.fields));
      }
    });
  }

  /** Open (create) `${dataDir}/readings.db`; `:memory:` for unit tests. */
  static open(dataDir: string | ':memory:'): EmbeddedStore {
    let file = ':memory:';
    if (dataDir !== ':memory:') {
      mkdirSync(dataDir, { recursive: true });
      file = join(dataDir, 'readings.db');
    }
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL survives a process crash; the ingest's own spool covers the rest.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    return new EmbeddedStore(db);
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

  history(q: HistoryQuery): Promise<HistoryPoint[]> {
    const win = Math.max(1, Math.round(q.windowMs));
    const agg = q.agg === 'min' ? 'min' : q.agg === 'max' ? 'max' : 'avg';
    const scope: ReadingScope = q.kind || !(ROOM_FIELDS as readonly string[]).includes(q.field) ? q : { ...q, kind: 'room_sensor' };
    const path = `$."${q.field.replace(/"/g, '')}"`;
    const w = this.#where(scope, ['ts >= ?', 'ts < ?', 'v IS NOT NULL'], [Math.floor(q.from), Math.floor(q.to)]);
    const rows = this.db
      .prepare(
        `SELECT (ts - (ts % ?)) AS b, ${agg}(v) AS value FROM (SELECT *, json_extract(fields, ?) AS v FROM readings)${w.sql}
         GROUP BY b ORDER BY b`,
      )
      .all(win, path, ...w.args) as { b: number; value: number | null }[];
    return Promise.resolve(rows.map((r) => ({ ts: r.b, value: r.value })));
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
