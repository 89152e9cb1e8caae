/**
 * Weather forecasts stored beside the observations (issue #20): in InfluxDB as the
 * `forecast` measurement of the raw retention policy (tags city, station — "" for the whole
 * city — and issued; fields outdoorTemp, spreadC; time = the forecast hour), in the embedded
 * store as a `forecasts` table of the same readings.db. A forecast with the same city, station
 * and issue time overwrites itself (a re-sent forecast is harmless, like a redelivered reading).
 */
import type Database from 'better-sqlite3';
import { Point } from '@influxdata/influxdb-client';
import type { WeatherForecast } from '../../domain/forecast/weather.schema.ts';
import { READINGS_DB } from '../records/migrations/index.ts';
import { openSqliteFile } from '../records/sqlite.file.ts';
import { quoteStr } from './influx.http.ts';
import { InfluxStore, RP_RAW } from './influx.store.ts';
import type { ReadingStore } from './reading-store.ts';

export interface ForecastStore {
  put(f: WeatherForecast): Promise<void>;
  /** The newest forecast of the city, or of one station (undefined: none stored). */
  latest(city: string, stationId?: string): Promise<WeatherForecast | undefined>;
  close(): Promise<void>;
}

export const FORECAST_MEASUREMENT = 'forecast';
const LINE_SETTINGS = { convertTime: (t: string | number | Date | undefined) => String(t) };

export class InfluxForecastStore implements ForecastStore {
  constructor(private readonly influx: InfluxStore) {}

  async put(f: WeatherForecast): Promise<void> {
    const lines = f.hours.map((h) => {
      const p = new Point(FORECAST_MEASUREMENT)
        .tag('city', f.city)
        .tag('issued', String(f.issuedAt))
        .floatField('outdoorTemp', h.outdoorTemp)
        .timestamp(h.ts);
      if (f.stationId) p.tag('station', f.stationId);
      if (f.source) p.tag('source', f.source);
      if (h.spreadC !== undefined) p.floatField('spreadC', h.spreadC);
      return p.toLineProtocol(LINE_SETTINGS);
    });
    await this.influx.writeLines(lines.join('\n'));
  }

  async latest(city: string, stationId?: string): Promise<WeatherForecast | undefined> {
    const where = `"city" = ${quoteStr(city)} AND "station" = ${quoteStr(stationId ?? '')}`;
    const tags = await this.influx.query(`SHOW TAG VALUES FROM ${RP_RAW}.${FORECAST_MEASUREMENT} WITH KEY = "issued" WHERE ${where}`);
    const issued = (tags.results?.[0]?.series?.[0]?.values ?? []).map((v) => Number(v[1])).filter(Number.isFinite);
    if (issued.length === 0) return undefined;
    const issuedAt = Math.max(...issued);
    const j = await this.influx.query(
      `SELECT "outdoorTemp", "spreadC", "source" FROM ${RP_RAW}.${FORECAST_MEASUREMENT} WHERE ${where} AND "issued" = ${quoteStr(String(issuedAt))} ORDER BY time ASC`,
    );
    const s = j.results?.[0]?.series?.[0];
    if (!s) return undefined;
    const col = (name: string) => s.columns.indexOf(name);
    const source = s.values.map((v) => v[col('source')]).find((x): x is string => typeof x === 'string');
    return {
      city,
      ...(stationId ? { stationId } : {}),
      issuedAt,
      ...(source ? { source } : {}),
      hours: s.values.map((v) => {
        const spread = v[col('spreadC')];
        // The HTTP client asks for epoch=ms (influx.http.ts): time is a number, not an RFC 3339 string.
        const t = v[col('time')];
        return {
          ts: typeof t === 'number' ? t : Date.parse(String(t)),
          outdoorTemp: Number(v[col('outdoorTemp')]),
          ...(typeof spread === 'number' ? { spreadC: spread } : {}),
        };
      }),
    };
  }

  async close(): Promise<void> {
    // The reading store owns the HTTP client.
  }
}

export class EmbeddedForecastStore implements ForecastStore {
  readonly #db: Database.Database;

  constructor(dataDir: string) {
    // Its own connection to readings.db (WAL): the reading store's connection stays untouched.
    this.#db = openSqliteFile(dataDir, READINGS_DB);
  }

  put(f: WeatherForecast): Promise<void> {
    const ins = this.#db.prepare(
      'INSERT OR REPLACE INTO forecasts (city, station, issued, source, ts, outdoor, spread) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#db.transaction(() => {
      for (const h of f.hours) ins.run(f.city, f.stationId ?? '', f.issuedAt, f.source ?? null, h.ts, h.outdoorTemp, h.spreadC ?? null);
    })();
    return Promise.resolve();
  }

  latest(city: string, stationId?: string): Promise<WeatherForecast | undefined> {
    const station = stationId ?? '';
    const top = this.#db.prepare('SELECT MAX(issued) AS issued FROM forecasts WHERE city = ? AND station = ?').get(city, station) as {
      issued: number | null;
    };
    if (top.issued === null) return Promise.resolve(undefined);
    const rows = this.#db
      .prepare('SELECT ts, outdoor, spread, source FROM forecasts WHERE city = ? AND station = ? AND issued = ? ORDER BY ts')
      .all(city, station, top.issued) as {
      ts: number;
      outdoor: number;
      spread: number | null;
      source: string | null;
    }[];
    const source = rows.find((r) => r.source)?.source;
    return Promise.resolve({
      city,
      ...(stationId ? { stationId } : {}),
      issuedAt: top.issued,
      ...(source ? { source } : {}),
      hours: rows.map((r) => ({ ts: r.ts, outdoorTemp: r.outdoor, ...(r.spread !== null ? { spreadC: r.spread } : {}) })),
    });
  }

  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }
}

/** The forecast store that sits beside a reading store: InfluxDB beside InfluxDB, else the embedded file. */
export function forecastStoreBeside(store: ReadingStore, dataDir: string): ForecastStore {
  return store instanceof InfluxStore ? new InfluxForecastStore(store) : new EmbeddedForecastStore(dataDir);
}
