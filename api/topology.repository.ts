/**
 * Registry writes and look-ups the API needs beyond RegistryRepository (shared file):
 * imported buildings and apartments, and indexed existence checks that stay cheap on a
 * city with millions of rooms.
 */
import type Database from 'better-sqlite3';
import type { Apartment, Building } from '../domain/topology.schema.ts';

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
}
