/**
 * ReadingStore on InfluxDB through the v1 HTTP API, the one API every major version serves:
 * 1.x natively, 2.x through its v1 compatibility endpoints (token, DBRP mapping), 3.x natively.
 * Line protocol is built by @influxdata/influxdb-client's Point (never escaped by hand);
 * reads are InfluxQL on /query. Schema: SCHEMA.md beside this file.
 */
import { Point } from '@influxdata/influxdb-client';
import { HOUR_MS, DAY_MS, systemClock, type Clock } from '../../domain/clock.ts';
import { ROOM_FIELDS } from '../../domain/telemetry.schema.ts';
import type { Reading } from '../../domain/reading.ts';
import type { DeviceKind } from '../../domain/topology.schema.ts';
import type { HistoryPoint, HistoryQuery, ReadingScope, ReadingStore } from './reading-store.ts';
import { chunks, hourSpan, lateBefore, mergePartials, normOffset, planHistory, sealedBefore, type Agg, type Partial, type Span } from './downsample.plan.ts';

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
  /**
   * Wall clock of the stitch rule (downsample.plan.ts): which hours the continuous queries
   * have sealed. Live it is the system clock, as influxd's CQ scheduler; tests drive it.
   */
  readonly clock?: Clock;
  /**
   * Read whole-hour windows from the hourly series (default true). Only in effect where the
   * continuous queries could be created (1.x): 2.x/3.x refuse CQs and SELECT … INTO, and
   * there every window reads raw points.
   */
  readonly downsampled?: boolean;
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

const quoteIdent = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const quoteStr = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Retention policy names: raw points and the downsampled (1 h) season series. */
export const RP_RAW = 'raw';
export const RP_SEASON = 'season';

/** Hourly downsampled measurement (in RP_SEASON) of each raw measurement. */
export const HOURLY: Readonly<Record<string, string>> = Object.freeze({ room: 'room_1h', station: 'station_1h' });
/**
 * Per field f the hourly series keep `sum_f`, `count_f`, `min_f`, `max_f`: sum and count make
 * the mean of any whole-hour window exact (not a mean of means).
 */
const HOURLY_AGGS = 'sum(*), count(*), min(*), max(*)';
/** Continuous queries (1.x). v2: sum/count/min/max of every field, last 2 h recomputed each run. */
const CQ_PREFIX = 'cq_';
const CQ_SUFFIX = '_1h_v2';
/**
 * Room series are also kept per scope (one series per apartment, building, station, office and
 * hour, summed over its rooms), so a building's season is ~3,000 points, not ~3,000 per room.
 * Derived from the per-device hourly series (not raw: cheap), finest level first.
 */
const SCOPE_LEVELS = [
  { key: 'apartmentId', tag: 'apartment', groupBy: ['apartment', 'building', 'station', 'office'] },
  { key: 'buildingId', tag: 'building', groupBy: ['building', 'station', 'office'] },
  { key: 'stationId', tag: 'station', groupBy: ['station', 'office'] },
  { key: 'officeId', tag: 'office', groupBy: ['office'] },
] as const satisfies readonly { key: keyof ReadingScope; tag: string; groupBy: readonly string[] }[];
type ScopeTag = (typeof SCOPE_LEVELS)[number]['tag'];
const scopeMeasurement = (tag: ScopeTag) => `room_1h_${tag}`;
/** sum of sums, sum of counts, min of mins, max of maxes, named as in the per-device series. */
const SCOPE_AGGS = ROOM_FIELDS.flatMap((f) => [
  `sum(${quoteIdent(`sum_${f}`)}) AS ${quoteIdent(`sum_${f}`)}`,
  `sum(${quoteIdent(`count_${f}`)}) AS ${quoteIdent(`count_${f}`)}`,
  `min(${quoteIdent(`min_${f}`)}) AS ${quoteIdent(`min_${f}`)}`,
  `max(${quoteIdent(`max_${f}`)}) AS ${quoteIdent(`max_${f}`)}`,
]).join(', ');
/** Per-scope series are sealed one hour after the per-device ones (see the CQs in migrate). */
const SCOPE_LAG_MS = HOUR_MS;
/** Do two per-field counts of one hour differ (a field counted in `want` missing or different in `got`)? */
const differs = (want: ReadonlyMap<string, number>, got: ReadonlyMap<string, number> | undefined, only?: readonly string[]) =>
  [...want].some(([f, n]) => (!only || only.includes(f)) && got?.get(f) !== n);
/** Location tags of a late reading, to recompute only its scopes. */
type Where = { [K in ScopeTag]?: string };
/** Before v2 the CQs wrote means only (temp, temp_min, …); they are dropped on migrate. */
const OLD_CQS = ['cq_room_1h', 'cq_station_1h'];
/** A dirty hour with more devices than this is recomputed for all devices (one query, no OR list). */
const DIRTY_DEVICES_PER_HOUR = 200;
/** Devices per recompute query (an OR list of device tags). */
const DEVICES_PER_QUERY = 100;
/** Time span of one SELECT … INTO: bounds the memory influxd needs for one statement. */
const INTO_SPAN_MS = DAY_MS;
/** The per-scope series read hourly points (24× fewer than raw at 10-min readings): a week per statement. */
const SCOPE_INTO_SPAN_MS = 7 * DAY_MS;

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


const TAG_ENTRIES = Object.entries(TAGS) as [keyof typeof TAGS, string][];
/** Timestamps are epoch ms already (written with precision=ms). */
const LINE_SETTINGS = { convertTime: (t: string | number | Date | undefined) => String(t) };

/** Line protocol of one reading, ms precision. Exported for the bench (same batches, raw /write). */
export function toLine(r: Reading): string | undefined {
  // Called per reading on the ingest's hot path: no per-call closures or entry arrays.
  const p = new Point(MEASUREMENT[r.kind]);
  for (const [key, tag] of TAG_ENTRIES) {
    const v = r[key];
    if (v) p.tag(tag, v);
  }
  for (const f in r.fields) p.floatField(f, r.fields[f]!);
  p.timestamp(r.ts);
  return p.toLineProtocol(LINE_SETTINGS);
}

export class InfluxStore implements ReadingStore {
  readonly #o: InfluxStoreOptions;
  readonly #headers: Record<string, string>;
  readonly #clock: Clock;
  /**
   * Hours made stale by late writes, per raw measurement: hour start → devices written
   * ('all' past DIRTY_DEVICES_PER_HOUR). In memory: a crash loses it (SCHEMA.md, late data).
   */
  readonly #dirty = new Map<string, Map<number, Map<string, Where> | 'all'>>();
  /** Recomputes run one at a time; a history() read waits for the one that covers it. */
  #flushing: Promise<unknown> = Promise.resolve();
  /** True once the CQs exist (migrate): only then are sealed hours in the hourly series. */
  #hourly = false;

  private constructor(o: InfluxStoreOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
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
      // RESAMPLE FOR 2h: each hourly run also recomputes the hour before, which catches
      // readings that arrive a little late; older late data is re-downsampled by the store
      // (flushDownsampled / backfillDownsampled).
      for (const old of OLD_CQS) await this.query(`DROP CONTINUOUS QUERY ${old} ON ${db}`, { db: false }).catch(() => undefined);
      for (const [m, hourly] of Object.entries(HOURLY)) {
        const select = `SELECT ${HOURLY_AGGS} INTO ${db}.${RP_SEASON}.${hourly} FROM ${db}.${RP_RAW}.${m} GROUP BY time(1h), *`;
        await this.query(`CREATE CONTINUOUS QUERY ${CQ_PREFIX}${m}${CQ_SUFFIX} ON ${db} RESAMPLE FOR 2h BEGIN ${select} END`, { db: false }).catch((e: unknown) => {
          // "continuous query already exists" is fine.
          if (!String(e).includes('already exists')) throw e;
        });
      }
      // Per-scope series from the per-device ones. FOR 3h: the per-device hour h is final
      // after the device CQ's run at h+2h, which may run at the same moment as this one, so the
      // run at h+3h is the one that sees it final (hence one hour less sealed, SCOPE_LAG_MS).
      for (const lv of SCOPE_LEVELS) {
        const select = `SELECT ${SCOPE_AGGS} INTO ${db}.${RP_SEASON}.${scopeMeasurement(lv.tag)} FROM ${db}.${RP_SEASON}.${HOURLY.room} GROUP BY time(1h), ${lv.groupBy.join(', ')}`;
        await this.query(`CREATE CONTINUOUS QUERY ${CQ_PREFIX}room_1h_${lv.tag}_v2 ON ${db} RESAMPLE FOR 3h BEGIN ${select} END`, { db: false }).catch((e: unknown) => {
          if (!String(e).includes('already exists')) throw e;
        });
      }
      this.#hourly = this.#o.downsampled ?? true;
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
    this.#markLate(readings);
  }

  /**
   * Record hours that the continuous queries will not (re)compute: older than the hour before
   * the current one (RESAMPLE FOR 2h covers that one and the current one). Only after the raw
   * write succeeded: a failed write is retried by the caller, and marks again.
   */
  #markLate(readings: readonly Reading[]): void {
    if (!this.#hourly) return;
    const limit = lateBefore(this.#clock.now());
    for (const r of readings) {
      const hour = Math.floor(r.ts / HOUR_MS) * HOUR_MS;
      if (hour >= limit) continue;
      const m = MEASUREMENT[r.kind];
      if (!HOURLY[m]) continue;
      this.#mark(m, hour, r.deviceId, { apartment: r.apartmentId, building: r.buildingId, station: r.stationId, office: r.officeId });
    }
  }

  #mark(m: string, hour: number, device: string | 'all', where: Where = {}): void {
    let hours = this.#dirty.get(m);
    if (!hours) this.#dirty.set(m, (hours = new Map()));
    const cur = hours.get(hour);
    if (cur === 'all') return;
    if (device === 'all') {
      hours.set(hour, 'all');
      return;
    }
    const devs = cur ?? new Map<string, Where>();
    devs.set(device, where);
    hours.set(hour, devs.size > DIRTY_DEVICES_PER_HOUR ? 'all' : devs);
  }

  /** Take the dirty hours of [from, to) out of the map (they are put back if recomputing fails). */
  #takeDirty(from: number, to: number): Map<string, Map<number, Map<string, Where> | 'all'>> {
    const taken = new Map<string, Map<number, Map<string, Where> | 'all'>>();
    for (const [m, hours] of this.#dirty) {
      for (const [hour, devs] of hours) {
        if (hour < from || hour >= to) continue;
        hours.delete(hour);
        let t = taken.get(m);
        if (!t) taken.set(m, (t = new Map()));
        t.set(hour, devs);
      }
    }
    return taken;
  }

  /** SELECT … INTO the hourly series for a span (hour-aligned), optionally only some devices. */
  async #rollup(m: string, span: Span, devices?: readonly string[]): Promise<number> {
    const db = quoteIdent(this.#o.db);
    let written = 0;
    for (const c of chunks(span, INTO_SPAN_MS)) {
      const where = [`time >= ${c.from}ms`, `time < ${c.to}ms`];
      if (devices?.length) where.push(`(${devices.map((d) => `${quoteIdent(TAGS.deviceId)} = ${quoteStr(d)}`).join(' OR ')})`);
      const j = await this.query(
        `SELECT ${HOURLY_AGGS} INTO ${db}.${RP_SEASON}.${quoteIdent(HOURLY[m]!)} FROM ${db}.${RP_RAW}.${quoteIdent(m)} WHERE ${where.join(' AND ')} GROUP BY time(1h), *`,
      );
      const n = j.results?.[0]?.series?.[0]?.values[0]?.[1];
      if (typeof n === 'number') written += n;
    }
    return written;
  }

  /**
   * Per-scope series of a span from the per-device series: every scope, or only the given
   * scope values (the locations of late readings).
   */
  async #rollupScopes(span: Span, only?: ReadonlyMap<ScopeTag, ReadonlySet<string>>): Promise<void> {
    const db = quoteIdent(this.#o.db);
    for (const lv of SCOPE_LEVELS) {
      const values = only ? [...(only.get(lv.tag) ?? [])] : [undefined];
      for (let i = 0; i < values.length; i += DEVICES_PER_QUERY) {
        const vs = values.slice(i, i + DEVICES_PER_QUERY).filter((v): v is string => v !== undefined);
        for (const c of chunks(span, SCOPE_INTO_SPAN_MS)) {
          const where = [`time >= ${c.from}ms`, `time < ${c.to}ms`];
          if (vs.length) where.push(`(${vs.map((v) => `${quoteIdent(lv.tag)} = ${quoteStr(v)}`).join(' OR ')})`);
          await this.query(
            `SELECT ${SCOPE_AGGS} INTO ${db}.${RP_SEASON}.${quoteIdent(scopeMeasurement(lv.tag))} FROM ${db}.${RP_SEASON}.${quoteIdent(HOURLY.room!)} WHERE ${where.join(' AND ')} GROUP BY time(1h), ${lv.groupBy.map(quoteIdent).join(', ')}`,
          );
        }
      }
    }
  }

  /** Recompute the dirty hours of [from, to): whole hours, or per device over its dirty span. */
  async #recompute(from: number, to: number): Promise<number> {
    const taken = this.#takeDirty(from, to);
    let done = 0;
    try {
      for (const [m, hours] of taken) {
        // Whole hours, contiguous runs in one statement each.
        const all = [...hours].filter(([, d]) => d === 'all').map(([h]) => h).sort((a, b) => a - b);
        for (let i = 0; i < all.length; ) {
          let j = i;
          while (j + 1 < all.length && all[j + 1] === all[j]! + HOUR_MS) j++;
          await this.#rollup(m, { from: all[i]!, to: all[j]! + HOUR_MS });
          if (m === 'room') await this.#rollupScopes({ from: all[i]!, to: all[j]! + HOUR_MS });
          done += j - i + 1;
          i = j + 1;
        }
        // Per device: its dirty span, devices with the same (day-widened) span in one statement.
        const span = new Map<string, { from: number; to: number; where: Where[] }>();
        for (const [hour, devs] of hours) {
          if (devs === 'all') continue;
          for (const [d, where] of devs) {
            const s = span.get(d);
            if (s) {
              s.from = Math.min(s.from, hour);
              s.to = Math.max(s.to, hour + HOUR_MS);
              s.where.push(where);
            } else span.set(d, { from: hour, to: hour + HOUR_MS, where: [where] });
            done++;
          }
        }
        const groups = new Map<string, { span: Span; devices: string[]; scopes: Map<ScopeTag, Set<string>> }>();
        for (const [d, s] of span) {
          const key = `${Math.floor(s.from / DAY_MS)}:${Math.ceil(s.to / DAY_MS)}`;
          let g = groups.get(key);
          if (g) g.span = { from: Math.min(g.span.from, s.from), to: Math.max(g.span.to, s.to) };
          else groups.set(key, (g = { span: { from: s.from, to: s.to }, devices: [], scopes: new Map() }));
          g.devices.push(d);
          for (const w of s.where) {
            for (const lv of SCOPE_LEVELS) {
              const v = w[lv.tag];
              if (v === undefined) continue;
              let set = g.scopes.get(lv.tag);
              if (!set) g.scopes.set(lv.tag, (set = new Set()));
              set.add(v);
            }
          }
        }
        for (const g of groups.values()) {
          for (let i = 0; i < g.devices.length; i += DEVICES_PER_QUERY) await this.#rollup(m, g.span, g.devices.slice(i, i + DEVICES_PER_QUERY));
          if (m === 'room') await this.#rollupScopes(g.span, g.scopes);
        }
      }
    } catch (e) {
      // Put everything back: recomputing is idempotent, the next flush or read retries it.
      for (const [m, hours] of taken) {
        for (const [hour, devs] of hours) {
          if (devs === 'all') this.#mark(m, hour, 'all');
          else for (const [d, where] of devs) this.#mark(m, hour, d, where);
        }
      }
      throw e;
    }
    return done;
  }

  /** Queue a recompute after the running one, so a reader waits for the hours it needs. */
  #queue(from: number, to: number): Promise<number> {
    const p = this.#flushing.then(() => this.#recompute(from, to));
    this.#flushing = p.catch(() => undefined);
    return p;
  }

  /** ReadingStore.flushDownsampled: recompute every dirty hour the stitch rule reads downsampled. */
  flushDownsampled(): Promise<number> {
    if (!this.#hourly) return Promise.resolve(0);
    return this.#queue(Number.MIN_SAFE_INTEGER, lateBefore(this.#clock.now()));
  }

  /**
   * ReadingStore.backfillDownsampled: recompute [from, to) (whole hours) for every device, as
   * the continuous queries would have: after an import that bypassed `write()` (e.g. line
   * protocol posted straight to /write), a restore, a crash that lost dirty hours, or an upgrade
   * from the v1 hourly series.
   */
  async backfillDownsampled(from: number, to: number): Promise<number> {
    const span = hourSpan(from, to);
    await this.#flushing;
    this.#takeDirty(span.from, span.to);
    let written = 0;
    for (const m of Object.keys(HOURLY)) written += await this.#rollup(m, span);
    await this.#rollupScopes(span);
    return written;
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

  /** ReadingStore.reconcileDownsampled: per sealed hour, raw count per field vs the hourly series' counts. */
  async reconcileDownsampled(from: number, to: number): Promise<number> {
    if (!this.#hourly) return 0;
    const span = hourSpan(from, to);
    const now = this.#clock.now();
    const end = Math.min(span.to, sealedBefore(now));
    const scopeEnd = Math.min(span.to, sealedBefore(now - SCOPE_LAG_MS));
    let stale = 0;
    for (const c of chunks({ from: span.from, to: end }, 7 * DAY_MS)) {
      const range = `WHERE time >= ${c.from}ms AND time < ${c.to}ms GROUP BY time(1h) fill(none)`;
      for (const [m, hourly] of Object.entries(HOURLY)) {
        const [raw, dev] = await Promise.all([
          this.#countsPerHour(`SELECT count(*) FROM ${RP_RAW}.${quoteIdent(m)} ${range}`, 'count_'),
          this.#countsPerHour(`SELECT sum(/^count_/) FROM ${RP_SEASON}.${quoteIdent(hourly)} ${range}`, 'sum_count_'),
        ]);
        const bad = new Set<number>();
        for (const [hour, want] of raw) if (differs(want, dev.get(hour))) bad.add(hour);
        // Per-scope series: each level's total per hour equals the per-device total.
        if (m === 'room') {
          for (const lv of SCOPE_LEVELS) {
            const got = await this.#countsPerHour(`SELECT sum(/^count_/) FROM ${RP_SEASON}.${quoteIdent(scopeMeasurement(lv.tag))} ${range}`, 'sum_count_');
            for (const [hour, want] of raw) if (hour < scopeEnd && differs(want, got.get(hour), ROOM_FIELDS)) bad.add(hour);
          }
        }
        for (const hour of bad) this.#mark(m, hour, 'all');
        stale += bad.size;
      }
    }
    if (stale) await this.#queue(span.from, end);
    return stale;
  }

  /** Rows of a GROUP BY time(1h) count query as hour → field → count (column prefix removed). */
  async #countsPerHour(select: string, prefix: string): Promise<Map<number, Map<string, number>>> {
    const j = await this.query(select);
    const out = new Map<number, Map<string, number>>();
    const s = j.results?.[0]?.series?.[0];
    for (const row of s?.values ?? []) {
      const fields = new Map<string, number>();
      s!.columns.forEach((col, i) => {
        const v = row[i];
        if (i > 0 && col.startsWith(prefix) && typeof v === 'number' && v !== 0) fields.set(col.slice(prefix.length), v);
      });
      out.set(row[0] as number, fields);
    }
    return out;
  }

  /**
   * Windows of whole hours read the hourly series for sealed hours and raw points for the
   * rest (downsample.plan.ts); other windows read raw points only. Same result either way.
   */
  async history(q: HistoryQuery): Promise<HistoryPoint[]> {
    const m = q.kind ? MEASUREMENT[q.kind] : (ROOM_FIELDS as readonly string[]).includes(q.field) ? 'room' : 'station';
    const agg: Agg = q.agg ?? 'mean';
    const from = Math.floor(q.from);
    const to = Math.floor(q.to);
    const win = Math.max(1, Math.round(q.windowMs));
    const off = normOffset(Math.round(q.offsetMs ?? 0), win);
    const groupBy = `GROUP BY time(${win}ms${off ? `, ${off}ms` : ''}) fill(none)`;
    // A room scope of apartment and wider reads that scope's own series (its finest level
    // given); a device or room reads the per-device series.
    const perScope = m === 'room' && q.deviceId === undefined && q.roomId === undefined && (ROOM_FIELDS as readonly string[]).includes(q.field);
    const level = perScope ? SCOPE_LEVELS.find((lv) => q[lv.key] !== undefined) : undefined;
    const sealedNow = this.#clock.now() - (level ? SCOPE_LAG_MS : 0);
    const plan = this.#hourly && HOURLY[m] ? planHistory(from, to, win, sealedNow, off) : { raw: [{ from, to }] };
    if (!plan.hourly) {
      const where = this.#where(q, [`time >= ${from}ms`, `time < ${to}ms`]);
      const j = await this.query(`SELECT ${agg}(${quoteIdent(q.field)}) FROM ${RP_RAW}.${quoteIdent(m)}${where} ${groupBy}`);
      const s = j.results?.[0]?.series?.[0];
      return (s?.values ?? []).map((v) => ({ ts: v[0] as number, value: typeof v[1] === 'number' ? v[1] : null }));
    }
    const hourly = plan.hourly;
    await this.#queue(hourly.from, hourly.to);
    const f = quoteIdent(q.field);
    const hf = (a: string) => quoteIdent(`${a}_${q.field}`);
    const rawSel = agg === 'mean' ? `sum(${f}), count(${f})` : `${agg}(${f})`;
    const hourlySel = agg === 'mean' ? `sum(${hf('sum')}), sum(${hf('count')})` : `${agg}(${hf(agg)})`;
    const parts = await Promise.all([
      ...plan.raw.map((p) => this.#partials(agg, `SELECT ${rawSel} FROM ${RP_RAW}.${quoteIdent(m)}${this.#where(q, [`time >= ${p.from}ms`, `time < ${p.to}ms`])} ${groupBy}`)),
      this.#partials(agg, `SELECT ${hourlySel} FROM ${RP_SEASON}.${quoteIdent(level ? scopeMeasurement(level.tag) : HOURLY[m]!)}${this.#where(q, [`time >= ${hourly.from}ms`, `time < ${hourly.to}ms`])} ${groupBy}`),
    ]);
    return mergePartials(agg, parts.flat());
  }

  async #partials(agg: Agg, select: string): Promise<Partial[]> {
    const j = await this.query(select);
    const vals = j.results?.[0]?.series?.[0]?.values ?? [];
    const num = (v: unknown) => (typeof v === 'number' ? v : null);
    return vals.map((v) => (agg === 'mean' ? { ts: v[0] as number, sum: num(v[1]), count: num(v[2]) } : { ts: v[0] as number, [agg]: num(v[1]) }));
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
