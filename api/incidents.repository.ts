/** Incidents as the rules engine reported them (heat/v1/platform/incidents), latest state per id. */
import type Database from 'better-sqlite3';
import type { Incident } from '../domain/incident.schema.ts';
import { SqliteRepository } from './sqlite.repository.ts';
import { whereOf } from '../storage/records/sql.filter.ts';

export class IncidentsRepository extends SqliteRepository {
  constructor(db: Database.Database) {
    super(db);
  }

  /**
   * Store the latest state; returns false for a redelivered or older state (already applied).
   * The engine numbers each state (`revision`): several updates share one event time (a group
   * opens and its children move under it at the same instant), so time alone cannot tell a
   * new state from a redelivery. States without a revision fall back to time and content.
   */
  upsert(i: Incident, at: number): boolean {
    const prev = this.prep("SELECT status, updated_at, json_extract(data, '$.revision') AS revision, data FROM incidents WHERE id = ?").get(
      i.id,
    ) as { status: string; updated_at: number; revision: number | null; data: string } | undefined;
    if (prev) {
      if (prev.status === 'resolved' && i.status === 'open') return false;
      if (i.revision !== undefined && prev.revision !== null) {
        if (i.revision <= prev.revision) return false;
      } else if (prev.updated_at > at || (prev.updated_at === at && prev.data === JSON.stringify(i))) return false;
    }
    this.db
      .prepare(
        `INSERT INTO incidents (id, kind, status, station_id, apartment_id, start_ts, end_ts, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, end_ts = excluded.end_ts, updated_at = excluded.updated_at, data = excluded.data`,
      )
      .run(i.id, i.kind, i.status, i.stationId ?? null, i.apartmentId ?? null, i.startTs, i.endTs ?? null, at, JSON.stringify(i));
    return true;
  }

  get(id: string): Incident | undefined {
    const r = this.prep('SELECT data FROM incidents WHERE id = ?').get(id) as { data: string } | undefined;
    return r ? (JSON.parse(r.data) as Incident) : undefined;
  }

  list(f: { status?: string; kind?: string; stationId?: string; apartmentId?: string; limit?: number } = {}): Incident[] {
    const w = whereOf([
      ['status = ?', f.status],
      ['kind = ?', f.kind],
      ['station_id = ?', f.stationId],
      ['apartment_id = ?', f.apartmentId],
    ]);
    const sql = `SELECT data FROM incidents${w.sql} ORDER BY start_ts DESC LIMIT ?`;
    return (this.prep(sql).all(...w.args, f.limit ?? 1000) as { data: string }[]).map((r) => JSON.parse(r.data) as Incident);
  }

  /** Cold incidents overlapping [from, to), for compliance KPIs. */
  coldOverlapping(from: number, to: number): Incident[] {
    return (
      this.db
        .prepare("SELECT data FROM incidents WHERE kind = 'apartment_cold' AND start_ts < ? AND (end_ts IS NULL OR end_ts > ?)")
        .all(to, from) as { data: string }[]
    ).map((r) => JSON.parse(r.data) as Incident);
  }
}
