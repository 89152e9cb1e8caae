/**
 * Replay: recorded readings through the same rules engine the ingest runs, at ×1 … ×10,000
 * of event time or as fast as possible, with progress (fraction, event time, rate, ETA) for a
 * terminal bar or the dashboard's engineer console. Sources: InfluxDB (a time range, InfluxQL
 * over the v1 /query API), CSV files, line-protocol files, or a simulation.
 *
 * Deterministic: readings are handed to the engine in source order and the engine is pure,
 * so the same input gives the same incident events on every run (`digest` proves it).
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseCsvLine } from '../domain/csv.ts';
import type { IncidentEvent } from '../domain/incident.schema.ts';
import { policyForCity, type HeatingPolicy } from '../domain/policy.ts';
import { parseTimestamp, type Reading } from '../domain/reading.ts';
import { RulesEngine } from '../domain/rules/engine.ts';
import type { City } from '../domain/topology.schema.ts';
import { indexCity, type CityIndex } from './city.index.ts';
import { simulateDeliveries } from './feed.ts';
import { IncidentCollector, type FoundIncident } from './scenario.ts';
import type { ThermalModel } from './thermal.model.ts';

export type ReplaySource =
  | { readonly kind: 'csv' | 'lp'; readonly path: string }
  | {
      readonly kind: 'influx';
      readonly url: string;
      readonly db: string;
      readonly from: number;
      readonly to: number;
      readonly token?: string;
      readonly user?: string;
      readonly password?: string;
      /** Query window per request, ms. Default 6 h. */
      readonly chunkMs?: number;
    }
  | { readonly kind: 'simulation'; readonly model: ThermalModel; readonly from: number; readonly to: number }
  | {
      readonly kind: 'readings';
      readonly readings: Iterable<Reading> | AsyncIterable<Reading>;
      readonly from?: number;
      readonly to?: number;
    };

export interface ReplayProgress {
  readonly readings: number;
  /** 0…1 (bytes read for files, event time otherwise). */
  readonly fraction: number;
  readonly eventTs: number;
  readonly readingsPerSec: number;
  readonly etaSec: number | null;
  readonly incidents: number;
  readonly open: number;
  readonly done: boolean;
}

export interface ReplayOptions {
  readonly source: ReplaySource;
  readonly city: City;
  readonly policy?: HeatingPolicy;
  /** Event-time speed-up, 1…10,000; 0 or Infinity = as fast as possible. Default Infinity. */
  readonly speed?: number;
  /** Progress callbacks at most this often, wall ms. Default 200. */
  readonly progressEveryMs?: number;
  readonly onIncident?: (e: IncidentEvent) => void;
  /** Every reading of a known device, as the rules get it (the console keeps the latest per device). */
  readonly onReading?: (r: Reading) => void;
  readonly signal?: AbortSignal;
  /** Pacing clock (tests inject one that does not sleep). */
  readonly pace?: { now(): number; sleep(ms: number): Promise<void> };
}

export interface ReplayResult {
  readonly readings: number;
  /** Readings of devices the city does not know (skipped). */
  readonly unknown: number;
  readonly events: number;
  readonly incidents: readonly FoundIncident[];
  /** SHA-256 over every incident event in order: equal digests = identical output. */
  readonly digest: string;
  readonly fromTs: number;
  readonly toTs: number;
  readonly wallMs: number;
  readonly aborted: boolean;
}

const realPace = { now: () => performance.now(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };

interface Item {
  readonly reading: Reading;
  readonly fraction?: number;
}

export async function runReplay(opts: ReplayOptions, onProgress?: (p: ReplayProgress) => void): Promise<ReplayResult> {
  const policy = opts.policy ?? policyForCity(opts.city.policyCity);
  const ix = indexCity(opts.city);
  const engine = new RulesEngine({ city: opts.city, policy });
  const collector = new IncidentCollector();
  const hash = createHash('sha256');
  const pace = opts.pace ?? realPace;
  const speed =
    opts.speed && Number.isFinite(opts.speed) && opts.speed > 0 ? Math.min(10_000, Math.max(1, opts.speed)) : Number.POSITIVE_INFINITY;
  const every = opts.progressEveryMs ?? 200;
  const src = opts.source;
  const range = 'from' in src && src.from !== undefined && src.to !== undefined ? { from: src.from, to: src.to } : undefined;

  let readings = 0;
  let unknown = 0;
  let events = 0;
  let firstTs = Number.NaN;
  let lastTs = Number.NaN;
  let advanced = Number.NEGATIVE_INFINITY;
  const wallStart = pace.now();
  let lastReport = wallStart;
  let fraction = 0;
  let aborted = false;

  const emit = (es: readonly IncidentEvent[]): void => {
    for (const e of es) {
      events++;
      hash.update(JSON.stringify(e));
      hash.update('\n');
      collector.add(e);
      opts.onIncident?.(e);
    }
  };
  const progress = (done: boolean): void => {
    if (!onProgress) return;
    const wall = (pace.now() - wallStart) / 1000;
    const rate = wall > 0 ? readings / wall : 0;
    const f = done ? 1 : fraction;
    onProgress({
      readings,
      fraction: f,
      eventTs: Number.isNaN(lastTs) ? (range?.from ?? 0) : lastTs,
      readingsPerSec: Math.round(rate),
      etaSec: done ? 0 : f > 0.001 ? Math.round((wall * (1 - f)) / f) : null,
      incidents: collector.list().length,
      open: engine.openIncidents().length,
      done,
    });
  };

  for await (const item of items(src, ix)) {
    if (opts.signal?.aborted) {
      aborted = true;
      break;
    }
    const r = item.reading;
    if (!ix.devices.has(r.deviceId)) {
      unknown++;
      continue;
    }
    if (Number.isNaN(firstTs)) firstTs = r.ts;
    readings++;
    opts.onReading?.(r);
    emit(engine.ingest(r));
    // Advance as the ingest does after each batch: to the latest event time seen.
    if (r.ts > advanced) {
      advanced = r.ts;
      emit(engine.advanceTo(r.ts));
    }
    lastTs = Number.isNaN(lastTs) ? r.ts : Math.max(lastTs, r.ts);
    fraction = item.fraction ?? (range ? (lastTs - range.from) / Math.max(1, range.to - range.from) : 0);
    if ((readings & 1023) === 0 || Number.isFinite(speed)) {
      const now = pace.now();
      if (Number.isFinite(speed)) {
        // ×speed: event time may run `speed` times ahead of wall time, never more.
        const ahead = (lastTs - firstTs) / speed - (now - wallStart);
        if (ahead > 20) await pace.sleep(ahead);
      }
      if (now - lastReport >= every) {
        lastReport = now;
        progress(false);
        // Let timers and sockets breathe during an as-fast-as-possible run.
        await new Promise<void>((r) => setImmediate(r));
      }
    }
  }
  if (!aborted && range && range.to > advanced) emit(engine.advanceTo(range.to));
  progress(true);
  return {
    readings,
    unknown,
    events,
    incidents: collector.list(),
    digest: hash.digest('hex'),
    fromTs: Number.isNaN(firstTs) ? (range?.from ?? 0) : firstTs,
    toTs: Number.isNaN(lastTs) ? (range?.to ?? 0) : lastTs,
    wallMs: Math.round(pace.now() - wallStart),
    aborted,
  };
}

async function* items(src: ReplaySource, ix: CityIndex): AsyncGenerator<Item> {
  switch (src.kind) {
    case 'simulation':
      for (const d of simulateDeliveries(src.model, { from: src.from, to: src.to })) for (const reading of d.readings) yield { reading };
      return;
    case 'readings':
      for await (const reading of src.readings) yield { reading };
      return;
    case 'csv':
    case 'lp':
      yield* fileItems(src.kind, src.path, ix);
      return;
    case 'influx':
      yield* influxItems(src, ix);
      return;
  }
}

async function* fileItems(kind: 'csv' | 'lp', path: string, ix: CityIndex): AsyncGenerator<Item> {
  const size = Math.max(1, statSync(path).size);
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let header: string[] | undefined;
  let chars = 0;
  for await (const line of lines) {
    chars += line.length + 1;
    if (!line || line.startsWith('#')) continue;
    let parsed: { deviceId: string; ts: number; fields: Record<string, number> } | undefined;
    if (kind === 'csv') {
      if (!header) {
        header = parseCsvLine(line).map((h) => h.trim());
        continue;
      }
      parsed = parseCsvRow(header, line);
    } else parsed = parseLineProtocol(line);
    if (!parsed) continue;
    const reading = ix.toReading(parsed.deviceId, parsed.ts, parsed.fields);
    const fraction = Math.min(1, chars / size);
    yield { reading: reading ?? { deviceId: parsed.deviceId, kind: 'room_sensor', ts: parsed.ts, fields: parsed.fields }, fraction };
  }
}

/** CSV record (one line, domain/csv.ts) → reading: columns `ts`, `deviceId` (or `device`), then one column per field; empty = absent. */
export function parseCsvRow(
  header: readonly string[],
  line: string,
): { deviceId: string; ts: number; fields: Record<string, number> } | undefined {
  const cells = parseCsvLine(line);
  let deviceId = '';
  let ts = Number.NaN;
  const fields: Record<string, number> = {};
  for (let i = 0; i < header.length; i++) {
    const h = header[i]!;
    const v = (cells[i] ?? '').trim();
    if (h === 'ts' || h === 'time') ts = /^\d+$/.test(v) ? Number(v) : parseTimestamp(v);
    else if (h === 'deviceId' || h === 'device') deviceId = v;
    else if (v !== '') {
      const n = Number(v);
      if (Number.isFinite(n)) fields[h] = n;
    }
  }
  return deviceId && Number.isFinite(ts) ? { deviceId, ts, fields } : undefined;
}

/** Split on a separator that is not backslash-escaped (line protocol escaping). */
function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      continue;
    }
    if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * One line of InfluxDB line protocol as the store writes it (storage/readings/influx.store.ts:
 * measurement room|station, tag `device`, float fields, ms timestamps). Nanosecond and second
 * timestamps are recognised by magnitude.
 */
export function parseLineProtocol(line: string): { deviceId: string; ts: number; fields: Record<string, number> } | undefined {
  const parts = splitEscapedSpaces(line);
  if (parts.length < 2) return undefined;
  const tags = splitEscaped(parts[0]!, ',');
  let deviceId = '';
  for (const t of tags.slice(1)) {
    const eq = t.indexOf('=');
    if (eq > 0 && t.slice(0, eq) === 'device') deviceId = t.slice(eq + 1);
  }
  const fields: Record<string, number> = {};
  for (const f of splitEscaped(parts[1]!, ',')) {
    const eq = f.indexOf('=');
    if (eq <= 0) continue;
    const raw = f.slice(eq + 1).replace(/[iu]$/, '');
    const n = Number(raw);
    if (Number.isFinite(n)) fields[f.slice(0, eq)] = n;
  }
  let ts = parts[2] !== undefined ? Number(parts[2]) : Number.NaN;
  if (ts > 1e17) ts = Math.round(ts / 1e6);
  else if (ts > 1e14) ts = Math.round(ts / 1e3);
  else if (ts < 1e11) ts = ts * 1000;
  return deviceId && Number.isFinite(ts) ? { deviceId, ts, fields } : undefined;
}

/** Measurement+tags, fields, timestamp: separated by unescaped spaces outside quoted strings. */
function splitEscapedSpaces(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\' && i + 1 < line.length) {
      cur += ch + line[++i];
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === ' ' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((p) => p.length);
}

async function* influxItems(src: Extract<ReplaySource, { kind: 'influx' }>, ix: CityIndex): AsyncGenerator<Item> {
  const chunk = src.chunkMs ?? 6 * 3_600_000;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (src.token) headers.authorization = `Token ${src.token}`;
  for (let t = src.from; t < src.to; t += chunk) {
    const end = Math.min(src.to, t + chunk);
    const batch: Reading[] = [];
    for (const m of ['room', 'station']) {
      const q = `SELECT * FROM "${m}" WHERE time >= ${t}ms AND time < ${end}ms`;
      const u = new URL(`${src.url}/query`);
      u.searchParams.set('db', src.db);
      u.searchParams.set('epoch', 'ms');
      if (!src.token && src.user) {
        u.searchParams.set('u', src.user);
        u.searchParams.set('p', src.password ?? '');
      }
      const res = await fetch(u, { method: 'POST', headers, body: new URLSearchParams({ q }).toString() });
      if (!res.ok) throw new Error(`influx /query ${res.status}: ${(await res.text()).slice(0, 200)}`);
      const j = (await res.json()) as { results?: { error?: string; series?: { columns: string[]; values: unknown[][] }[] }[] };
      const err = j.results?.find((x) => x.error)?.error;
      if (err) throw new Error(`influx: ${err}`);
      for (const s of j.results?.[0]?.series ?? []) {
        const ti = s.columns.indexOf('time');
        const di = s.columns.indexOf('device');
        for (const row of s.values) {
          const deviceId = typeof row[di] === 'string' ? row[di] : '';
          const fields: Record<string, number> = {};
          s.columns.forEach((c, i) => {
            if (typeof row[i] === 'number' && c !== 'time') fields[c] = row[i];
          });
          const r = ix.toReading(deviceId, Number(row[ti]), fields);
          if (r) batch.push(r);
        }
      }
    }
    // Both measurements merged in event-time order; ties by device id for a stable order.
    batch.sort((a, b) => a.ts - b.ts || (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
    for (const reading of batch) yield { reading, fraction: (reading.ts - src.from) / Math.max(1, src.to - src.from) };
  }
}

export { simulatedReadings, toCsvRecord, toLineProtocol, writeReadings } from './replay.export.ts';
