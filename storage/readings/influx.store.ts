/**
 * ReadingStore on InfluxDB through the v1 HTTP API, the one API every major version serves:
 * 1.x natively, 2.x through its v1 compatibility endpoints (token, DBRP mapping), 3.x natively.
 * Line protocol is built by @influxdata/influxdb-client's Point (never escaped by hand);
 * reads are InfluxQL on /query. Schema: SCHEMA.md beside this file.
 */
import { Point } from '@influxdata/influxdb-client';
import { ROOM_FIELDS } from '../../domain/telemetry.schema.ts';
import type { Reading } from '../../domain/reading.ts';
import type { DeviceKind } from '../../domain/topology.schema.ts';
import type { HistoryPoint, HistoryQuery, ReadingScope, ReadingStore } from './reading-store.ts';

export interface InfluxStoreOptions {
  readonly url: string;
  readonly db: string;
  readonly token?: string;
  readonly user?: string;
  readonly password?: string;
  /** Raw retention, e.g. "400d" or "INF"; the downsampled RP keeps data for ever. */
  readonly rawRetention?: string;
  /** Per-request timeout, ms. */
  readonly timeoutMs?: number;
}

/** Measurement per device kind; gateways carry no readings of their own. */
export const MEASUREMENT: Readonly<Record<DeviceKind, string>> = Object.freeze({
  room_sensor: 'room',
  station_meter: 'station',
  gateway: 'gateway',
});
const KIND_OF_MEASUREMENT: Readonly<Record<string, DeviceKind>> = { room: 'room_sensor', station: 'station_meter', gateway: 'gateway' };

/** Tag names (SCHEMA.md). `office` is the 供热所 (district heating office). */
export const TAGS = {
  deviceId: 'device',
  roomId: 'room',
  apartmentId: 'apartment',
  buildingId: 'building',
  stationId: 'station',
  officeId: 'office',
} as const satisfies Record<keyof Omit<ReadingScope, 'kind'>, string>;

/** Retention policy names: raw points and the downsampled (1 h) season series. */
export const RP_RAW = 'raw';
export const RP_SEASON = 'season';

export class InfluxHttpError extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`influx ${status}: ${body.slice(0, 300)}`);
    this.name = 'InfluxHttpError';
  }
  /** 4xx other than 408/429 means the request itself is wrong; retrying will not help. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

interface QueryResult {
  results?: {
    error?: string;
    series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
  }[];
  error?: string;
}

const quoteIdent = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const quoteStr = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Line protocol of one reading, ms precision. Exported for the bench (same batches, raw /write). */
export function toLine(r: Reading): string | undefined {
  const p = new Point(MEASUREMENT[r.kind]);
  for (const [key, tag] of Object.entries(TAGS) as [keyof typeof TAGS, string][]) {
    const v = r[key];
    if (v) p.tag(tag, v);
  }
  for (const [f, v] of Object.entries(r.fields)) p.floatField(f, v);
  p.timestamp(r.ts);
  return p.toLineProtocol({ convertTime: (t) => String(t) });
}

export class InfluxStore implements ReadingStore {
  readonly #o: InfluxStoreOptions;
  readonly #headers: Record<string, string>;

  private constructor(o: InfluxStoreOptions) {
    this.#o = o;
    this.#headers = {};
    if (o.token) this.#headers.authorization = `Token ${o.token}`;
  }

  /** Connect, and on first start create the database, retention policies and continuous queries. */
  static async open(o: InfluxStoreOptions): Promise<InfluxStore> {
    const s = new InfluxStore(o);
    await s.migrate();
    return s;
  }

  #url(path: string, params: Record<string, string>): URL {
    const u = new URL(`${this.#o.url}${path}`);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    if (!this.#o.token && this.#o.user) {
      u.searchParams.set('u', this.#o.user);
      u.searchParams.set('p', this.#o.password ?? '');
    }
    return u;
  }

  /** POST /write with a body of line protocol (ms precision). Throws InfluxHttpError on non-2xx. */
  async writeLines(body: string): Promise<void> {
    const r = await fetch(this.#url('/write', { db: this.#o.db, rp: RP_RAW, precision: 'ms' }), {
      method: 'POST',
      headers: { ...this.#headers, 'content-type': 'text/plain; charset=utf-8' },
      body,
      signal: AbortSignal.timeout(this.#o.timeoutMs ?? 30_000),
    });
    if (r.status !== 204 && r.status !== 200) throw new InfluxHttpError(r.status, await r.text());
    await r.arrayBuffer();
  }

  async query(q: string, opts: { db?: boolean } = {}): Promise<QueryResult> {
    const params: Record<string, string> = { epoch: 'ms' };
    if (opts.db !== false) params.db = this.#o.db;
    const r = await fetch(this.#url('/query', params), {
      method: 'POST',
      headers: { ...this.#headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ q }).toString(),
      signal: AbortSignal.timeout(this.#o.timeoutMs ?? 30_000),
    });
    const text = await r.text();
    if (!r.ok) throw new InfluxHttpError(r.status, text);
    const j = JSON.parse(text) as QueryResult;
    const err = j.error ?? j.results?.find((x) => x.error)?.error;
    if (err) throw new InfluxHttpError(400, err);
    return j;
  }

  async migrate(): Promise<void> {
    const db = quoteIdent(this.#o.db);
    // 1.x: CREATE DATABASE/RP are idempotent. 2.x/3.x reject them (buckets and DBRP mappings
    // are made by the operator there), so a failure here is not fatal: writes will tell.
    try {
      await this.query(`CREATE DATABASE ${db}`, { db: false });
      await this.query(
        `CREATE RETENTION POLICY ${RP_RAW} ON ${db} DURATION ${this.#o.rawRetention ?? 'INF'} REPLICATION 1 DEFAULT`,
        { db: false },
      ).catch(async () => {
        await this.query(`ALTER RETENTION POLICY ${RP_RAW} ON ${db} DURATION ${this.#o.rawRetention ?? 'INF'} DEFAULT`, { db: false });
      });
      await this.query(`CREATE RETENTION POLICY ${RP_SEASON} ON ${db} DURATION INF REPLICATION 1`, { db: false }).catch(() => undefined);
      // Downsampled hourly series for season-long views (SCHEMA.md). GROUP BY * keeps every tag.
      const cqs: [string, string][] = [
        ['cq_room_1h', `SELECT mean(temp) AS temp, min(temp) AS temp_min, max(temp) AS temp_max, mean(rh) AS rh, mean(bat) AS bat INTO ${db}.${RP_SEASON}.room_1h FROM ${db}.${RP_RAW}.room GROUP BY time(1h), *`],
        ['cq_station_1h', `SELECT mean(*) INTO ${db}.${RP_SEASON}.station_1h FROM ${db}.${RP_RAW}.station GROUP BY time(1h), *`],
      ];
      for (const [name, select] of cqs) {
        await this.query(`CREATE CONTINUOUS QUERY ${name} ON ${db} BEGIN ${select} END`, { db: false }).catch((e: unknown) => {
          // "continuous query already exists" is fine.
          if (!String(e).includes('already exists')) throw e;
        });
      }
    } catch (e) {
      if (e instanceof InfluxHttpError && e.status < 500) return;
      throw e;
    }
  }

  async write(readings: readonly Reading[]): Promise<void> {
    if (readings.length === 0) return;
    const lines: string[] = [];
    for (const r of readings) {
      const l = toLine(r);
      if (l) lines.push(l);
    }
    if (lines.length) await this.writeLines(lines.join('\n'));
  }

  #where(scope: ReadingScope, extra: string[] = []): string {
    const parts = [...extra];
    for (const [key, tag] of Object.entries(TAGS) as [keyof typeof TAGS, string][]) {
      const v = scope[key];
      if (v !== undefined) parts.push(`${quoteIdent(tag)} = ${quoteStr(v)}`);
    }
    return parts.length ? ` WHERE ${parts.join(' AND ')}` : '';
  }

  #measurements(scope: ReadingScope): string[] {
    if (scope.kind) return [MEASUREMENT[scope.kind]];
    // A room/apartment/building scope only has room sensors; the station tag spans both.
    if (scope.roomId || scope.apartmentId || scope.buildingId) return ['room'];
    return ['room', 'station'];
  }

  async latest(scope: ReadingScope): Promise<Reading[]> {
    const out: Reading[] = [];
    for (const m of this.#measurements(scope)) {
      const j = await this.query(`SELECT * FROM ${RP_RAW}.${quoteIdent(m)}${this.#where(scope)} GROUP BY * ORDER BY time DESC LIMIT 1`);
      for (const s of j.results?.[0]?.series ?? []) {
        const row = s.values[0];
        if (!row) continue;
        const fields: Record<string, number> = {};
        let ts = 0;
        s.columns.forEach((c, i) => {
          const v = row[i];
          if (c === 'time') ts = v as number;
          else if (typeof v === 'number') fields[c] = v;
        });
        const tags = s.tags ?? {};
        const r: Record<string, unknown> = { deviceId: tags.device ?? '', kind: KIND_OF_MEASUREMENT[m], ts, fields };
        for (const [key, tag] of Object.entries(TAGS)) if (tags[tag]) r[key] = tags[tag];
        out.push(r as unknown as Reading);
      }
    }
    return out.sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
  }

  async history(q: HistoryQuery): Promise<HistoryPoint[]> {
    const m = q.kind ? MEASUREMENT[q.kind] : (ROOM_FIELDS as readonly string[]).includes(q.field) ? 'room' : 'station';
    const agg = q.agg ?? 'mean';
    const where = this.#where(q, [`time >= ${Math.floor(q.from)}ms`, `time < ${Math.floor(q.to)}ms`]);
    const j = await this.query(
      `SELECT ${agg}(${quoteIdent(q.field)}) FROM ${RP_RAW}.${quoteIdent(m)}${where} GROUP BY time(${Math.max(1, Math.round(q.windowMs))}ms) fill(none)`,
    );
    const s = j.results?.[0]?.series?.[0];
    return (s?.values ?? []).map((v) => ({ ts: v[0] as number, value: typeof v[1] === 'number' ? v[1] : null }));
  }

  async count(scope: ReadingScope = {}): Promise<number> {
    let n = 0;
    for (const m of this.#measurements(scope)) {
      // COUNT(*) gives one count per field; a point has at least one field, so the largest is
      // the point count when one field is in every point (room: temp is required).
      const j = await this.query(`SELECT COUNT(*) FROM ${RP_RAW}.${quoteIdent(m)}${this.#where(scope)}`);
      const row = j.results?.[0]?.series?.[0]?.values[0];
      if (row) n += Math.max(0, ...row.slice(1).map((v) => (typeof v === 'number' ? v : 0)));
    }
    return n;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
