/** Planned outages (N9) and device online status, in records.db. */
import type Database from 'better-sqlite3';
import { SqliteRepository } from './sqlite.repository.ts';

export interface Outage {
  readonly id: string;
  readonly scopeType: 'station' | 'building';
  readonly scopeId: string;
  readonly stationId: string;
  readonly startsAt: number;
  readonly endsAt: number;
  readonly reason: string;
  readonly emergency: boolean;
  readonly announcedAt: number;
  readonly announcedBy: string;
  readonly apartments: readonly string[];
  readonly followUpOrderId?: string;
  /** N9: cold incidents this outage explained (no order of their own; the follow-up checks them). */
  readonly explainedIncidentIds?: readonly string[];
  /** N9: why an outage was announced with less than the notice (required with `emergency`). */
  readonly emergencyReason?: string;
  /** N9: each apartment's notice, recorded when it was told (shown in the resident's home). */
  readonly notices?: readonly { readonly apartmentId: string; readonly at: number; readonly hoursAhead: number }[];
}

export class OutagesRepository extends SqliteRepository {
  constructor(db: Database.Database) {
    super(db);
  }

  save(o: Outage): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO outages (id, station_id, starts_at, ends_at, data) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET data = excluded.data',
        )
        .run(o.id, o.stationId, o.startsAt, o.endsAt, JSON.stringify(o));
      const ins = this.prep('INSERT OR IGNORE INTO outage_apartments VALUES (?, ?)');
      for (const a of o.apartments) ins.run(o.id, a);
    })();
  }

  get(id: string): Outage | undefined {
    const r = this.prep('SELECT data FROM outages WHERE id = ?').get(id) as { data: string } | undefined;
    return r ? (JSON.parse(r.data) as Outage) : undefined;
  }

  list(f: { apartmentId?: string; stationId?: string } = {}): Outage[] {
    const rows = f.apartmentId
      ? this.prep(
          'SELECT o.data FROM outages o JOIN outage_apartments a ON a.outage_id = o.id WHERE a.apartment_id = ? ORDER BY o.starts_at DESC',
        ).all(f.apartmentId)
      : f.stationId
        ? this.prep('SELECT data FROM outages WHERE station_id = ? ORDER BY starts_at DESC').all(f.stationId)
        : this.prep('SELECT data FROM outages ORDER BY starts_at DESC').all();
    return (rows as { data: string }[]).map((r) => JSON.parse(r.data) as Outage);
  }

  /** Ended outages without a follow-up order yet. */
  endedWithoutFollowUp(now: number): Outage[] {
    return (this.prep('SELECT data FROM outages WHERE ends_at <= ?').all(now) as { data: string }[])
      .map((r) => JSON.parse(r.data) as Outage)
      .filter((o) => !o.followUpOrderId);
  }

  setDeviceStatus(deviceId: string, status: string, at: number): void {
    this.db
      .prepare('INSERT INTO device_status VALUES (?, ?, ?) ON CONFLICT(device_id) DO UPDATE SET status = excluded.status, at = excluded.at')
      .run(deviceId, status, at);
  }

  deviceStatuses(): Map<string, { status: string; at: number }> {
    const rows = this.prep('SELECT * FROM device_status').all() as { device_id: string; status: string; at: number }[];
    return new Map(rows.map((r) => [r.device_id, { status: r.status, at: r.at }]));
  }
}
