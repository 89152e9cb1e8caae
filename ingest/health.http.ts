/**
 * `npm run ingest` alone (issue 17): its own health port, INGEST_HTTP_PORT (0: none). GET
 * /health lists the ingest's durable write paths (its spool with INGEST_FEED=mqtt, store
 * writes, dead letters) and says `degraded` while one fails; GET /metrics is its Prometheus
 * text. Under `npm start` the API's /api/v1/health shows the same paths (domain/write-health.ts).
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { healthRequestListener, ingestWritePaths, openHealthPort } from '../domain/write-health.ts';
import type { IngestApp, IngestMetrics } from './app.ts';

const gauge = (name: string, help: string, v: number) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${v}\n`;

export function ingestPrometheus(m: IngestMetrics): string {
  return (
    gauge('heat_ingest_mqtt_connected', 'MQTT session connected (1/0)', m.connected ? 1 : 0) +
    gauge('heat_ingest_spool_backlog', 'Messages spooled and not yet stored', m.spoolBacklog) +
    gauge('heat_ingest_backpressure', 'The spool bound holds PUBACKs back (1/0)', m.backpressure ? 1 : 0) +
    gauge('heat_ingest_readings_stored', 'Readings stored since start', m.readingsStored) +
    gauge('heat_ingest_rejected', 'Telemetry rejected (dead letters) since start', m.rejectedTotal)
  );
}

export async function serveIngestHealth(
  app: IngestApp,
  o: { port: number; host: string; ownSpool: boolean; logger: Logger },
): Promise<Server | undefined> {
  if (!o.port) return undefined;
  const writes = () => ingestWritePaths(app.metrics(), o.ownSpool);
  const server = createServer(
    healthRequestListener({ service: 'ingest', writes, prometheus: () => ingestPrometheus(app.metrics()), now: Date.now }),
  );
  const err = await openHealthPort(server, o.port, o.host);
  // A taken port is said loudly; the ingest itself goes on.
  if (err) o.logger.error({ err: String(err), port: o.port }, 'ingest health port not open (INGEST_HTTP_PORT)');
  return err ? undefined : server;
}
