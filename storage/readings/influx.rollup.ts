/**
 * The store's own downsampling beside the continuous queries: the hours that late readings made
 * stale (in memory, per measurement and device), their recompute into the hourly and per-scope
 * series (SELECT … INTO, one at a time), the backfill of a span, and the reconcile of raw
 * counts against the hourly series. Reads wait on queue() for the hours they need.
 */
import { HOUR_MS, DAY_MS, type Clock } from '../../domain/clock.ts';
import { ROOM_FIELDS } from '../../domain/telemetry.schema.ts';
import type { Reading } from '../../domain/reading.ts';
import { chunks, hourSpan, lateBefore, sealedBefore, type Span } from './downsample.plan.ts';
import { quoteIdent, quoteStr, type InfluxHttp } from './influx.http.ts';
import {
  HOURLY,
  HOURLY_AGGS,
  MEASUREMENT,
  RP_RAW,
  RP_SEASON,
  SCOPE_AGGS,
  SCOPE_LAG_MS,
  SCOPE_LEVELS,
  TAGS,
  scopeMeasurement,
  type ScopeTag,
} from './influx.schema.ts';

/** Do two per-field counts of one hour differ (a field counted in `want` missing or different in `got`)? */
const differs = (want: ReadonlyMap<string, number>, got: ReadonlyMap<string, number> | undefined, only?: readonly string[]) =>
  [...want].some(([f, n]) => (!only || only.includes(f)) && got?.get(f) !== n);
/** Location tags of a late reading, to recompute only its scopes. */
type Where = { [K in ScopeTag]?: string };
/** A dirty hour with more devices than this is recomputed for all devices (one query, no OR list). */
const DIRTY_DEVICES_PER_HOUR = 200;
/** Devices per recompute query (an OR list of device tags). */
const DEVICES_PER_QUERY = 100;
/** Time span of one SELECT … INTO: bounds the memory influxd needs for one statement. */
const INTO_SPAN_MS = DAY_MS;
/** The per-scope series read hourly points (24× fewer than raw at 10-min readings): a week per statement. */
const SCOPE_INTO_SPAN_MS = 7 * DAY_MS;

export class HourlyRollups {
  readonly #http: InfluxHttp;
  readonly #clock: Clock;
  /**
   * Hours made stale by late writes, per raw measurement: hour start → devices written
   * ('all' past DIRTY_DEVICES_PER_HOUR). In memory: a crash loses it (SCHEMA.md, late data).
   */
  readonly #dirty = new Map<string, Map<number, Map<string, Where> | 'all'>>();
  /** Recomputes run one at a time; a history() read waits for the one that covers it. */
  #flushing: Promise<unknown> = Promise.resolve();

  /** enabled: the CQs exist (migrateInflux), so sealed hours are in the hourly series. */
  constructor(
    http: InfluxHttp,
    clock: Clock,
    readonly enabled: boolean,
  ) {
    this.#http = http;
    this.#clock = clock;
  }

  /**
   * Record hours that the continuous queries will not (re)compute: older than the hour before
   * the current one (RESAMPLE FOR 2h covers that one and the current one). Only after the raw
   * write succeeded: a failed write is retried by the caller, and marks again.
   */
  markLate(readings: readonly Reading[]): void {
    if (!this.enabled || !readings.length) return;
    const limit = lateBefore(this.#clock.now());
    // One pass per write batch: a batch's readings mostly share a measurement and an hour, so
    // the hour's entry is looked up once per run of them, and once an hour is 'all' (past
    // DIRTY_DEVICES_PER_HOUR devices) its readings cost a comparison each, no allocation.
    let m = '';
    let hour = Number.NaN;
    let devs: Map<string, Where> | 'all' = 'all';
    for (const r of readings) {
      const h = Math.floor(r.ts / HOUR_MS) * HOUR_MS;
      if (h >= limit) continue;
      const rm = MEASUREMENT[r.kind];
      if (!HOURLY[rm]) continue;
      if (rm !== m || h !== hour) {
        m = rm;
        hour = h;
        devs = this.#hour(m, hour);
      }
      if (devs === 'all') continue;
      const had = devs.get(r.deviceId);
      if (
        had &&
        had.apartment === r.apartmentId &&
        had.building === r.buildingId &&
        had.station === r.stationId &&
        had.office === r.officeId
      )
        continue;
      devs.set(r.deviceId, { apartment: r.apartmentId, building: r.buildingId, station: r.stationId, office: r.officeId });
      if (devs.size > DIRTY_DEVICES_PER_HOUR) {
        this.#mark(m, hour, 'all');
        devs = 'all';
      }
    }
  }

  /** The dirty entry of one hour of a measurement, created (empty) when missing. */
  #hour(m: string, hour: number): Map<string, Where> | 'all' {
    let hours = this.#dirty.get(m);
    if (!hours) this.#dirty.set(m, (hours = new Map()));
    let cur = hours.get(hour);
    if (!cur) hours.set(hour, (cur = new Map()));
    return cur;
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
    const db = quoteIdent(this.#http.db);
    let written = 0;
    for (const c of chunks(span, INTO_SPAN_MS)) {
      const where = [`time >= ${c.from}ms`, `time < ${c.to}ms`];
      if (devices?.length) where.push(`(${devices.map((d) => `${quoteIdent(TAGS.deviceId)} = ${quoteStr(d)}`).join(' OR ')})`);
      const j = await this.#http.query(
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
    const db = quoteIdent(this.#http.db);
    for (const lv of SCOPE_LEVELS) {
      const values = only ? [...(only.get(lv.tag) ?? [])] : [undefined];
      for (let i = 0; i < values.length; i += DEVICES_PER_QUERY) {
        const vs = values.slice(i, i + DEVICES_PER_QUERY).filter((v): v is string => v !== undefined);
        for (const c of chunks(span, SCOPE_INTO_SPAN_MS)) {
          const where = [`time >= ${c.from}ms`, `time < ${c.to}ms`];
          if (vs.length) where.push(`(${vs.map((v) => `${quoteIdent(lv.tag)} = ${quoteStr(v)}`).join(' OR ')})`);
          await this.#http.query(
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
        const all = [...hours]
          .filter(([, d]) => d === 'all')
          .map(([h]) => h)
          .sort((a, b) => a - b);
        for (let i = 0; i < all.length;) {
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
          for (let i = 0; i < g.devices.length; i += DEVICES_PER_QUERY)
            await this.#rollup(m, g.span, g.devices.slice(i, i + DEVICES_PER_QUERY));
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
  queue(from: number, to: number): Promise<number> {
    const p = this.#flushing.then(() => this.#recompute(from, to));
    this.#flushing = p.catch(() => undefined);
    return p;
  }

  /** Recompute every dirty hour the stitch rule reads downsampled. */
  flush(): Promise<number> {
    if (!this.enabled) return Promise.resolve(0);
    return this.queue(Number.MIN_SAFE_INTEGER, lateBefore(this.#clock.now()));
  }

  /**
   * Recompute [from, to) (whole hours) for every device, as
   * the continuous queries would have: after an import that bypassed `write()` (e.g. line
   * protocol posted straight to /write), a restore, a crash that lost dirty hours, or an upgrade
   * from the v1 hourly series.
   */
  async backfill(from: number, to: number): Promise<number> {
    const span = hourSpan(from, to);
    await this.#flushing;
    this.#takeDirty(span.from, span.to);
    let written = 0;
    for (const m of Object.keys(HOURLY)) written += await this.#rollup(m, span);
    await this.#rollupScopes(span);
    return written;
  }

  /** Per sealed hour, raw count per field vs the hourly series' counts. */
  async reconcile(from: number, to: number): Promise<number> {
    if (!this.enabled) return 0;
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
            const got = await this.#countsPerHour(
              `SELECT sum(/^count_/) FROM ${RP_SEASON}.${quoteIdent(scopeMeasurement(lv.tag))} ${range}`,
              'sum_count_',
            );
            for (const [hour, want] of raw) if (hour < scopeEnd && differs(want, got.get(hour), ROOM_FIELDS)) bad.add(hour);
          }
        }
        for (const hour of bad) this.#mark(m, hour, 'all');
        stale += bad.size;
      }
    }
    if (stale) await this.queue(span.from, end);
    return stale;
  }

  /** Rows of a GROUP BY time(1h) count query as hour → field → count (column prefix removed). */
  async #countsPerHour(select: string, prefix: string): Promise<Map<number, Map<string, number>>> {
    const j = await this.#http.query(select);
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
}
