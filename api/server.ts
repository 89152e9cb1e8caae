/**
 * The API alone: reads the environment once, opens the registry and the reading store,
 * connects to the broker as svc-api, listens on HTTP_PORT, and closes cleanly on signals.
 */
import { pino } from 'pino';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseConfig } from '../domain/config.ts';
import { systemClock } from '../domain/clock.ts';
import { policyForCity } from '../domain/policy.ts';
import { RegistryRepository } from '../storage/records/registry.repository.ts';
import { ensureServiceAccounts } from '../storage/records/service-accounts.ts';
import { DeadLetterRepository, openReadingStore } from '../storage/readings/index.ts';
import { closeOnSignals } from '../storage/shutdown.ts';
import { buildApi } from './app.ts';
import { seedDemoPeople } from './demo-people.ts';

const config = parseConfig(process.env);
const logger = pino({ level: config.logLevel, ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty' } } : {}) });
const registry = RegistryRepository.open(config.dataDir);
const secrets = ensureServiceAccounts(registry, config.dataDir, config.serviceSecret);
const store = await openReadingStore(config);
if (config.demo && !registry.isEmpty()) seedDemoPeople(registry);

const app = await buildApi({
  config,
  registry,
  store,
  deadLetters: new DeadLetterRepository(registry.db),
  logger: logger.child({ service: 'api' }),
  clock: systemClock,
  policy: policyForCity(config.city),
  mqtt: { url: config.mqttUrl, clientId: 'svc-api', username: 'svc-api', password: secrets['svc-api'] },
  dashboardDir: join(dirname(fileURLToPath(import.meta.url)), '..', 'dashboard', 'dist'),
});
await app.listen({ port: config.httpPort, host: config.host });

closeOnSignals(logger, { stopping: 'api shutting down', failed: 'shutdown failed' }, async () => {
  await app.close();
  await store.close();
  registry.close();
});
