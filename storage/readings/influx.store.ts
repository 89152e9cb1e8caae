/**
 * ReadingStore on InfluxDB through the v1 HTTP API, the one API every major version serves:
 * 1.x natively, 2.x through its v1 compatibility endpoints (token, DBRP mapping), 3.x natively.
 * Composes the HTTP client (influx.http.ts), the schema (influx.schema.ts) and the store's own
 * downsampling (influx.rollup.ts), and owns the reads. Schema: SCHEMA.md beside this file.
 */
import { systemClock, type Clock } from '../../domain/clock.ts';
import { ROOM_FIELDS } from '../../domain/telemetry.schema.ts';
import type { Reading } from '../../domain/reading.ts';
import type { HistoryPoint, HistoryQuery, ReadingScope, ReadingStore } from './reading-store.ts';
import { mergePartials, normOffset, planHistory, type Agg, type Partial } from './downsample.plan.ts';
import { InfluxHttp, quoteIdent, quoteStr, type QueryResult } from './influx.http.ts';
import { HourlyRollups } from './influx.rollup.ts';
import {
  HOURLY,
  KIND_OF_MEASUREMENT,
  MEASUREMENT,
  RP_RAW,
  RP_SEASON,
  SCOPE_LAG_MS,
  SCOPE_LEVELS,
  TAGS,
  migrateInflux,
  scopeMeasurement,
  toLine,
} from './influx.schema.ts';

export { InfluxHttpError } from './influx.http.ts';
export { HOURLY, MEASUREMENT, RP_RAW, RP_SEASON, TAGS, toLine } from './influx.schema.ts';

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

export class InfluxStore implements ReadingStore {
  readonly #http: InfluxHttp;
  readonly #clock: Clock;
  readonly #rollups: HourlyRollups;

  private constructor(http: InfluxHttp, clock: Clock, rollups: HourlyRollups) {
    this.#http = http;
    this.#clock = clock;
    this.#rollups = rollups;
  }

  /** Connect, and on first start create the database, retention policies and continuous queries. */
  static async open(o: InfluxStoreOptions): Promise<InfluxStore> {
    const http = new InfluxHttp(o);
    const clock = o.clock ?? systemClock;
    const cqs = await migrateInflux(http, o.rawRetention);
    return new InfluxStore(http, clock, new HourlyRollups(http, clock, cqs && (o.downsampled ?? true)));
  }

  /** POST /write of raw line protocol (ms precision) into the raw RP. Throws InfluxHttpError on non-2xx. */
  writeLines(body: string): Promise<void> {
    return this.#http.writeLines(body, RP_RAW);
  }

  query(q: string, opts: { db?: boolean } = {}): Promise<QueryResult> {
    return this.#http.query(q, opts);
  }

  async write(readings: readonly Reading[]): Promise<void> {
    if (readings.length === 0) return;
    const lines: string[] = [];
    for (const r of readings) {
      const l = toLine(r);
      if (l) lines.push(l);
    }
    if (lines.length) await this.writeLines(lines.join('\n'));
    this.#rollups.markLate(readings);
  }

  /** ReadingStore.flushDownsampled: recompute every dirty hour the stitch rule reads downsampled. */
  flushDownsampled(): Promise<number> {
    return this.#rollups.flush();
  }

  /** ReadingStore.backfillDownsampled: see HourlyRollups.backfill. */
  backfillDownsampled(from: number, to: number): Promise<number> {
    return this.#rollups.backfill(from, to);
  }

  /** ReadingStore.reconcileDownsampled: per sealed hour, raw count per field vs the hourly series' counts. */
  reconcileDownsampled(from: number, to: number): Promise<number> {
    return this.#rollups.reconcile(from, to);
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
      const j = await this.#http.query(
        `SELECT * FROM ${RP_RAW}.${quoteIdent(m)}${this.#where(scope)} GROUP BY * ORDER BY time DESC LIMIT 1`,
      );
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
    const perScope =
      m === 'room' && q.deviceId === undefined && q.roomId === undefined && (ROOM_FIELDS as readonly string[]).includes(q.field);
    const level = perScope ? SCOPE_LEVELS.find((lv) => q[lv.key] !== undefined) : undefined;
    const sealedNow = this.#clock.now() - (level ? SCOPE_LAG_MS : 0);
    const plan = this.#rollups.enabled && HOURLY[m] ? planHistory(from, to, win, sealedNow, off) : { raw: [{ from, to }] };
    if (!plan.hourly) {
      const where = this.#where(q, [`time >= ${from}ms`, `time < ${to}ms`]);
      const j = await this.#http.query(`SELECT ${agg}(${quoteIdent(q.field)}) FROM ${RP_RAW}.${quoteIdent(m)}${where} ${groupBy}`);
      const s = j.results?.[0]?.series?.[0];
      return (s?.values ?? []).map((v) => ({ ts: v[0] as number, value: typeof v[1] === 'number' ? v[1] : null }));
    }
    const hourly = plan.hourly;
    await this.#rollups.queue(hourly.from, hourly.to);
    const f = quoteIdent(q.field);
    const hf = (a: string) => quoteIdent(`${a}_${q.field}`);
    const rawSel = agg === 'mean' ? `sum(${f}), count(${f})` : `${agg}(${f})`;
    const hourlySel = agg === 'mean' ? `sum(${hf('sum')}), sum(${hf('count')})` : `${agg}(${hf(agg)})`;
    const parts = await Promise.all([
      ...plan.raw.map((p) =>
        this.#partials(
          agg,
          `SELECT ${rawSel} FROM ${RP_RAW}.${quoteIdent(m)}${this.#where(q, [`time >= ${p.from}ms`, `time < ${p.to}ms`])} ${groupBy}`,
        ),
      ),
      this.#partials(
        agg,
        `SELECT ${hourlySel} FROM ${RP_SEASON}.${quoteIdent(level ? scopeMeasurement(level.tag) : HOURLY[m]!)}${this.#where(q, [`time >= ${hourly.from}ms`, `time < ${hourly.to}ms`])} ${groupBy}`,
      ),
    ]);
    return mergePartials(agg, parts.flat());
  }

  async #partials(agg: Agg, select: string): Promise<Partial[]> {
    const j = await this.#http.query(select);
    const vals = j.results?.[0]?.series?.[0]?.values ?? [];
    const num = (v: unknown) => (typeof v === 'number' ? v : null);
    return vals.map((v) =>
      agg === 'mean' ? { ts: v[0] as number, sum: num(v[1]), count: num(v[2]) } : { ts: v[0] as number, [agg]: num(v[1]) },
    );
  }

  async count(scope: ReadingScope = {}): Promise<number> {
    let n = 0;
    for (const m of this.#measurements(scope)) {
      // COUNT(*) gives one count per field; a point has at least one field, so the largest is
      // the point count when one field is in every point (room: temp is required).
      const j = await this.#http.query(`SELECT COUNT(*) FROM ${RP_RAW}.${quoteIdent(m)}${this.#where(scope)}`);
      const row = j.results?.[0]?.series?.[0]?.values[0];
      if (row) n += Math.max(0, ...row.slice(1).map((v) => (typeof v === 'number' ? v : 0)));
    }
    return n;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
