/**
 * readings.db version 1: the embedded reading store's raw readings (primary key device + time,
 * so a redelivery overwrites itself) and the newest reading per device, as
 * storage/readings/embedded.store.ts created them before migrations existed. `IF NOT EXISTS`
 * so that a file written by that code is adopted with its rows.
 */
import type { Migration } from '../migrate.ts';

export const initial: Migration = {
  version: 1,
  name: 'initial',
  up(db) {
    db.exec(`
CREATE TABLE IF NOT EXISTS readings (
  device_id TEXT NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL,
  room_id TEXT, apartment_id TEXT, building_id TEXT, station_id TEXT, office_id TEXT,
  fields TEXT NOT NULL,
  PRIMARY KEY (device_id, ts)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_room ON readings(room_id, ts) WHERE room_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS readings_apartment ON readings(apartment_id, ts) WHERE apartment_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS readings_building ON readings(building_id, ts) WHERE building_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS readings_station ON readings(station_id, ts) WHERE station_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS latest (
  device_id TEXT PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL,
  room_id TEXT, apartment_id TEXT, building_id TEXT, station_id TEXT, office_id TEXT,
  fields TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS latest_apartment ON latest(apartment_id);
CREATE INDEX IF NOT EXISTS latest_building ON latest(building_id);
CREATE INDEX IF NOT EXISTS latest_station ON latest(station_id);
`);
  },
};
