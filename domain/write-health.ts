/**
 * The durable write paths of the broker and the ingest (issue 17), as /health and /metrics show
 * them: each one's current failure (its writes are not acknowledged) and its failed writes
 * since start. Pure: takes the services' metrics as plain shapes, so the API (`npm start`, all
 * in one process) and each service's own health endpoint alone (broker/health.http.ts,
 * ingest/health.http.ts) list the same paths. Only the paths in use are listed: the journal
 * with on-disk persistence, the telemetry spool in spool mode, otherwise the ingest's own spool
 * (MQTT feed); the ingest's store writes and its dead letters (records.db).
 */
import type { WritePathHealth } from './api.schema.ts';

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

export function brokerWritePaths(b: BrokerWriteMetrics): WritePathHealth[] {
  const out: WritePathHealth[] = [];
  if (b.storeWriteErrors !== null) out.push({ path: 'broker.journal', failing: b.storeFailing, errors: b.storeWriteErrors });
  if (b.telemetrySpool) out.push({ path: 'broker.spool', failing: b.telemetrySpool.failing, errors: b.telemetrySpool.writeErrors });
  return out;
}

/** `ownSpool`: the ingest spools what it gets over MQTT itself (INGEST_FEED=mqtt). */
export function ingestWritePaths(i: IngestWriteMetrics, ownSpool: boolean): WritePathHealth[] {
  return [
    ...(ownSpool ? [{ path: 'ingest.spool' as const, failing: i.spoolFailing, errors: i.spoolWriteErrors }] : []),
    { path: 'ingest.store', failing: i.storeFailing ? (i.lastStoreError ?? 'store write failed') : null, errors: i.storeErrors },
    { path: 'ingest.deadLetters', failing: i.deadLettersFailing, errors: i.deadLetterWriteErrors },
  ];
}

/** Broker and ingest in one process: the ingest spools itself unless the broker does. */
export function writePaths(b: BrokerWriteMetrics, i: IngestWriteMetrics): WritePathHealth[] {
  return [...brokerWritePaths(b), ...ingestWritePaths(i, !b.telemetrySpool)];
}

/** `ok` while every path takes writes. */
export const writeStatus = (writes: readonly WritePathHealth[]): 'ok' | 'degraded' =>
  writes.every((w) => w.failing === null) ? 'ok' : 'degraded';

/** The Prometheus lines of the write paths (none when there are none). */
export function writePathsPrometheus(writes: readonly WritePathHealth[]): string {
  if (!writes.length) return '';
  return (
    '# HELP heat_write_path_failing Durable write path failing now, its writes unacknowledged (1/0)\n# TYPE heat_write_path_failing gauge\n' +
    writes.map((w) => `heat_write_path_failing{path="${w.path}"} ${w.failing === null ? 0 : 1}\n`).join('') +
    '# HELP heat_write_path_errors_total Failed writes of a durable write path since its service started\n# TYPE heat_write_path_errors_total counter\n' +
    writes.map((w) => `heat_write_path_errors_total{path="${w.path}"} ${w.errors}\n`).join('')
  );
}

/** What a service alone answers on its own health port: GET /health (JSON) and GET /metrics (Prometheus). */
export interface HealthAnswer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

/**
 * The answer of `npm run broker` / `npm run ingest` alone to `method url` (the API has its own
 * /api/v1/health): its write paths, `degraded` while one fails, and its Prometheus text.
 */
export function serviceHealthAnswer(
  method: string | undefined,
  url: string | undefined,
  s: { readonly service: 'broker' | 'ingest'; writes(): readonly WritePathHealth[]; prometheus(): string; now(): number },
): HealthAnswer {
  const path = (url ?? '/').split('?')[0];
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, type: 'text/plain', body: 'GET only\n' };
  if (path === '/health') {
    const writes = s.writes();
    return {
      status: 200,
      type: 'application/json',
      body: JSON.stringify({ status: writeStatus(writes), service: s.service, time: s.now(), writes }),
    };
  }
  if (path === '/metrics')
    return { status: 200, type: 'text/plain; version=0.0.4', body: writePathsPrometheus(s.writes()) + s.prometheus() };
  return { status: 404, type: 'text/plain', body: 'not found: GET /health or /metrics\n' };
}

/** The parts of node:http the services' health ports use (this module does no I/O itself). */
interface HealthRequest {
  readonly method?: string;
  readonly url?: string;
}
interface HealthResponse {
  writeHead(status: number, headers: Record<string, string>): { end(body?: string): unknown };
}
interface HealthServer {
  once(ev: 'error', l: (err: Error) => void): unknown;
  listen(port: number, host: string, cb: () => void): unknown;
}

/** A request listener for `createServer` that answers with `serviceHealthAnswer`. */
export function healthRequestListener(s: Parameters<typeof serviceHealthAnswer>[2]): (req: HealthRequest, res: HealthResponse) => void {
  return (req, res) => {
    const a = serviceHealthAnswer(req.method, req.url, s);
    res.writeHead(a.status, { 'content-type': a.type }).end(req.method === 'HEAD' ? undefined : a.body);
  };
}

/** Listen; resolves with the error when the port cannot be opened (taken), else null. */
export function openHealthPort(server: HealthServer, port: number, host: string): Promise<Error | null> {
  return new Promise((resolve) => {
    server.once('error', resolve);
    server.listen(port, host, () => resolve(null));
  });
}
