/**
 * The InfluxDB schema of the readings (SCHEMA.md): measurements, tags, retention policies,
 * the hourly and per-scope continuous queries and their creation (migrateInflux), and the
 * line protocol of one reading.
 */
import { HOUR_MS } from '../../domain/clock.ts';
import { ROOM_FIELDS } from '../../domain/telemetry.schema.ts';
import type { Reading } from '../../domain/reading.ts';
import type { DeviceKind } from '../../domain/topology.schema.ts';
import { InfluxHttpError, quoteIdent, type InfluxHttp } from './influx.http.ts';
import type { ReadingScope } from './reading-store.ts';

/** Measurement per device kind; gateways carry no readings of their own. */
export const MEASUREMENT: Readonly<Record<DeviceKind, string>> = Object.freeze({
  room_sensor: 'room',
  station_meter: 'station',
  gateway: 'gateway',
});
export const KIND_OF_MEASUREMENT: Readonly<Record<string, DeviceKind>> = {
  room: 'room_sensor',
  station: 'station_meter',
  gateway: 'gateway',
};

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

/** Hourly downsampled measurement (in RP_SEASON) of each raw measurement. */
export const HOURLY: Readonly<Record<string, string>> = Object.freeze({ room: 'room_1h', station: 'station_1h' });
/**
 * Per field f the hourly series keep `sum_f`, `count_f`, `min_f`, `max_f`: sum and count make
 * the mean of any whole-hour window exact (not a mean of means).
 */
export const HOURLY_AGGS = 'sum(*), count(*), min(*), max(*)';
/** Continuous queries (1.x). v2: sum/count/min/max of every field, last 2 h recomputed each run. */
const CQ_PREFIX = 'cq_';
const CQ_SUFFIX = '_1h_v2';
/** Before v2 the CQs wrote means only (temp, temp_min, …); they are dropped on migrate. */
const OLD_CQS = ['cq_room_1h', 'cq_station_1h'];
/**
 * Room series are also kept per scope (one series per apartment, building, station, office and
 * hour, summed over its rooms), so a building's season is ~3,000 points, not ~3,000 per room.
 * Derived from the per-device hourly series (not raw: cheap), finest level first.
 */
export const SCOPE_LEVELS = [
  { key: 'apartmentId', tag: 'apartment', groupBy: ['apartment', 'building', 'station', 'office'] },
  { key: 'buildingId', tag: 'building', groupBy: ['building', 'station', 'office'] },
  { key: 'stationId', tag: 'station', groupBy: ['station', 'office'] },
  { key: 'officeId', tag: 'office', groupBy: ['office'] },
] as const satisfies readonly { key: keyof ReadingScope; tag: string; groupBy: readonly string[] }[];
export type ScopeTag = (typeof SCOPE_LEVELS)[number]['tag'];
export const scopeMeasurement = (tag: ScopeTag) => `room_1h_${tag}`;
/** sum of sums, sum of counts, min of mins, max of maxes, named as in the per-device series. */
export const SCOPE_AGGS = ROOM_FIELDS.flatMap((f) => [
  `sum(${quoteIdent(`sum_${f}`)}) AS ${quoteIdent(`sum_${f}`)}`,
  `sum(${quoteIdent(`count_${f}`)}) AS ${quoteIdent(`count_${f}`)}`,
  `min(${quoteIdent(`min_${f}`)}) AS ${quoteIdent(`min_${f}`)}`,
  `max(${quoteIdent(`max_${f}`)}) AS ${quoteIdent(`max_${f}`)}`,
]).join(', ');
/** Per-scope series are sealed one hour after the per-device ones (see the CQs in migrate). */
export const SCOPE_LAG_MS = HOUR_MS;
/** Tag keys (as in TAGS) in the sorted order Point writes them: apartment, building, device, office, room, station. */
const SORTED_TAGS = (Object.entries(TAGS) as [keyof typeof TAGS, string][]).sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
const TAG_PREFIX = SORTED_TAGS.map(([, tag]) => `,${tag}=`);
const MEASUREMENT_LINE: Readonly<Record<DeviceKind, string>> = Object.freeze({
  room_sensor: escapeMeasurement(MEASUREMENT.room_sensor),
  station_meter: escapeMeasurement(MEASUREMENT.station_meter),
  gateway: escapeMeasurement(MEASUREMENT.gateway),
});
const NEEDS_TAG_ESCAPE = /[, =\n\r\t]/;

function escapeMeasurement(s: string): string {
  return s.replace(/[, \n\r\t]/g, (c) => (c === ',' ? '\\,' : c === ' ' ? '\\ ' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

/** A tag key or value, or a field key, escaped as Point does (the test compares both). */
function escapeTag(s: string): string {
  if (!NEEDS_TAG_ESCAPE.test(s)) return s;
  return s.replace(/[, =\n\r\t]/g, (c) =>
    c === ',' ? '\\,' : c === ' ' ? '\\ ' : c === '=' ? '\\=' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t',
  );
}

/**
 * Line protocol of one reading, ms precision. Exported for the bench (same batches, raw /write).
 *
 * Built as one string, not through @influxdata/influxdb-client's Point (issue 19): Point
 * allocates a tags and a fields object, sorts both key lists and runs an escaper per tag per
 * reading — ~3 µs of the ingest's CPU per reading in the bench profile. The output is Point's,
 * byte for byte (influx.schema.test.ts compares them): tags and fields sorted by key, empty
 * tags left out, floats as `String(n)`, a non-finite field refused, timestamp as given.
 */
export function toLine(r: Reading): string | undefined {
  let line = MEASUREMENT_LINE[r.kind];
  if (!line) return undefined;
  for (let i = 0; i < SORTED_TAGS.length; i++) {
    const v = r[SORTED_TAGS[i]![0]];
    if (v) line += TAG_PREFIX[i]! + escapeTag(v);
  }
  const f = r.fields;
  let fields = '';
  let keys: string[] | undefined;
  let only: string | undefined;
  let n = 0;
  for (const k in f) {
    if (n === 0) only = k;
    else (keys ??= [only!]).push(k);
    n++;
  }
  if (n === 0) return undefined;
  if (keys) keys.sort();
  for (let i = 0; i < n; i++) {
    const k = keys ? keys[i]! : only!;
    if (!k) continue;
    const v = f[k]!;
    if (!Number.isFinite(v)) throw new Error(`invalid float value for field '${k}': ${v}`);
    if (fields) fields += ',';
    fields += `${escapeTag(k)}=${String(v)}`;
  }
  if (!fields) return undefined;
  return `${line} ${fields} ${r.ts}`;
}

/**
 * On first start create the database, the retention policies and the continuous queries
 * (idempotent). Returns whether the hourly series exist (the CQs could be created: 1.x).
 */
export async function migrateInflux(http: InfluxHttp, rawRetention = 'INF'): Promise<boolean> {
  const db = quoteIdent(http.db);
  // 1.x: CREATE DATABASE/RP are idempotent. 2.x/3.x reject them (buckets and DBRP mappings
  // are made by the operator there), so a failure here is not fatal: writes will tell.
  try {
    await http.query(`CREATE DATABASE ${db}`, { db: false });
    await http
      .query(`CREATE RETENTION POLICY ${RP_RAW} ON ${db} DURATION ${rawRetention} REPLICATION 1 DEFAULT`, { db: false })
      .catch(async () => {
        await http.query(`ALTER RETENTION POLICY ${RP_RAW} ON ${db} DURATION ${rawRetention} DEFAULT`, { db: false });
      });
    await http.query(`CREATE RETENTION POLICY ${RP_SEASON} ON ${db} DURATION INF REPLICATION 1`, { db: false }).catch(() => undefined);
    // Downsampled hourly series for season-long views (SCHEMA.md). GROUP BY * keeps every tag.
    // RESAMPLE FOR 2h: each hourly run also recomputes the hour before, which catches
    // readings that arrive a little late; older late data is re-downsampled by the store
    // (flushDownsampled / backfillDownsampled).
    for (const old of OLD_CQS) await http.query(`DROP CONTINUOUS QUERY ${old} ON ${db}`, { db: false }).catch(() => undefined);
    for (const [m, hourly] of Object.entries(HOURLY)) {
      const select = `SELECT ${HOURLY_AGGS} INTO ${db}.${RP_SEASON}.${hourly} FROM ${db}.${RP_RAW}.${m} GROUP BY time(1h), *`;
      await http
        .query(`CREATE CONTINUOUS QUERY ${CQ_PREFIX}${m}${CQ_SUFFIX} ON ${db} RESAMPLE FOR 2h BEGIN ${select} END`, { db: false })
        .catch((e: unknown) => {
          // "continuous query already exists" is fine.
          if (!String(e).includes('already exists')) throw e;
        });
    }
    // Per-scope series from the per-device ones. FOR 3h: the per-device hour h is final
    // after the device CQ's run at h+2h, which may run at the same moment as this one, so the
    // run at h+3h is the one that sees it final (hence one hour less sealed, SCOPE_LAG_MS).
    for (const lv of SCOPE_LEVELS) {
      const select = `SELECT ${SCOPE_AGGS} INTO ${db}.${RP_SEASON}.${scopeMeasurement(lv.tag)} FROM ${db}.${RP_SEASON}.${HOURLY.room} GROUP BY time(1h), ${lv.groupBy.join(', ')}`;
      await http
        .query(`CREATE CONTINUOUS QUERY ${CQ_PREFIX}room_1h_${lv.tag}_v2 ON ${db} RESAMPLE FOR 3h BEGIN ${select} END`, { db: false })
        .catch((e: unknown) => {
          if (!String(e).includes('already exists')) throw e;
        });
    }
    return true;
  } catch (e) {
    // 2.x/3.x refuse the DDL with a 4xx: run without the hourly series. Refused credentials
    // (401/403) or a missing endpoint (404) are the operator's error and must not pass silently.
    if (e instanceof InfluxHttpError && e.status < 500 && ![401, 403, 404].includes(e.status)) return false;
    throw e;
  }
}
