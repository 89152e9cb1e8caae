/**
 * `npm run broker` alone (issue 17): its own health port, BROKER_HTTP_PORT (0: none). GET
 * /health lists the broker's durable write paths (journal, telemetry spool) and says `degraded`
 * while one fails; GET /metrics is its Prometheus text with those paths. Under `npm start` the
 * API's /api/v1/health shows the same paths instead (domain/write-health.ts).
 */
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { brokerWritePaths, healthRequestListener, openHealthPort } from '../domain/write-health.ts';
import type { BrokerApp } from './app.ts';

export async function serveBrokerHealth(app: BrokerApp, o: { port: number; host: string; logger: Logger }): Promise<Server | undefined> {
  if (!o.port) return undefined;
  const server = createServer(
    healthRequestListener({
      service: 'broker',
      writes: () => brokerWritePaths(app.metrics()),
      prometheus: () => app.prometheus(),
      now: Date.now,
    }),
  );
  // A health port taken by another process is said loudly; the broker itself goes on.
  const err = await openHealthPort(server, o.port, o.host);
  if (err) o.logger.error({ err: String(err), port: o.port }, 'broker health port not open (BROKER_HTTP_PORT)');
  return err ? undefined : server;
}
