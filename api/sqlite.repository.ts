/**
 * Base of the API's SQLite repositories (tables in records.db): creates the repository's
 * schema once and caches prepared statements by SQL text, since preparing costs more than
 * running a small query.
 */
import type Database from 'better-sqlite3';

export abstract class SqliteRepository {
  protected readonly db: Database.Database;
  readonly #stmts = new Map<string, Database.Statement>();

  protected constructor(db: Database.Database, schema: string) {
    this.db = db;
    db.exec(schema);
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
