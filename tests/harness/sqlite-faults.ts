/**
 * Fault injection for records.db (better-sqlite3): an I/O error where the disk would give one.
 * Used by the tests of what the API and the ingest do when SQLite refuses a write.
 */
import Database from 'better-sqlite3';

/** What a refusal rule sees of a statement: its SQL and whether it only reads. */
export interface StatementInfo {
  readonly source: string;
  readonly reader: boolean;
}

/**
 * From now until off(), Statement#run throws SQLITE_IOERR_WRITE ('disk I/O error', what EIO
 * looks like to better-sqlite3) for every statement `refuse` picks — by default every write.
 * The patch sits on better-sqlite3's Statement prototype (found through `db`), so it holds for
 * statements prepared before and after it, on every connection in the process. off() puts the
 * original back and may be called more than once.
 */
export function injectSqliteFault(db: Database.Database, refuse: (s: StatementInfo) => boolean = (s) => !s.reader): { off(): void } {
  const Statement = Object.getPrototypeOf(db.prepare('SELECT 1')) as { run: (...a: unknown[]) => unknown };
  const run = Statement.run;
  Statement.run = function (this: StatementInfo, ...args: unknown[]) {
    if (refuse(this)) throw new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE');
    return run.apply(this, args);
  };
  return { off: () => void (Statement.run = run) };
}

/** A refusal rule: the statements that insert into `table`. */
export const insertsInto =
  (table: string) =>
  (s: StatementInfo): boolean =>
    s.source.startsWith(`INSERT INTO ${table}`);

/** A table a full disk is made of: the INSERT of one row taking its text as the one `?`, and the DELETE of those rows. */
export interface Filler {
  readonly insert: string;
  readonly cleanup: string;
}

/**
 * A full disk, for real (SQLITE_FULL): `db` may not grow past the pages it has, and the free
 * room left in those pages is used up by the fillers' rows, of shrinking size (each table's own
 * pages keep free room, so fill those a test's writes go to). off() gives room back and
 * deletes the rows.
 */
export function fillSqliteDisk(db: Database.Database, fillers: readonly Filler[]): { off(): void } {
  const pages = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${pages}`);
  const inserts = fillers.map((f) => db.prepare(f.insert));
  for (const size of [4000, 1000, 200, 40, 1]) {
    for (const insert of inserts) {
      for (;;) {
        try {
          insert.run('x'.repeat(size));
        } catch (e) {
          if ((e as { code?: string }).code !== 'SQLITE_FULL') throw e;
          break;
        }
      }
    }
  }
  return {
    off: () => {
      db.pragma(`max_page_count = ${pages + 100_000}`);
      for (const f of fillers) db.prepare(f.cleanup).run();
    },
  };
}
