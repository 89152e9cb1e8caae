/**
 * Registry writes and look-ups the API needs beyond RegistryRepository (shared file):
 * onboarding (offices, heat sources, stations, buildings, apartments, rooms: create, update,
 * retire) and indexed existence checks that stay cheap on a city with millions of rooms.
 * Every write here bumps the registry's topology_version (SQLite triggers in
 * registry.repository.ts), which the ingest's rules engine follows.
 */
import type Database from 'better-sqlite3';
import type { Apartment, Building, HeatSource, Office, Room, Station } from '../domain/topology.schema.ts';

/** Tables onboarding writes, and what must be gone before a row may be retired. */
const DEPENDENTS = {
  offices: [['stations', 'office_id']],
  sources: [['stations', 'source_id']],
  stations: [
    ['buildings', 'station_id'],
    ['devices', 'station_id'],
  ],
  buildings: [['apartments', 'building_id']],
  apartments: [['rooms', 'apartment_id']],
  rooms: [['devices', 'room_id']],
} as const;
export type TopologyTable = keyof typeof DEPENDENTS;

export class TopologyRepository {
  readonly #db: Database.Database;
  readonly #roomExists: Database.Statement;
  constructor(db: Database.Database) {
    this.#db = db;
    this.#roomExists = db.prepare('SELECT 1 FROM rooms WHERE id = ?');
  }

  roomExists(id: string): boolean {
    return this.#roomExists.get(id) !== undefined;
  }

  exists(table: TopologyTable, id: string): boolean {
    return this.#db.prepare(`SELECT 1 FROM ${table} WHERE id = ?`).get(id) !== undefined;
  }

  getRoom(id: string): Room | undefined {
    const r = this.#db.prepare('SELECT * FROM rooms WHERE id = ?').get(id) as Record<string, unknown> | undefined;
    return r
      ? {
          id: r.id as string,
          apartmentId: r.apartment_id as string,
          name: r.name as string,
          type: r.type as Room['type'],
          areaM2: r.area_m2 as number,
        }
      : undefined;
  }

  /** Rows that still hang on this one (e.g. a station's buildings and meters), by table. */
  dependents(table: TopologyTable, id: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [t, col] of DEPENDENTS[table]) {
      const n = (this.#db.prepare(`SELECT count(*) AS n FROM ${t} WHERE ${col} = ?`).get(id) as { n: number }).n;
      if (n) out[t] = n;
    }
    return out;
  }

  /** Remove a row; the caller checked `dependents` first. */
  retire(table: TopologyTable, id: string): boolean {
    return this.#db.prepare(`DELETE FROM ${table} WHERE id = ?`).run(id).changes === 1;
  }

  upsertOffice(o: Office): void {
    this.#db
      .prepare('INSERT INTO offices VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, phone = excluded.phone')
      .run(o.id, o.name, o.phone ?? null);
  }

  upsertSource(s: HeatSource): void {
    this.#db
      .prepare(
        'INSERT INTO sources VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, lat = excluded.lat, lon = excluded.lon',
      )
      .run(s.id, s.name, s.location.lat, s.location.lon);
  }

  upsertStation(s: Station): void {
    this.#db
      .prepare(
        `INSERT INTO stations VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, office_id = excluded.office_id,
           source_id = excluded.source_id, branch_id = excluded.branch_id, lat = excluded.lat, lon = excluded.lon, system = excluded.system`,
      )
      .run(s.id, s.name, s.officeId, s.sourceId, s.branchId, s.location.lat, s.location.lon, s.system);
  }

  upsertBuilding(b: Building): void {
    this.#db
      .prepare(
        `INSERT INTO buildings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name, station_id = excluded.station_id,
           address = excluded.address, lat = excluded.lat, lon = excluded.lon, floors = excluded.floors, entrances = excluded.entrances, units_per_floor = excluded.units_per_floor`,
      )
      .run(b.id, b.name, b.stationId, b.address, b.location.lat, b.location.lon, b.floors, b.entrances, b.unitsPerFloor);
  }

  upsertApartment(a: Apartment): void {
    this.#db
      .prepare(
        `INSERT INTO apartments VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET building_id = excluded.building_id, entrance = excluded.entrance,
           floor = excluded.floor, unit = excluded.unit, number = excluded.number, area_m2 = excluded.area_m2`,
      )
      .run(a.id, a.buildingId, a.entrance, a.floor, a.unit, a.number, a.areaM2);
  }

  upsertRoom(r: Room): void {
    this.#db
      .prepare(
        'INSERT INTO rooms VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET apartment_id = excluded.apartment_id, name = excluded.name, type = excluded.type, area_m2 = excluded.area_m2',
      )
      .run(r.id, r.apartmentId, r.name, r.type, r.areaM2);
  }
}
