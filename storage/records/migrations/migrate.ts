/**
 * The schema migration runner for the platform's SQLite files (records.db, readings.db): one
 * ordered list of migrations per file, its version in `PRAGMA user_version` (read before any
 * write, so a file newer than this code is refused untouched) and its history in
 * `schema_migrations` (which migration ran when). Each migration runs in its own
 * `BEGIN IMMEDIATE` transaction with the version bump, so a failure leaves the file at the
 * last good version, and several processes opening one file at once (broker, ingest, API)
 * apply each migration exactly once: the second waits on the writer lock, then sees it done.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  /** 1, 2, 3 … in order, no gaps: the file's version after this migration. */
  readonly version: number;
  /** Short name, as in the file name (`0001_initial` → `initial`). */
  readonly name: string;
  /** Runs inside the migration's transaction; throw to roll it back. Synchronous (better-sqlite3). */
  up(db: Database.Database): void;
}

export interface MigrationSet {
  /** The database file this set belongs to, for messages (`records.db`). */
  readonly file: string;
  readonly migrations: readonly Migration[];
}

export type MigrationErrorCode = 'schema_newer' | 'migration_failed';

/** A database this code must not run on: newer than the code, or a migration that failed (rolled back). */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';
  constructor(
    readonly code: MigrationErrorCode,
    readonly file: string,
    /** The version the file is (still) at. */
    readonly version: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface MigrationResult {
  readonly from: number;
  readonly to: number;
  /** `0001_initial` … for the migrations this call applied (empty when another process did, or none was due). */
  readonly applied: readonly string[];
}

export const migrationId = (m: Migration): string => `${String(m.version).padStart(4, '0')}_${m.name}`;

const HISTORY = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`;

export const schemaVersion = (db: Database.Database): number => db.pragma('user_version', { simple: true }) as number;

function latestOf(set: MigrationSet): number {
  set.migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`${set.file}: migration ${migrationId(m)} is number ${i + 1} in the list`);
  });
  return set.migrations.length;
}

/** Refuse a file written by newer code (its tables may mean what this code does not know). */
export function assertNotNewer(db: Database.Database, set: MigrationSet): number {
  const latest = latestOf(set);
  const v = schemaVersion(db);
  if (v > latest)
    throw new MigrationError(
      'schema_newer',
      set.file,
      v,
      `${set.file} is at schema version ${v}, but this code knows versions up to ${latest}: run the newer code or restore a backup of the file (nothing was changed)`,
    );
  return v;
}

/** Bring `db` to the latest version of `set`. Throws MigrationError (nothing of the failed migration kept). */
export function migrate(db: Database.Database, set: MigrationSet, now: () => number = Date.now): MigrationResult {
  const from = assertNotNewer(db, set);
  const applied: string[] = [];
  for (const m of set.migrations) {
    if (m.version <= from) continue;
    const id = migrationId(m);
    try {
      const ran = db
        .transaction(() => {
          // Re-read under the writer lock: another process may have applied it meanwhile.
          const at = schemaVersion(db);
          if (at >= m.version) return false;
          if (at !== m.version - 1) throw new Error(`the file is at version ${at}, expected ${m.version - 1}`);
          db.exec(HISTORY);
          m.up(db);
          db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now());
          db.pragma(`user_version = ${m.version}`);
          return true;
        })
        .immediate();
      if (ran) applied.push(id);
    } catch (e) {
      const at = schemaVersion(db);
      throw new MigrationError(
        'migration_failed',
        set.file,
        at,
        `${set.file}: migration ${id} failed and was rolled back; the file stays at schema version ${at}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  }
  // A newer process may have gone past this code's last migration while this one waited.
  return { from, to: assertNotNewer(db, set), applied };
}

/** For repositories handed a connection: one that was not migrated is a wiring bug, said at once, not a "no such table" later. */
export function assertMigrated(db: Database.Database, set: MigrationSet): void {
  const v = schemaVersion(db);
  if (v !== set.migrations.length)
    throw new Error(
      `${set.file} is at schema version ${v}, not ${set.migrations.length}: open it with openSqliteFile (storage/records/sqlite.file.ts)`,
    );
}
