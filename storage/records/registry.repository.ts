/**
 * The registry: topology and devices, in SQLite (WAL) at `${dataDir}/records.db`.
 * The API writes it; the broker (authentication, ACL) and the ingest (device → location)
 * read it. Each process opens its own connection; WAL lets readers run beside the writer.
 */
import type Database from 'better-sqlite3';
import type { Apartment, Building, City, Device, DeviceLocation, HeatSource, Office, Room, Station } from '../../domain/topology.schema.ts';
import { hashDeviceSecret, verifyDeviceSecret, type SecretHash } from './secrets.ts';
import { SERVICE_ACCOUNT_PREFIX, isReservedDeviceId } from './service-accounts.ts';
import { RECORDS_DB } from './migrations/index.ts';
import { openSqliteFile, type OpenOptions } from './sqlite.file.ts';
import { whereOf } from './sql.filter.ts';

export type ServiceScope = 'ingest' | 'api' | 'replay' | 'admin';

type Row = Record<string, unknown>;

/**
 * A topology row (sources, offices, stations, buildings, apartments, rooms) as its domain
 * object: snake_case columns to camelCase keys (area_m2 → areaM2), lat/lon as `location`,
 * NULL columns left out. Devices are mapped field by field instead: their row holds the
 * secret's hash, which must never reach an object that is served.
 */
function fromRow<T>(r: Row): T {
  const out: Record<string, unknown> = {};
  for (const [col, v] of Object.entries(r)) {
    if (v === null || col === 'lat' || col === 'lon') continue;
    out[col.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())] = v;
  }
  if ('lat' in r) out.location = { lat: r.lat, lon: r.lon };
  return out as T;
}
const toStation = fromRow<Station>;
const toBuilding = fromRow<Building>;
const toApartment = fromRow<Apartment>;
const toRoom = fromRow<Room>;
const toDevice = (r: Row): Device => {
  const d: { -readonly [K in keyof Device]: Device[K] } = {
    id: r.id as string,
    kind: r.kind as Device['kind'],
    intervalMin: r.interval_min as number,
    enabled: r.enabled === 1,
  };
  if (r.room_id) d.roomId = r.room_id as string;
  if (r.station_id) d.stationId = r.station_id as string;
  if (r.gateway_id) d.gatewayId = r.gateway_id as string;
  return d;
};

const LOCATION_SQL = `
SELECT d.id AS device_id, d.kind, d.gateway_id, d.interval_min, d.enabled,
       r.id AS room_id, a.id AS apartment_id, b.id AS building_id,
       COALESCE(d.station_id, b.station_id) AS station_id, s.office_id, s.source_id
FROM devices d
LEFT JOIN rooms r ON r.id = d.room_id
LEFT JOIN apartments a ON a.id = r.apartment_id
LEFT JOIN buildings b ON b.id = a.building_id
LEFT JOIN stations s ON s.id = COALESCE(d.station_id, b.station_id)`;

const toLocation = (r: Row): DeviceLocation => {
  const l: Record<string, unknown> = {
    deviceId: r.device_id,
    kind: r.kind,
    intervalMin: r.interval_min,
    enabled: r.enabled === 1,
  };
  for (const [col, key] of [
    ['room_id', 'roomId'],
    ['apartment_id', 'apartmentId'],
    ['building_id', 'buildingId'],
    ['station_id', 'stationId'],
    ['office_id', 'officeId'],
    ['source_id', 'sourceId'],
    ['gateway_id', 'gatewayId'],
  ] as const) {
    if (r[col] != null) l[key] = r[col];
  }
  return l as unknown as DeviceLocation;
};

export class RegistryRepository {
  readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /**
   * Open `${dataDir}/records.db` (`:memory:` for unit tests), migrated to this code's schema
   * (storage/records/migrations). The schema's topology triggers bump meta.topology_version on
   * every topology write, by any process, which the ingest's rules engine follows.
   */
  static open(dataDir: string | ':memory:', opts: OpenOptions = {}): RegistryRepository {
    return new RegistryRepository(openSqliteFile(dataDir, RECORDS_DB, opts));
  }

  close(): void {
    this.db.close();
  }

  isEmpty(): boolean {
    return (this.db.prepare('SELECT count(*) AS n FROM stations').get() as { n: number }).n === 0;
  }

  getMeta(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /**
   * Load a whole city in one transaction (nothing half-loaded). `secrets` gives each
   * device's plain secret, hashed here and never stored.
   */
  loadCity(city: City, secrets: ReadonlyMap<string, string>): void {
    const now = Date.now();
    const tx = this.db.transaction(() => {
      const src = this.db.prepare('INSERT OR REPLACE INTO sources VALUES (?, ?, ?, ?)');
      for (const s of city.sources) src.run(s.id, s.name, s.location.lat, s.location.lon);
      const off = this.db.prepare('INSERT OR REPLACE INTO offices VALUES (?, ?, ?)');
      for (const o of city.offices) off.run(o.id, o.name, o.phone ?? null);
      const st = this.db.prepare('INSERT OR REPLACE INTO stations VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      for (const s of city.stations) st.run(s.id, s.name, s.officeId, s.sourceId, s.branchId, s.location.lat, s.location.lon, s.system);
      const b = this.db.prepare('INSERT OR REPLACE INTO buildings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
      for (const x of city.buildings)
        b.run(x.id, x.name, x.stationId, x.address, x.location.lat, x.location.lon, x.floors, x.entrances, x.unitsPerFloor);
      const a = this.db.prepare('INSERT OR REPLACE INTO apartments VALUES (?, ?, ?, ?, ?, ?, ?)');
      for (const x of city.apartments) a.run(x.id, x.buildingId, x.entrance, x.floor, x.unit, x.number, x.areaM2);
      const r = this.db.prepare('INSERT OR REPLACE INTO rooms VALUES (?, ?, ?, ?, ?)');
      for (const x of city.rooms) r.run(x.id, x.apartmentId, x.name, x.type, x.areaM2);
      for (const d of city.devices) {
        const secret = secrets.get(d.id);
        if (!secret) throw new Error(`no secret for device ${d.id}`);
        this.insertDevice(d, hashDeviceSecret(secret), now);
      }
      this.setMeta('city', JSON.stringify({ name: city.name, seed: city.seed, policyCity: city.policyCity }));
    });
    tx();
  }

  private insertDevice(d: Device, h: SecretHash, now: number): void {
    // Last line of defence for the disjoint namespaces (service-accounts.ts); the API and
    // the CSV import refuse such ids first with a 400 naming the field.
    if (isReservedDeviceId(d.id))
      throw new Error(`device id ${d.id}: the prefix ${SERVICE_ACCOUNT_PREFIX} is reserved for service accounts`);
    this.db
      .prepare(
        `INSERT INTO devices (id, kind, room_id, station_id, gateway_id, interval_min, enabled, secret_hash, secret_salt, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, room_id = excluded.room_id, station_id = excluded.station_id,
           gateway_id = excluded.gateway_id, interval_min = excluded.interval_min, enabled = excluded.enabled,
           secret_hash = excluded.secret_hash, secret_salt = excluded.secret_salt`,
      )
      .run(d.id, d.kind, d.roomId ?? null, d.stationId ?? null, d.gatewayId ?? null, d.intervalMin, d.enabled ? 1 : 0, h.hash, h.salt, now);
  }

  /** Provision (or re-provision) a device with a plain secret, hashed here. */
  upsertDevice(d: Device, secret: string): void {
    this.insertDevice(d, hashDeviceSecret(secret), Date.now());
  }

  setDeviceEnabled(id: string, enabled: boolean): boolean {
    return this.db.prepare('UPDATE devices SET enabled = ? WHERE id = ?').run(enabled ? 1 : 0, id).changes === 1;
  }

  /** Remove a device and its credentials; false when there was none. */
  deleteDevice(id: string): boolean {
    return this.db.prepare('DELETE FROM devices WHERE id = ?').run(id).changes === 1;
  }

  getDevice(id: string): Device | undefined {
    return this.#byId('devices', id, toDevice);
  }

  listDevices(filter: { kind?: string; gatewayId?: string; stationId?: string; limit?: number; offset?: number } = {}): Device[] {
    const w = whereOf([
      ['kind = ?', filter.kind],
      ['gateway_id = ?', filter.gatewayId],
      ['station_id = ?', filter.stationId],
    ]);
    const sql = `SELECT * FROM devices${w.sql} ORDER BY id LIMIT ? OFFSET ?`;
    return (this.db.prepare(sql).all(...w.args, filter.limit ?? 1_000_000, filter.offset ?? 0) as Row[]).map(toDevice);
  }

  /** Check a device's credentials; false for unknown devices too (no oracle). */
  verifyDevice(id: string, secret: string): boolean {
    const r = this.db.prepare('SELECT secret_hash, secret_salt FROM devices WHERE id = ?').get(id) as Row | undefined;
    if (!r) return false;
    return verifyDeviceSecret(secret, { hash: r.secret_hash as string, salt: r.secret_salt as string });
  }

  upsertServiceAccount(id: string, scopes: readonly ServiceScope[], secret: string): void {
    const h = hashDeviceSecret(secret);
    this.db
      .prepare(
        `INSERT INTO service_accounts VALUES (?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET scopes = excluded.scopes, secret_hash = excluded.secret_hash, secret_salt = excluded.secret_salt`,
      )
      .run(id, JSON.stringify(scopes), h.hash, h.salt);
  }

  /** Scopes of a service account when the secret matches, otherwise undefined. */
  verifyServiceAccount(id: string, secret: string): ServiceScope[] | undefined {
    const r = this.db.prepare('SELECT * FROM service_accounts WHERE id = ?').get(id) as Row | undefined;
    if (!r) return undefined;
    if (!verifyDeviceSecret(secret, { hash: r.secret_hash as string, salt: r.secret_salt as string })) return undefined;
    return JSON.parse(r.scopes as string) as ServiceScope[];
  }

  /** Does a service account with this id exist? (lets the broker count unknown vs wrong secret). */
  hasServiceAccount(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM service_accounts WHERE id = ?').get(id) !== undefined;
  }

  /** Ids of disabled devices (the broker kicks connected ones). */
  disabledDeviceIds(): string[] {
    return (this.db.prepare('SELECT id FROM devices WHERE enabled = 0').all() as { id: string }[]).map((r) => r.id);
  }

  locate(deviceId: string): DeviceLocation | undefined {
    const r = this.db.prepare(`${LOCATION_SQL} WHERE d.id = ?`).get(deviceId) as Row | undefined;
    return r ? toLocation(r) : undefined;
  }

  allLocations(): DeviceLocation[] {
    return (this.db.prepare(LOCATION_SQL).all() as Row[]).map(toLocation);
  }

  listSources(): HeatSource[] {
    return this.#rows('sources', fromRow<HeatSource>);
  }

  listOffices(): Office[] {
    return this.#rows('offices', fromRow<Office>);
  }

  listStations(): Station[] {
    return this.#rows('stations', toStation);
  }

  getStation(id: string): Station | undefined {
    return this.#byId('stations', id, toStation);
  }

  listBuildings(stationId?: string): Building[] {
    return this.#rows('buildings', toBuilding, { column: 'station_id', id: stationId });
  }

  getBuilding(id: string): Building | undefined {
    return this.#byId('buildings', id, toBuilding);
  }

  /** A building's apartments in staircase order (entrance, floor, unit); all of them by id. */
  listApartments(buildingId?: string): Apartment[] {
    return this.#rows('apartments', toApartment, { column: 'building_id', id: buildingId, order: 'entrance, floor, unit' });
  }

  getApartment(id: string): Apartment | undefined {
    return this.#byId('apartments', id, toApartment);
  }

  listRooms(apartmentId?: string): Room[] {
    return this.#rows('rooms', toRoom, { column: 'apartment_id', id: apartmentId });
  }

  #byId<T>(table: string, id: string, to: (r: Row) => T): T | undefined {
    const r = this.db.prepare(`SELECT * FROM ${table} WHERE id = ?`).get(id) as Row | undefined;
    return r ? to(r) : undefined;
  }

  /** A table's rows by id, or only those under one parent (`column` = `id`, when given) in `order`. */
  #rows<T>(table: string, to: (r: Row) => T, under?: { column: string; id: string | undefined; order?: string }): T[] {
    const rows = under?.id
      ? this.db.prepare(`SELECT * FROM ${table} WHERE ${under.column} = ? ORDER BY ${under.order ?? 'id'}`).all(under.id)
      : this.db.prepare(`SELECT * FROM ${table} ORDER BY id`).all();
    return (rows as Row[]).map(to);
  }

  /** Bumped by every topology write (triggers, any process): compare to notice a change. */
  topologyVersion(): number {
    return Number(this.getMeta('topology_version') ?? 0);
  }

  /** The whole topology (devices without secrets), e.g. for the rules engine. */
  city(): City {
    const meta = JSON.parse(this.getMeta('city') ?? '{"name":"city","seed":0,"policyCity":"beijing"}') as {
      name: string;
      seed: number;
      policyCity: string;
    };
    return {
      ...meta,
      sources: this.listSources(),
      offices: this.listOffices(),
      stations: this.listStations(),
      buildings: this.listBuildings(),
      apartments: this.listApartments(),
      rooms: this.listRooms(),
      devices: this.listDevices(),
    };
  }
}
