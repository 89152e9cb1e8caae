/**
 * Opens one of the platform's SQLite files in DATA_DIR (or `:memory:` for tests) the same way
 * everywhere: WAL so readers in other processes run beside the writer, synchronous=NORMAL
 * (survives a process crash; the spool and the broker journal cover the rest), a busy timeout
 * (several processes share records.db), and the file's migrations (migrations/migrate.ts)
 * before anyone reads it. A read-only opener migrates nothing but still refuses a newer file.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { assertNotNewer, migrate, type MigrationResult, type MigrationSet } from './migrations/migrate.ts';

/** How long a connection waits for another process's write lock (a migration, a write burst). */
const BUSY_TIMEOUT_MS = 5000;

export interface OpenOptions {
  readonly readonly?: boolean;
  /** Told what this open migrated (a service logs it; tests count it). */
  readonly onMigrated?: (r: MigrationResult) => void;
}

export function openSqliteFile(dataDir: string | ':memory:', set: MigrationSet, opts: OpenOptions = {}): Database.Database {
  let file = ':memory:';
  if (dataDir !== ':memory:') {
    mkdirSync(dataDir, { recursive: true });
    file = join(dataDir, set.file);
  }
  const readonly = opts.readonly ?? false;
  const db = new Database(file, { readonly });
  try {
    // Before migrating: a second process opening the file waits for the first one's migration.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // A file newer than this code is refused before anything (even the journal mode) is written.
    assertNotNewer(db, set);
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      const r = migrate(db, set);
      opts.onMigrated?.(r);
    }
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}
