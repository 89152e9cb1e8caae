/**
 * The time-series repository interface. Two implementations live beside it: InfluxDB over
 * the v1 HTTP API (influx.store.ts) and the embedded default in DATA_DIR (embedded.store.ts).
 * One contract test suite runs against both.
 */
import type { Reading } from '../../domain/reading.ts';
import type { DeviceKind } from '../../domain/topology.schema.ts';

export interface ReadingScope {
  readonly deviceId?: string;
  readonly roomId?: string;
  readonly apartmentId?: string;
  readonly buildingId?: string;
  readonly stationId?: string;
  readonly officeId?: string;
  readonly kind?: DeviceKind;
}

export interface HistoryQuery extends ReadingScope {
  /** Field to aggregate, e.g. "temp" or "secondarySupplyTemp". */
  readonly field: string;
  /** Epoch ms, inclusive. */
  readonly from: number;
  /** Epoch ms, exclusive. */
  readonly to: number;
  /** Aggregation window, 1 min … 1 day. */
  readonly windowMs: number;
  readonly agg?: 'mean' | 'min' | 'max';
  /**
   * Window alignment: windows start at epoch + offsetMs + k·windowMs (default 0, UTC-aligned,
   * like InfluxQL's GROUP BY time(w, offset)). For local days at UTC+8: −8 h (or +16 h).
   */
  readonly offsetMs?: number;
}

export interface HistoryPoint {
  readonly ts: number;
  readonly value: number | null;
}

export interface ReadingStore {
  /** Durably store readings. Idempotent: the same device + ts overwrites itself. */
  write(readings: readonly Reading[]): Promise<void>;
  /** The latest reading of each device in scope. */
  latest(scope: ReadingScope): Promise<Reading[]>;
  /** Aggregated history of one field over the scope. */
  history(q: HistoryQuery): Promise<HistoryPoint[]>;
  /** Number of stored readings (points), for tests and health. */
  count(scope?: ReadingScope): Promise<number>;
  /**
   * Bring the hourly downsampled series up to date for hours that late writes made stale
   * (readings older than the last full hour, e.g. a device's backlog). `write()` records those
   * hours itself; this recomputes them from raw. Idempotent and cheap when nothing is dirty;
   * `history()` also does it for the hours it reads. The ingest calls it periodically
   * (off the write path) so that other processes reading the same store see fresh aggregates.
   * Returns the number of (device, hour) or whole hours recomputed.
   */
  flushDownsampled?(): Promise<number>;
  /**
   * Recompute the hourly downsampled series of [from, to) (widened to whole hours) from raw,
   * for every device: after importing a backlog around `write()`, after restoring raw data,
   * or after an upgrade. Returns the number of hourly points written.
   */
  backfillDownsampled?(from: number, to: number): Promise<number>;
  /**
   * Safety net for what `write()` cannot see: compare, per sealed hour of [from, to), the raw
   * point count with the count the hourly series hold, and recompute the hours that differ
   * (CQ runs missed while InfluxDB was down for more than an hour, dirty marks lost in a
   * crash, imports around `write()`). Costs one count over the raw range; the ingest runs it
   * now and then over the last day or two. Returns the hours (or device-hours) recomputed.
   */
  reconcileDownsampled?(from: number, to: number): Promise<number>;
  close(): Promise<void>;
}
