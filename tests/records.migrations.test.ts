/**
 * SQLite migrations from the outside: a records.db and a readings.db written by the code
 * before migrations (fixtures/pre-migration, dumped at fd3f03d) are adopted without loss —
 * every row the same, the schema the same as a fresh file's — and the API serves them over
 * REST; a real service process refuses a file it cannot run on and says why; three processes
 * opening one fresh file at once apply its migration exactly once.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOUR_MS, ManualClock } from '../domain/clock.ts';
import { parseConfig } from '../domain/config.ts';
import { policyForCity } from '../domain/policy.ts';
import { buildApi } from '../api/app.ts';
import { DEMO_PASSWORD } from '../api/demo-people.ts';
import { ForecastAdviceRepository } from '../api/forecast.repository.ts';
import { RegistryRepository } from '../storage/records/registry.repository.ts';
import { openSqliteFile } from '../storage/records/sqlite.file.ts';
import { READINGS_DB, RECORDS_DB } from '../storage/records/migrations/index.ts';
import { schemaVersion } from '../storage/records/migrations/migrate.ts';
import { DeadLetterRepository } from '../storage/readings/dead-letter.repository.ts';
import { EmbeddedStore } from '../storage/readings/embedded.store.ts';
import { EmbeddedForecastStore } from '../storage/readings/forecast.store.ts';
import { T0 } from './api-fixture.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fixture = (name: string) => readFileSync(join(root, 'tests', 'fixtures', 'pre-migration', name), 'utf8');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'heat-adopt-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Write a database file from a `.dump` as the old code left it (user_version 0, no history). */
function oldFile(file: string, dump: string, after = ''): void {
  const db = new Database(join(dir, file));
  db.exec(dump + after);
  expect(schemaVersion(db)).toBe(0);
  db.close();
}

type Rows = Record<string, unknown[]>;
const userTables = (db: Database.Database): string[] =>
  (
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('schema_migrations', 'sqlite_sequence') ORDER BY name")
      .all() as { name: string }[]
  ).map((r) => r.name);
/** Every row of every table, in a stable order: what "without loss" compares. */
function allRows(db: Database.Database): Rows {
  const out: Rows = {};
  for (const t of userTables(db)) out[t] = db.prepare(`SELECT * FROM "${t}" ORDER BY 1, 2`).all();
  return out;
}
/** Columns (name, type, not null, default, pk) of every table, its indexes and triggers. */
function shape(db: Database.Database): unknown {
  return {
    tables: Object.fromEntries(userTables(db).map((t) => [t, db.pragma(`table_info("${t}")`)])),
    indexes: db.prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' ORDER BY name").all(),
    triggers: db.prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").all(),
  };
}
function freshShape(dump: typeof RECORDS_DB): unknown {
  const db = openSqliteFile(':memory:', dump);
  const s = shape(db);
  db.close();
  return s;
}

describe('records.db written before migrations', () => {
  it('is adopted as version 1: every row kept, the schema that of a fresh file, the triggers still live', () => {
    oldFile('records.db', fixture('records.fd3f03d.sql'));
    const old = new Database(join(dir, 'records.db'), { readonly: true });
    const before = allRows(old);
    old.close();
    expect(before.people).toHaveLength(12);
    expect(before.orders).toHaveLength(2);

    const registry = RegistryRepository.open(dir);
    expect(schemaVersion(registry.db)).toBe(1);
    expect(registry.db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual([{ version: 1, name: 'initial' }]);
    expect(allRows(registry.db)).toEqual(before);
    expect(shape(registry.db)).toEqual(freshShape(RECORDS_DB));

    // The repositories read the old rows; a topology write still bumps the version (trigger).
    expect(new DeadLetterRepository(registry.db).list()).toMatchObject([{ reason: 'bad_json', raw: '{"ts":' }]);
    expect(new ForecastAdviceRepository(registry.db).list('s1')).toMatchObject([{ stationId: 's1', status: 'proposed' }]);
    const v = registry.topologyVersion();
    expect(v).toBe(58);
    registry.setDeviceEnabled('rs-b1-a11', false);
    expect(registry.topologyVersion()).toBe(v + 1);
    registry.close();

    // Opening it again (every service does at start) applies nothing more.
    const again = RegistryRepository.open(dir);
    expect(again.db.prepare('SELECT count(*) AS n FROM schema_migrations').get()).toEqual({ n: 1 });
    again.close();
  });

  it('is served by the API as before: the old people sign in, the old orders, incidents and outages are listed', async () => {
    oldFile('records.db', fixture('records.fd3f03d.sql'));
    const registry = RegistryRepository.open(dir);
    const store = EmbeddedStore.open(dir);
    const config = parseConfig({ DATA_DIR: dir, CITY: 'beijing' });
    const app = await buildApi({
      config,
      registry,
      store,
      deadLetters: new DeadLetterRepository(registry.db),
      logger: pino({ level: 'silent' }),
      clock: new ManualClock(T0 + HOUR_MS),
      policy: policyForCity('beijing'),
      tickIntervalMs: 0,
    });
    try {
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'dispatcher', password: DEMO_PASSWORD },
      });
      expect(login.statusCode).toBe(200);
      const auth = { authorization: `Bearer ${login.json<{ token: string }>().token}` };
      const orders = await app.inject({ method: 'GET', url: '/api/v1/orders', headers: auth });
      expect(orders.statusCode).toBe(200);
      const list = orders.json<{ source: string; content?: string }[]>();
      expect(list.map((o) => o.source).sort()).toEqual(['complaint', 'proactive']);
      expect(list.find((o) => o.source === 'complaint')?.content).toBe('bedroom cold since yesterday, "very" cold,\nplease come');
      const incidents = await app.inject({ method: 'GET', url: '/api/v1/incidents', headers: auth });
      expect(incidents.json<unknown[]>()).toMatchObject([{ kind: 'station_fault', subjectId: 's2' }]);
      const outages = await app.inject({ method: 'GET', url: '/api/v1/outages', headers: auth });
      expect(outages.json<unknown[]>()).toMatchObject([{ scopeType: 'building', scopeId: 'b1', reason: 'valve replacement' }]);
      // The next order number continues the old counter (N20), not a new one.
      const filed = await app.inject({
        method: 'POST',
        url: '/api/v1/orders',
        headers: auth,
        payload: { apartmentId: 'b2-a11', content: 'cold (hotline)', residentPhone: '13900000002', residentContact: 'Zhao' },
      });
      expect(filed.statusCode).toBe(201);
      expect(filed.json<{ order: { number: string } }>().order.number).toBe('2026-000003');
    } finally {
      await app.close();
      await store.close();
      registry.close();
    }
  });
});

describe('readings.db written before migrations', () => {
  it('is adopted as version 3 with its readings, rollup and forecasts; nothing is marked stale again', async () => {
    oldFile('readings.db', fixture('readings.fd3f03d.sql'));
    const old = new Database(join(dir, 'readings.db'), { readonly: true });
    const before = allRows(old);
    old.close();
    const store = EmbeddedStore.open(dir, { clock: new ManualClock(T0 + 3 * HOUR_MS) });
    expect(schemaVersion(store.db)).toBe(3);
    expect(allRows(store.db)).toEqual(before);
    expect(shape(store.db)).toEqual(freshShape(READINGS_DB));
    expect(before.rollup_1h).toHaveLength(6);
    expect(before.rollup_dirty).toHaveLength(0);
    expect(await store.count()).toBe(3);
    expect(await store.latest({ apartmentId: 'b1-a11' })).toMatchObject([
      { deviceId: 'rs-b1-a11', ts: T0 - HOUR_MS, fields: { temp: 17.9 } },
    ]);
    const hourly = await store.history({ deviceId: 'rs-b1-a11', field: 'temp', from: T0 - 2 * HOUR_MS, to: T0, windowMs: HOUR_MS });
    expect(hourly).toEqual([
      { ts: T0 - 2 * HOUR_MS, value: 17.5 },
      { ts: T0 - HOUR_MS, value: 17.9 },
    ]);
    await store.close();
    const forecasts = new EmbeddedForecastStore(dir);
    expect(await forecasts.latest('beijing')).toMatchObject({
      issuedAt: T0,
      source: 'fixture',
      hours: [{ outdoorTemp: -5 }, { outdoorTemp: -6 }],
    });
    await forecasts.close();
  });

  it('from before the hourly rollup: the rollup is created and every stored hour recomputed from raw', async () => {
    oldFile('readings.db', fixture('readings.fd3f03d.sql'), 'DROP TABLE rollup_1h; DROP TABLE rollup_dirty; DROP TABLE forecasts;');
    const store = EmbeddedStore.open(dir, { clock: new ManualClock(T0 + 3 * HOUR_MS) });
    expect(store.db.prepare('SELECT count(*) AS n FROM rollup_dirty').get()).toEqual({ n: 3 });
    expect(await store.flushDownsampled()).toBe(3);
    expect(store.db.prepare('SELECT count(*) AS n FROM rollup_1h').get()).toEqual({ n: 6 });
    await store.close();
  });
});

/** Run `node --import tsx` on a script in the repo root, with DATA_DIR; resolves with how it ended. */
function runNode(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    // A service that did not refuse would listen forever; the test then fails on the exit code.
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe('a service process on a file it cannot run on', () => {
  const env = () => ({ DATA_DIR: dir, HTTP_PORT: '0', MQTT_URL: 'mqtt://127.0.0.1:1' });

  it('refuses a records.db newer than its code, says so, and leaves the file as it was', async () => {
    const db = openSqliteFile(dir, RECORDS_DB);
    db.pragma('user_version = 2');
    db.close();
    const r = await runNode(['api/server.ts'], env());
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('records.db is at schema version 2, but this code knows versions up to 1');
    const after = new Database(join(dir, 'records.db'), { readonly: true });
    expect(schemaVersion(after)).toBe(2);
    after.close();
  });

  it('stops on a migration that fails, naming it, with the file rolled back to where it was', async () => {
    // An old people table without apartment_id: the migration's index on it cannot be built.
    const db = new Database(join(dir, 'records.db'));
    db.exec("CREATE TABLE people (id TEXT PRIMARY KEY, username TEXT); INSERT INTO people VALUES ('p1', 'old');");
    db.close();
    const r = await runNode(['api/server.ts'], env());
    expect(r.code).not.toBe(0);
    expect(r.out).toContain(
      'records.db: migration 0001_initial failed and was rolled back; the file stays at schema version 0: no such column: apartment_id',
    );
    const after = new Database(join(dir, 'records.db'), { readonly: true });
    expect(schemaVersion(after)).toBe(0);
    expect(userTables(after)).toEqual(['people']);
    expect(after.prepare('SELECT * FROM people').all()).toEqual([{ id: 'p1', username: 'old' }]);
    after.close();
  });
});

describe('several processes opening one fresh file at once', () => {
  it('apply its migration exactly once (the others wait for the writer lock, then find it done)', async () => {
    const script = join(root, 'tests', 'harness', 'migrate-once.mts');
    const runs = await Promise.all([0, 1, 2].map(() => runNode([script, dir], {})));
    for (const r of runs) expect(r.code, r.out).toBe(0);
    const applied = runs.flatMap((r) => JSON.parse(r.out.trim().split('\n').at(-1)!) as string[]);
    expect(applied).toEqual(['0001_initial']);
    const db = new Database(join(dir, 'records.db'), { readonly: true });
    expect(db.prepare('SELECT version FROM schema_migrations').all()).toEqual([{ version: 1 }]);
    db.close();
  });
});
