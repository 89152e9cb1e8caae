/**
 * The durable write paths of the broker and ingest running beside the API (`npm start`), for
 * /health and /metrics (issue 17): each one's current failure (its writes are not
 * acknowledged) and its failed writes since start. Takes the services' metrics as plain
 * shapes (the API imports neither service); only the paths in use are listed: the journal
 * with on-disk persistence, the telemetry spool in spool mode, otherwise the ingest's own
 * spool (MQTT feed), the ingest's store writes and its dead letters (records.db).
 */
import type { WritePathHealth } from '../domain/api.schema.ts';

/** What broker/app.ts `metrics()` reports about its writes. */
export interface BrokerWriteMetrics {
  readonly storeWriteErrors: number | null;
  readonly storeFailing: string | null;
  readonly telemetrySpool?: { readonly writeErrors: number; readonly failing: string | null } | null;
}

/** What ingest/app.ts `metrics()` reports about its writes. */
export interface IngestWriteMetrics {
  readonly spoolWriteErrors: number;
  readonly spoolFailing: string | null;
  readonly storeErrors: number;
  readonly storeFailing: boolean;
  readonly lastStoreError?: string;
  readonly deadLetterWriteErrors: number;
  readonly deadLettersFailing: string | null;
}

export function writePaths(b: BrokerWriteMetrics, i: IngestWriteMetrics): WritePathHealth[] {
  const out: WritePathHealth[] = [];
  if (b.storeWriteErrors !== null) out.push({ path: 'broker.journal', failing: b.storeFailing, errors: b.storeWriteErrors });
  if (b.telemetrySpool) out.push({ path: 'broker.spool', failing: b.telemetrySpool.failing, errors: b.telemetrySpool.writeErrors });
  else out.push({ path: 'ingest.spool', failing: i.spoolFailing, errors: i.spoolWriteErrors });
  out.push({ path: 'ingest.store', failing: i.storeFailing ? (i.lastStoreError ?? 'store write failed') : null, errors: i.storeErrors });
  out.push({ path: 'ingest.deadLetters', failing: i.deadLettersFailing, errors: i.deadLetterWriteErrors });
  return out;
}
