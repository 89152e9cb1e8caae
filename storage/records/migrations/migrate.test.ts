/**
 * The migration runner on real SQLite files: a fresh file gets every migration once, a re-run
 * changes nothing, a file newer than the code is refused untouched, and a migration that
 * fails is rolled back whole (tables, history and version) and can run again once fixed.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteFile } from '../sqlite.file.ts';
import { READINGS_DB, RECORDS_DB } from './index.ts';
import { MigrationError, assertMigrated, migrate, schemaVersion, type Migration, type MigrationSet } from './migrate.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'heat-migrate-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const names = (db: Database.Database, type: string): string[] =>
  (db.prepare('SELECT name FROM sqlite_master WHERE type = ? ORDER BY name').all(type) as { name: string }[]).map((r) => r.name);
const history = (db: Database.Database) =>
  db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as { version: number; name: string }[];

const step = (version: number, name: string, sql: string): Migration => ({ version, name, up: (db) => db.exec(sql) });
const set = (...migrations: Migration[]): MigrationSet => ({ file: 'test.db', migrations });

describe('a fresh file', () => {
  it('records.db gets version 1 with every table the repositories use, and the history says when', () => {
    const db = openSqliteFile(dir, RECORDS_DB);
    expect(schemaVersion(db)).toBe(1);
    expect(history(db)).toEqual([{ version: 1, name: 'initial' }]);
    expect(names(db, 'table')).toEqual(
      [
        'apartments',
        'audit_log',
        'buildings',
        'dead_letters',
        'device_status',
        'devices',
        'forecast_advice',
        'incidents',
        'meta',
        'notifications',
        'offices',
        'order_apartments',
        'order_counters',
        'order_incidents',
        'orders',
        'outage_apartments',
        'outages',
        'people',
        'rooms',
        'schema_migrations',
        'service_accounts',
        'sessions',
        'sources',
        'sqlite_sequence',
        'stations',
      ].sort(),
    );
    // 7 topology tables × insert/update/delete, each bumping meta.topology_version.
    expect(names(db, 'trigger')).toHaveLength(21);
    expect(db.prepare("SELECT value FROM meta WHERE key = 'topology_version'").get()).toEqual({ value: '0' });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('readings.db gets versions 1–3: readings, the hourly rollup, forecasts', () => {
    const db = openSqliteFile(dir, READINGS_DB);
    expect(history(db).map((h) => h.name)).toEqual(['initial', 'hourly_rollup', 'forecasts']);
    expect(names(db, 'table')).toEqual(['forecasts', 'latest', 'readings', 'rollup_1h', 'rollup_dirty', 'schema_migrations']);
    db.close();
  });

  it('a re-run applies nothing and changes nothing (every process opens the file at start)', () => {
    const first = new Database(join(dir, 'test.db'));
    const s = set(step(1, 'a', 'CREATE TABLE a (x)'), step(2, 'b', 'CREATE TABLE b (y)'));
    expect(migrate(first, s, () => 5)).toEqual({ from: 0, to: 2, applied: ['0001_a', '0002_b'] });
    expect(migrate(first, s)).toEqual({ from: 2, to: 2, applied: [] });
    const second = new Database(join(dir, 'test.db'));
    expect(migrate(second, s)).toEqual({ from: 2, to: 2, applied: [] });
    expect(second.prepare('SELECT * FROM schema_migrations').all()).toEqual([
      { version: 1, name: 'a', applied_at: 5 },
      { version: 2, name: 'b', applied_at: 5 },
    ]);
    // A new migration appended later runs alone.
    expect(migrate(second, set(...s.migrations, step(3, 'c', 'CREATE TABLE c (z)'))).applied).toEqual(['0003_c']);
    first.close();
    second.close();
  });

  it('a list with a gap or out of order is a programming error, said before anything runs', () => {
    const db = new Database(':memory:');
    expect(() => migrate(db, set(step(1, 'a', 'CREATE TABLE a (x)'), step(3, 'c', 'CREATE TABLE c (x)')))).toThrow(
      'test.db: migration 0003_c is number 2 in the list',
    );
    expect(names(db, 'table')).toEqual([]);
  });
});

describe('a file newer than the code', () => {
  it('is refused with the versions in the message, and its bytes stay as they were', () => {
    const db = openSqliteFile(dir, RECORDS_DB);
    db.pragma('user_version = 7');
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const before = readFileSync(join(dir, 'records.db'));
    let err: unknown;
    try {
      openSqliteFile(dir, RECORDS_DB);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MigrationError);
    expect(err).toMatchObject({ code: 'schema_newer', file: 'records.db', version: 7 });
    expect((err as Error).message).toBe(
      'records.db is at schema version 7, but this code knows versions up to 1: run the newer code or restore a backup of the file (nothing was changed)',
    );
    expect(readFileSync(join(dir, 'records.db')).equals(before)).toBe(true);
    // A read-only opener refuses it too.
    expect(() => openSqliteFile(dir, RECORDS_DB, { readonly: true })).toThrow(MigrationError);
  });
});

describe('a migration that fails', () => {
  const good = step(1, 'people', "CREATE TABLE people (id TEXT PRIMARY KEY); INSERT INTO people VALUES ('p1');");
  // Half done when it throws: a table created, a row moved, then a statement that cannot run.
  const bad: Migration = {
    version: 2,
    name: 'split_names',
    up(db) {
      db.exec('CREATE TABLE names (id TEXT, name TEXT); INSERT INTO names SELECT id, id FROM people; DELETE FROM people;');
      db.exec('CREATE INDEX names_missing ON names(no_such_column)');
    },
  };

  it('is rolled back whole — its tables, its row moves, its history row and the version — and says which one failed', () => {
    const db = new Database(join(dir, 'test.db'));
    let err: unknown;
    try {
      migrate(db, set(good, bad));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ name: 'MigrationError', code: 'migration_failed', file: 'test.db', version: 1 });
    expect((err as Error).message).toBe(
      'test.db: migration 0002_split_names failed and was rolled back; the file stays at schema version 1: no such column: no_such_column',
    );
    // Migration 1 committed on its own; migration 2 left nothing behind.
    expect(schemaVersion(db)).toBe(1);
    expect(history(db)).toEqual([{ version: 1, name: 'people' }]);
    expect(names(db, 'table')).toEqual(['people', 'schema_migrations']);
    expect(db.prepare('SELECT id FROM people').all()).toEqual([{ id: 'p1' }]);
    expect(() => assertMigrated(db, set(good, bad))).toThrow('test.db is at schema version 1, not 2');

    // Fixed code runs it again from where the file stands.
    const fixed = { ...bad, up: (d: Database.Database) => d.exec('CREATE TABLE names (id TEXT, name TEXT)') };
    expect(migrate(db, set(good, fixed)).applied).toEqual(['0002_split_names']);
    expect(schemaVersion(db)).toBe(2);
    db.close();
  });

  it('leaves a fresh file at version 0 with no history when the first one fails', () => {
    const db = new Database(join(dir, 'test.db'));
    expect(() => migrate(db, set(step(1, 'broken', 'CREATE TABLE t (x); CREATE TABLE t (x);')))).toThrow(
      'test.db: migration 0001_broken failed and was rolled back; the file stays at schema version 0: table t already exists',
    );
    expect(schemaVersion(db)).toBe(0);
    expect(names(db, 'table')).toEqual([]);
    db.close();
  });
});

describe('repositories handed a connection', () => {
  it('refuse one that was not migrated, naming the opener', () => {
    expect(() => assertMigrated(new Database(':memory:'), RECORDS_DB)).toThrow(
      'records.db is at schema version 0, not 1: open it with openSqliteFile (storage/records/sqlite.file.ts)',
    );
  });
});
