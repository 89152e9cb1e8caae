/**
 * Orders in records.db: the whole record as JSON (the domain type is the schema) with the
 * columns that queries filter on beside it; order numbers from a per-year counter; and the
 * notifications the SLA clock sent (who was told what, when).
 */
import type Database from 'better-sqlite3';
import type { Order, OrderStatus } from '../domain/orders/order.ts';
import { SqliteRepository } from './sqlite.repository.ts';
import { whereOf } from '../storage/records/sql.filter.ts';

export interface OrderFilter {
  readonly status?: OrderStatus;
  readonly open?: boolean;
  readonly stationId?: string;
  readonly officeId?: string;
  readonly apartmentId?: string;
  readonly source?: string;
  readonly limit?: number;
  readonly offset?: number;
}

export interface Notification {
  readonly id: number;
  readonly at: number;
  readonly orderId: string;
  readonly room: string;
  readonly type: string;
  readonly detail?: string;
}

const OPEN_SQL = "status IN ('new','dispatched','accepted','on_site')";

export class OrdersRepository extends SqliteRepository {
  constructor(db: Database.Database) {
    super(db);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Next form number of the year, e.g. 2026-000042 (N20). */
  nextNumber(year: number): string {
    const r = this.db
      .prepare('INSERT INTO order_counters (year, n) VALUES (?, 1) ON CONFLICT(year) DO UPDATE SET n = n + 1 RETURNING n')
      .get(year) as { n: number };
    return `${year}-${String(r.n).padStart(6, '0')}`;
  }

  save(o: Order, now: number): void {
    this.db
      .prepare(
        `INSERT INTO orders (id, number, status, source, subject_type, apartment_id, building_id, station_id, office_id, received_at, updated_at, data)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET status = excluded.status, apartment_id = excluded.apartment_id, building_id = excluded.building_id,
           station_id = excluded.station_id, office_id = excluded.office_id, updated_at = excluded.updated_at, data = excluded.data`,
      )
      .run(
        o.id,
        o.number,
        o.status,
        o.source,
        o.subjectType,
        o.apartmentId ?? null,
        o.buildingId ?? null,
        o.stationId ?? null,
        o.officeId ?? null,
        o.receivedAt,
        now,
        JSON.stringify(o),
      );
    const ins = this.prep('INSERT OR IGNORE INTO order_apartments (order_id, apartment_id) VALUES (?, ?)');
    for (const a of o.apartments) ins.run(o.id, a);
    // An incident belongs to the last live order that took it (a merged, cancelled order gives it up).
    if (o.status !== 'cancelled') {
      const inc = this.prep(
        'INSERT INTO order_incidents (incident_id, order_id) VALUES (?, ?) ON CONFLICT(incident_id) DO UPDATE SET order_id = excluded.order_id',
      );
      for (const i of o.incidentIds) inc.run(i, o.id);
    }
  }

  get(id: string): Order | undefined {
    const r = this.prep('SELECT data FROM orders WHERE id = ?').get(id) as { data: string } | undefined;
    return r ? (JSON.parse(r.data) as Order) : undefined;
  }

  byIncident(incidentId: string): Order | undefined {
    const r = this.prep('SELECT o.data FROM order_incidents i JOIN orders o ON o.id = i.order_id WHERE i.incident_id = ?').get(
      incidentId,
    ) as { data: string } | undefined;
    return r ? (JSON.parse(r.data) as Order) : undefined;
  }

  /** Open orders that cover an apartment: its own, its building's, or its station's (N4). */
  openCovering(apartmentId: string, buildingId?: string, stationId?: string): Order | undefined {
    const r = this.db
      .prepare(
        `SELECT data FROM orders WHERE ${OPEN_SQL} AND (
           id IN (SELECT order_id FROM order_apartments WHERE apartment_id = ?)
           OR (subject_type = 'building' AND building_id = ?)
           OR (subject_type = 'station' AND station_id = ?))
         ORDER BY received_at LIMIT 1`,
      )
      .get(apartmentId, buildingId ?? null, stationId ?? null) as { data: string } | undefined;
    return r ? (JSON.parse(r.data) as Order) : undefined;
  }

  /** The open order of a building or station subject, if any. */
  openForSubject(subjectType: 'building' | 'station', id: string): Order | undefined {
    const col = subjectType === 'building' ? 'building_id' : 'station_id';
    const r = this.prep(`SELECT data FROM orders WHERE ${OPEN_SQL} AND subject_type = ? AND ${col} = ? LIMIT 1`).get(subjectType, id) as
      { data: string } | undefined;
    return r ? (JSON.parse(r.data) as Order) : undefined;
  }

  list(f: OrderFilter = {}): Order[] {
    const w = whereOf([
      ['status = ?', f.status],
      [OPEN_SQL, f.open],
      ['station_id = ?', f.stationId],
      ['office_id = ?', f.officeId],
      ['source = ?', f.source],
      ['id IN (SELECT order_id FROM order_apartments WHERE apartment_id = ?)', f.apartmentId],
    ]);
    const sql = `SELECT data FROM orders${w.sql} ORDER BY received_at DESC, id LIMIT ? OFFSET ?`;
    return (this.prep(sql).all(...w.args, f.limit ?? 1_000_000, f.offset ?? 0) as { data: string }[]).map(
      (r) => JSON.parse(r.data) as Order,
    );
  }

  countOpen(): number {
    return (this.prep(`SELECT count(*) AS n FROM orders WHERE ${OPEN_SQL}`).get() as { n: number }).n;
  }

  /** Complaints linked to an order (N4). */
  linkedTo(orderId: string): Order[] {
    return (this.prep("SELECT data FROM orders WHERE json_extract(data, '$.linkedOrderId') = ?").all(orderId) as { data: string }[]).map(
      (r) => JSON.parse(r.data) as Order,
    );
  }

  /** Orders whose clocks may still fire: not closed or cancelled. */
  listTicking(): Order[] {
    return (this.prep("SELECT data FROM orders WHERE status NOT IN ('closed','cancelled')").all() as { data: string }[]).map(
      (r) => JSON.parse(r.data) as Order,
    );
  }

  notify(n: Omit<Notification, 'id'>): void {
    this.prep('INSERT INTO notifications (at, order_id, room, type, detail) VALUES (?, ?, ?, ?, ?)').run(
      n.at,
      n.orderId,
      n.room,
      n.type,
      n.detail ?? null,
    );
  }

  notifications(orderId?: string): Notification[] {
    const rows = (
      orderId
        ? this.prep('SELECT * FROM notifications WHERE order_id = ? ORDER BY id').all(orderId)
        : this.prep('SELECT * FROM notifications ORDER BY id').all()
    ) as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as number,
      at: r.at as number,
      orderId: r.order_id as string,
      room: r.room as string,
      type: r.type as string,
      ...(r.detail ? { detail: r.detail as string } : {}),
    }));
  }
}
