/**
 * Base of the API's SQLite repositories (tables in records.db, created by its migrations in
 * storage/records/migrations): checks that the connection it is handed was migrated, and
 * caches prepared statements by SQL text, since preparing costs more than running a small query.
 */
import type Database from 'better-sqlite3';
import { RECORDS_DB } from '../storage/records/migrations/index.ts';
import { assertMigrated } from '../storage/records/migrations/migrate.ts';

export abstract class SqliteRepository {
  protected readonly db: Database.Database;
  readonly #stmts = new Map<string, Database.Statement>();

  protected constructor(db: Database.Database) {
    assertMigrated(db, RECORDS_DB);
    this.db = db;
  }

  protected prep(sql: string): Database.Statement {
    let st = this.#stmts.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.#stmts.set(sql, st);
    }
    return st;
  }
}
