/**
 * The ingest's local durable spool: raw telemetry messages (topic + payload + arrival time)
 * in SQLite (`${dataDir}/ingest-spool.db`, WAL). A message is PUBACKed only after the
 * transaction holding it committed; it is deleted only after its readings are in the store.
 * With `synchronous = FULL` each commit is fsync'd, so a power cut loses nothing acknowledged
 * either; commits are batched, so the fsync cost is paid per batch, not per message.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface SpoolEntry {
  readonly seq: number;
  readonly topic: string;
  readonly payload: Buffer;
  /** Arrival time on the ingest clock, epoch ms (validation "now" on every replay of it). */
  readonly at: number;
}

export type SpoolSync = 'full' | 'normal';

export class SpoolRepository {
  readonly #db: Database.Database;
  readonly #append: (items: readonly Omit<SpoolEntry, 'seq'>[]) => number;
  readonly #trim: Database.Statement;

  private constructor(db: Database.Database) {
    this.#db = db;
    const ins = db.prepare('INSERT INTO spool (topic, payload, at) VALUES (?, ?, ?)');
    this.#append = db.transaction((items: readonly Omit<SpoolEntry, 'seq'>[]) => {
      let first = -1;
      for (const it of items) {
        const id = Number(ins.run(it.topic, it.payload, it.at).lastInsertRowid);
        if (first < 0) first = id;
      }
      return first;
    });
    this.#trim = db.prepare('DELETE FROM spool WHERE seq <= ?');
  }

  static open(dataDir: string | ':memory:', sync: SpoolSync = 'full'): SpoolRepository {
    let file = ':memory:';
    if (dataDir !== ':memory:') {
      mkdirSync(dataDir, { recursive: true });
      file = join(dataDir, 'ingest-spool.db');
    }
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`);
    // AUTOINCREMENT: a seq is never reused, even after the table was emptied by a trim.
    db.exec('CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, payload BLOB NOT NULL, at INTEGER NOT NULL)');
    return new SpoolRepository(db);
  }

  /** Append in one transaction (one fsync); returns the entries with their sequence numbers. */
  append(items: readonly Omit<SpoolEntry, 'seq'>[]): SpoolEntry[] {
    if (!items.length) return [];
    const first = this.#append(items);
    return items.map((it, i) => ({ ...it, seq: first + i }));
  }

  /** Everything still spooled, oldest first (drained on start). */
  all(): SpoolEntry[] {
    return (this.#db.prepare('SELECT seq, topic, payload, at FROM spool ORDER BY seq').all() as SpoolEntry[]).map((r) => ({ ...r }));
  }

  /** Delete everything up to and including `seq` (its readings are stored). */
  trimThrough(seq: number): void {
    this.#trim.run(seq);
  }

  count(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM spool').get() as { n: number }).n;
  }

  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
