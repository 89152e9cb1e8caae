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
