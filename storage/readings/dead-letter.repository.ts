/**
 * Dead letters: every rejected telemetry message (or element of a batch) with its reason and
 * raw payload (truncated), in records.db beside the registry so the API can list them.
 */
import type Database from 'better-sqlite3';
import { RECORDS_DB } from '../records/migrations/index.ts';
import { assertMigrated } from '../records/migrations/migrate.ts';
import { whereOf } from '../records/sql.filter.ts';

export interface DeadLetter {
  readonly id: number;
  /** Arrival time (ingest clock), epoch ms. */
  readonly at: number;
  readonly deviceId?: string;
  readonly topic: string;
  readonly reason: string;
  /** Raw payload as text (UTF-8, invalid bytes replaced), truncated to RAW_MAX_CHARS. */
  readonly raw: string;
}

export type NewDeadLetter = Omit<DeadLetter, 'id' | 'raw'> & { readonly raw: string | Uint8Array };

/** Enough to see what a device sent; a 1 MB garbage payload is not worth keeping whole. */
export const RAW_MAX_CHARS = 2048;

const decoder = new TextDecoder('utf-8', { fatal: false });

export function truncateRaw(raw: string | Uint8Array): string {
  const s = typeof raw === 'string' ? raw.slice(0, RAW_MAX_CHARS * 2) : decoder.decode(raw.subarray(0, RAW_MAX_CHARS * 4));
  return s.length > RAW_MAX_CHARS ? s.slice(0, RAW_MAX_CHARS) + '…' : s;
}

type Row = { id: number; at: number; device_id: string | null; topic: string; reason: string; raw: string };

export class DeadLetterRepository {
  readonly #db: Database.Database;
  readonly #insertMany: (items: readonly NewDeadLetter[]) => void;

  /** `db` is the records database (RegistryRepository.db); its table comes from records.db's migrations. */
  constructor(db: Database.Database) {
    assertMigrated(db, RECORDS_DB);
    this.#db = db;
    const ins = db.prepare('INSERT INTO dead_letters (at, device_id, topic, reason, raw) VALUES (?, ?, ?, ?, ?)');
    this.#insertMany = db.transaction((items: readonly NewDeadLetter[]) => {
      for (const d of items) ins.run(d.at, d.deviceId ?? null, d.topic, d.reason, truncateRaw(d.raw));
    });
  }

  add(items: readonly NewDeadLetter[]): void {
    if (items.length) this.#insertMany(items);
  }

  list(filter: { reason?: string; deviceId?: string; beforeId?: number; limit?: number } = {}): DeadLetter[] {
    const w = whereOf([
      ['reason = ?', filter.reason],
      ['device_id = ?', filter.deviceId],
      ['id < ?', filter.beforeId || undefined],
    ]);
    const sql = `SELECT * FROM dead_letters${w.sql} ORDER BY id DESC LIMIT ?`;
    return (this.#db.prepare(sql).all(...w.args, Math.min(filter.limit ?? 100, 1000)) as Row[]).map((r) => {
      const d: { -readonly [K in keyof DeadLetter]: DeadLetter[K] } = { id: r.id, at: r.at, topic: r.topic, reason: r.reason, raw: r.raw };
      if (r.device_id) d.deviceId = r.device_id;
      return d;
    });
  }

  /** Rejections per reason. */
  countByReason(): Record<string, number> {
    const rows = this.#db.prepare('SELECT reason, count(*) AS n FROM dead_letters GROUP BY reason').all() as {
      reason: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
  }

  count(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n;
  }

  /** Keep the newest `keep` rows (a flood of garbage must not fill the disk). */
  prune(keep: number): number {
    const maxId = (this.#db.prepare('SELECT max(id) AS m FROM dead_letters').get() as { m: number | null }).m ?? 0;
    return this.#db.prepare('DELETE FROM dead_letters WHERE id <= ?').run(maxId - keep).changes;
  }
}
