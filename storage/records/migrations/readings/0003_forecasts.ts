/**
 * readings.db version 3: weather forecasts beside the observations (issue #20,
 * storage/readings/forecast.store.ts), one row per city, station ("" for the whole city), issue
 * time and forecast hour, so a re-sent forecast overwrites itself. `IF NOT EXISTS`: the
 * forecast store created it before migrations existed.
 */
import type { Migration } from '../migrate.ts';

export const forecasts: Migration = {
  version: 3,
  name: 'forecasts',
  up(db) {
    db.exec(`CREATE TABLE IF NOT EXISTS forecasts (
      city TEXT NOT NULL, station TEXT NOT NULL, issued INTEGER NOT NULL, source TEXT,
      ts INTEGER NOT NULL, outdoor REAL NOT NULL, spread REAL,
      PRIMARY KEY (city, station, issued, ts)) WITHOUT ROWID`);
  },
};
