/**
 * readings.db version 2: hourly aggregates per device and field (`rollup_1h`: n, sum, min,
 * max) for season-long views, and the (hour, device) pairs whose aggregate is stale
 * (`rollup_dirty`), as embedded.store.ts added them before migrations existed. A file from
 * before the rollup (readings but no rollup_1h) gets every stored hour marked stale, so the
 * first read or flush recomputes it from raw; a file that already has the rollup keeps it.
 */
import { HOUR_MS } from '../../../../domain/clock.ts';
import type { Migration } from '../migrate.ts';

export const hourlyRollup: Migration = {
  version: 2,
  name: 'hourly_rollup',
  up(db) {
    const hadRollup = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'rollup_1h'").get() !== undefined;
    db.exec(`
CREATE TABLE IF NOT EXISTS rollup_1h (
  device_id TEXT NOT NULL, field TEXT NOT NULL, hour INTEGER NOT NULL, kind TEXT NOT NULL,
  room_id TEXT, apartment_id TEXT, building_id TEXT, station_id TEXT, office_id TEXT,
  n INTEGER NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
  PRIMARY KEY (device_id, hour, field)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rollup_room ON rollup_1h(room_id, field, hour) WHERE room_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS rollup_apartment ON rollup_1h(apartment_id, field, hour) WHERE apartment_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS rollup_building ON rollup_1h(building_id, field, hour) WHERE building_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS rollup_station ON rollup_1h(station_id, field, hour) WHERE station_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS rollup_dirty (hour INTEGER NOT NULL, device_id TEXT NOT NULL, PRIMARY KEY (hour, device_id)) WITHOUT ROWID;
`);
    if (!hadRollup)
      db.exec(`INSERT OR IGNORE INTO rollup_dirty (hour, device_id) SELECT DISTINCT ts - (ts % ${HOUR_MS}), device_id FROM readings`);
  },
};
