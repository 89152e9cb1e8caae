/**
 * `npm run broker`: the broker alone. Reads the environment once, opens the registry in
 * DATA_DIR, persists sessions in DATA_DIR/broker (or Redis with REDIS_URL), listens on
 * MQTT_PORT / MQTT_WS_PORT (+ MQTT_TLS_PORT / MQTT_WSS_PORT with TLS_CERT_FILE/TLS_KEY_FILE),
 * spools telemetry into DATA_DIR/spool for the ingest unless INGEST_FEED=mqtt, and closes
 * cleanly on SIGINT/SIGTERM.
 */
// First: mqtt-packet must load with it (patches/mqtt-packet-debug.patch.ts).
import './patches/mqtt-packet-debug.patch.ts';
import { join } from 'node:path';
import pino from 'pino';
import { parseConfig } from '../domain/config.ts';
import { RegistryRepository } from '../storage/records/registry.repository.ts';
import { ensureServiceAccounts } from '../storage/records/service-accounts.ts';
import { closeOnSignals } from '../storage/shutdown.ts';
import { createBrokerApp, telemetrySpoolOptions } from './app.ts';
import { serveBrokerHealth } from './health.http.ts';
import { listenOptions } from './listeners.ts';

const config = parseConfig(process.env);
const logger = pino({
  level: config.logLevel,
  ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty' } } : {}),
});

const registry = RegistryRepository.open(config.dataDir);
ensureServiceAccounts(registry, config.dataDir, config.serviceSecret);

const app = await createBrokerApp({
  registry,
  logger,
  persistenceDir: join(config.dataDir, 'broker'),
  redisUrl: config.redisUrl,
  // INGEST_FEED=spool (default): telemetry goes into the ingest's spool in DATA_DIR here.
  ...(config.ingest.feed === 'spool' ? { telemetrySpool: telemetrySpoolOptions(config) } : {}),
});

await app.listen(listenOptions(config));

// Its own /health and /metrics (write paths): nothing else in this process serves them.
const health = await serveBrokerHealth(app, { port: config.brokerHttpPort, host: config.host, logger });

closeOnSignals(logger, { stopping: 'broker stopping', failed: 'broker close failed' }, async () => {
  health?.close();
  await app.close();
  registry.close();
});
