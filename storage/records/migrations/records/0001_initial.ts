/**
 * records.db version 1: the schema as the repositories' constructors created it before
 * migrations existed (main fd3f03d): the registry (topology, devices, service accounts, meta
 * and the topology_version triggers), people and sessions, orders and their notifications,
 * incidents, outages and device status, the audit log, curve advice and dead letters.
 * Every statement is `IF NOT EXISTS` / `OR IGNORE` so that a file written by that code, by any
 * subset of the services (the broker alone creates only the registry tables), is adopted as
 * version 1 with its rows untouched. Later migrations use plain DDL.
 */
import type { Migration } from '../migrate.ts';

/**
 * Live topology: every write to a topology table, by any process or repository, bumps
 * meta.topology_version in the same transaction (storage/records/registry.repository.ts).
 */
const TOPOLOGY_TABLES = ['sources', 'offices', 'stations', 'buildings', 'apartments', 'rooms', 'devices'];
const TOPOLOGY_TRIGGERS =
  `INSERT OR IGNORE INTO meta(key, value) VALUES ('topology_version', '0');\n` +
  TOPOLOGY_TABLES.flatMap((t) =>
    ['INSERT', 'UPDATE', 'DELETE'].map(
      (op) =>
        `CREATE TRIGGER IF NOT EXISTS ${t}_${op.toLowerCase()}_topology AFTER ${op} ON ${t} BEGIN ` +
        `UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'topology_version'; END;`,
    ),
  ).join('\n');

const REGISTRY = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (id TEXT PRIMARY KEY, name TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL);
CREATE TABLE IF NOT EXISTS offices (id TEXT PRIMARY KEY, name TEXT NOT NULL, phone TEXT);
CREATE TABLE IF NOT EXISTS stations (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, office_id TEXT NOT NULL, source_id TEXT NOT NULL,
  branch_id TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL, system TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS buildings (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, station_id TEXT NOT NULL, address TEXT NOT NULL,
  lat REAL NOT NULL, lon REAL NOT NULL, floors INTEGER NOT NULL, entrances INTEGER NOT NULL, units_per_floor INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS buildings_station ON buildings(station_id);
CREATE TABLE IF NOT EXISTS apartments (
  id TEXT PRIMARY KEY, building_id TEXT NOT NULL, entrance INTEGER NOT NULL, floor INTEGER NOT NULL,
  unit INTEGER NOT NULL, number TEXT NOT NULL, area_m2 REAL NOT NULL);
CREATE INDEX IF NOT EXISTS apartments_building ON apartments(building_id);
CREATE TABLE IF NOT EXISTS rooms (
  id TEXT PRIMARY KEY, apartment_id TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL, area_m2 REAL NOT NULL);
CREATE INDEX IF NOT EXISTS rooms_apartment ON rooms(apartment_id);
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, room_id TEXT, station_id TEXT, gateway_id TEXT,
  interval_min REAL NOT NULL, enabled INTEGER NOT NULL DEFAULT 1,
  secret_hash TEXT NOT NULL, secret_salt TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS devices_room ON devices(room_id);
CREATE INDEX IF NOT EXISTS devices_station ON devices(station_id);
CREATE INDEX IF NOT EXISTS devices_gateway ON devices(gateway_id);
CREATE TABLE IF NOT EXISTS service_accounts (
  id TEXT PRIMARY KEY, scopes TEXT NOT NULL, secret_hash TEXT NOT NULL, secret_salt TEXT NOT NULL);
${TOPOLOGY_TRIGGERS}`;

/** api/people.repository.ts: session tokens only as SHA-256 digests. */
const PEOPLE = `
CREATE TABLE IF NOT EXISTS people (
  id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, name TEXT NOT NULL, role TEXT NOT NULL,
  office_id TEXT, apartment_id TEXT, phone TEXT, password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS people_apartment ON people(apartment_id);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY, person_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_person ON sessions(person_id);
`;

/** api/orders.repository.ts: the order as JSON beside the columns queries filter on. */
const ORDERS = `
CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, status TEXT NOT NULL, source TEXT NOT NULL,
  subject_type TEXT NOT NULL, apartment_id TEXT, building_id TEXT, station_id TEXT, office_id TEXT,
  received_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_status ON orders(status);
CREATE INDEX IF NOT EXISTS orders_apartment ON orders(apartment_id);
CREATE INDEX IF NOT EXISTS orders_station ON orders(station_id);
CREATE INDEX IF NOT EXISTS orders_building ON orders(building_id);
CREATE TABLE IF NOT EXISTS order_apartments (order_id TEXT NOT NULL, apartment_id TEXT NOT NULL, PRIMARY KEY (order_id, apartment_id));
CREATE INDEX IF NOT EXISTS order_apartments_apartment ON order_apartments(apartment_id);
CREATE TABLE IF NOT EXISTS order_incidents (incident_id TEXT PRIMARY KEY, order_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS order_counters (year INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, order_id TEXT NOT NULL, room TEXT NOT NULL,
  type TEXT NOT NULL, detail TEXT);
CREATE INDEX IF NOT EXISTS notifications_order ON notifications(order_id);
`;

/** api/incidents.repository.ts, api/outages.repository.ts, api/audit.repository.ts. */
const OPERATIONS = `
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, station_id TEXT, apartment_id TEXT,
  start_ts INTEGER NOT NULL, end_ts INTEGER, updated_at INTEGER NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS incidents_status ON incidents(status, kind);
CREATE INDEX IF NOT EXISTS incidents_apartment ON incidents(apartment_id);
CREATE TABLE IF NOT EXISTS outages (id TEXT PRIMARY KEY, station_id TEXT NOT NULL, starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outage_apartments (outage_id TEXT NOT NULL, apartment_id TEXT NOT NULL, PRIMARY KEY (outage_id, apartment_id));
CREATE INDEX IF NOT EXISTS outage_apartments_apartment ON outage_apartments(apartment_id);
CREATE TABLE IF NOT EXISTS device_status (device_id TEXT PRIMARY KEY, status TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, entity TEXT NOT NULL,
  entity_id TEXT NOT NULL, action TEXT NOT NULL, detail TEXT);
CREATE INDEX IF NOT EXISTS audit_entity ON audit_log(entity, entity_id);
`;

/** api/forecast.repository.ts (issue #20) and storage/readings/dead-letter.repository.ts. */
const ADVICE_AND_DEAD_LETTERS = `
CREATE TABLE IF NOT EXISTS forecast_advice (
  id TEXT PRIMARY KEY, station_id TEXT NOT NULL, created_at INTEGER NOT NULL, status TEXT NOT NULL,
  decided_by TEXT, decided_at INTEGER, advice TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS forecast_advice_station ON forecast_advice(station_id, created_at);
CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, device_id TEXT, topic TEXT NOT NULL,
  reason TEXT NOT NULL, raw TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS dead_letters_reason ON dead_letters(reason, id);
CREATE INDEX IF NOT EXISTS dead_letters_device ON dead_letters(device_id, id);
`;

export const initial: Migration = {
  version: 1,
  name: 'initial',
  up(db) {
    db.exec(REGISTRY + PEOPLE + ORDERS + OPERATIONS + ADVICE_AND_DEAD_LETTERS);
  },
};
