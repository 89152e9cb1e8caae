/**
 * The ingest as its own process: `npm run ingest` (tsx ingest/server.ts). Reads the
 * environment once, connects as the `svc-ingest` service account with a fixed client id (the
 * persistent session must be the same one after a restart), and closes cleanly on signals.
 */
import { pino } from 'pino';
import { systemClock } from '../domain/clock.ts';
import { parseConfig } from '../domain/config.ts';
import { RegistryRepository } from '../storage/records/registry.repository.ts';
import { ensureServiceAccounts } from '../storage/records/service-accounts.ts';
import { closeOnSignals } from '../storage/shutdown.ts';
import { DeadLetterRepository } from '../storage/readings/dead-letter.repository.ts';
import { openReadingStore } from '../storage/readings/index.ts';
import type { IngestOptions } from './app.ts';
import { composeIngest } from './compose.ts';
import { serveIngestHealth } from './health.http.ts';

const config = parseConfig(process.env);
const logger = pino({ level: config.logLevel, transport: process.stdout.isTTY ? { target: 'pino-pretty' } : undefined });

/** Optional tuning for tests and the bench (config.ingest); not part of the documented environment. */
const options: { -readonly [K in keyof IngestOptions]?: IngestOptions[K] } = {};
if (config.ingest.spoolMaxMessages !== undefined) options.spoolMaxMessages = config.ingest.spoolMaxMessages;
if (config.ingest.spoolSync === 'normal') options.spoolSync = 'normal';

const registry = RegistryRepository.open(config.dataDir);
const secrets = ensureServiceAccounts(registry, config.dataDir, config.serviceSecret);
const store = await openReadingStore(config);
const deadLetters = new DeadLetterRepository(registry.db);

const { app, forecasts } = composeIngest({
  config,
  registry,
  store,
  deadLetters,
  logger,
  clock: systemClock,
  mqtt: { url: config.mqttUrl, clientId: config.ingest.clientId, username: 'svc-ingest', password: secrets['svc-ingest'] },
  options,
  rules: config.ingest.rules,
});

let health: Awaited<ReturnType<typeof serveIngestHealth>> = undefined;
closeOnSignals(logger, { stopping: 'ingest stopping', failed: 'ingest stop failed' }, async () => {
  health?.close();
  await app.stop();
  await forecasts.close();
  await store.close();
  registry.close();
});

// Its own /health and /metrics (write paths): nothing else in this process serves them.
health = await serveIngestHealth(app, {
  port: config.ingestHttpPort,
  host: config.host,
  ownSpool: config.ingest.feed === 'mqtt',
  logger,
});
await app.start();
logger.info({ mqtt: config.mqttUrl, store: config.influx ? 'influx' : 'embedded', feed: config.ingest.feed }, 'ingest started');
const metricsTimer = setInterval(() => logger.debug(app.metrics(), 'ingest metrics'), 10_000);
metricsTimer.unref();
