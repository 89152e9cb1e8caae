/**
 * `npm start`: every service in one process on embedded defaults — broker, ingest, API
 * (with the dashboard) and, when the database is empty and DEMO is on, a demo city and its
 * simulated devices. The services still talk to each other only over MQTT and share only
 * the repositories in DATA_DIR, exactly as when each runs alone.
 *
 * `startPlatform()` is also the in-process harness of the integration and browser tests.
 */
// First: mqtt-packet must load with it (patches/mqtt-packet-debug.patch.ts).
import './broker/patches/mqtt-packet-debug.patch.ts';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino, type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApi } from './api/app.ts';
import { seedDemoPeople, type DemoAccount } from './api/demo-people.ts';
import { writePaths } from './domain/write-health.ts';
import { createBrokerApp, telemetrySpoolOptions, type BrokerApp } from './broker/app.ts';
import { listenOptions } from './broker/listeners.ts';
import { systemClock, type Clock } from './domain/clock.ts';
import { parseConfig, type PlatformConfig } from './domain/config.ts';
import { policyForCity } from './domain/policy.ts';
import type { City } from './domain/topology.schema.ts';
import type { IngestApp, IngestOptions } from './ingest/app.ts';
import { composeIngest } from './ingest/compose.ts';
import { demoCity } from './simulators/city.generator.ts';
import { startFleet, type Fleet } from './simulators/fleet.ts';
import { startForecastPublisher, type ForecastPublisher } from './simulators/forecast.publisher.ts';
import { createReplayControl } from './simulators/replay.control.ts';
import { DemoClock } from './simulators/demo.clock.ts';
import { pickDemoTargets, type DemoPicks } from './simulators/demo.day.ts';
import { demoFaultsThrough, loadDemoDayState, runDemoDay, type DemoDay, type DemoDayState } from './simulators/demo.runner.ts';
import { ThermalModel } from './simulators/thermal.model.ts';
import { RegistryRepository } from './storage/records/registry.repository.ts';
import { ensureServiceAccounts, type ServiceSecrets } from './storage/records/service-accounts.ts';
import { DeadLetterRepository, openReadingStore, type ReadingStore } from './storage/readings/index.ts';
import { closeOnSignals } from './storage/shutdown.ts';

const root = dirname(fileURLToPath(import.meta.url));

export interface PlatformOptions {
  readonly config: PlatformConfig;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /**
   * false → no fleet. A number: the fleet's time compression (model seconds per wall second)
   * when the demo day is off; the demo day runs its devices on the platform clock (1×).
   */
  readonly fleetSpeed?: number | false;
  /**
   * The demo city lives a heating day (simulators/demo.day.ts): faults on a daily schedule and,
   * on a fresh data dir, the morning pre-rolled on the demo clock before the API opens.
   * Default on with the demo city and its fleet, unless a clock is injected.
   */
  readonly demoDay?: boolean;
  /** Replace the demo city (tests use smaller or special ones). */
  readonly city?: { readonly city: City; readonly secrets: ReadonlyMap<string, string> };
  readonly ingestOptions?: Partial<IngestOptions>;
  /** API SLA clock tick, ms (0: tests tick by hand). */
  readonly apiTickIntervalMs?: number;
}

export interface Platform {
  readonly config: PlatformConfig;
  readonly httpUrl: string;
  readonly mqttUrl: string;
  readonly ports: { readonly mqtt: number; readonly ws: number; readonly http: number };
  readonly registry: RegistryRepository;
  readonly store: ReadingStore;
  readonly broker: BrokerApp;
  readonly ingest: IngestApp;
  readonly api: FastifyInstance;
  readonly fleet?: Fleet;
  readonly demoAccounts: readonly DemoAccount[];
  readonly adminPassword?: string;
  /** Each service account's MQTT password (storage/records/service-accounts.ts). */
  readonly serviceSecrets: ServiceSecrets;
  /** Device secrets of the demo city (plain), for tests and the engineer console. */
  readonly deviceSecrets: ReadonlyMap<string, string>;
  stop(): Promise<void>;
}

/**
 * Demo device secrets: the generator derives them from its public seed, so anyone could
 * recompute them. Re-key them with a random per-installation key kept in DATA_DIR.
 */
function localDemoSecrets(dataDir: string, ids: Iterable<string>): Map<string, string> {
  const file = join(dataDir, 'demo-device-key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  }
  const key = readFileSync(file, 'utf8').trim();
  const out = new Map<string, string>();
  for (const id of ids) out.set(id, createHmac('sha256', key).update(id).digest().subarray(0, 16).toString('base64url'));
  return out;
}

/** The demo's planned outage goes through the public API with the demo dispatcher's session (N9 checks apply). */
async function announceAsDispatcher(api: FastifyInstance, accounts: readonly DemoAccount[], body: unknown): Promise<void> {
  const who = accounts.find((a) => a.role === 'dispatcher');
  if (!who) throw new Error('no demo dispatcher account');
  const login = await api.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username: who.username, password: who.password },
  });
  if (login.statusCode !== 200) throw new Error(`demo dispatcher login: ${login.statusCode}`);
  const { token } = login.json<{ token: string }>();
  const r = await api.inject({
    method: 'POST',
    url: '/api/v1/outages',
    headers: { authorization: `Bearer ${token}` },
    payload: body as Record<string, unknown>,
  });
  await api.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${token}` } });
  if (r.statusCode >= 300) throw new Error(`outage: ${r.statusCode} ${r.body}`);
}

export async function startPlatform(opts: PlatformOptions): Promise<Platform> {
  const { config } = opts;
  const logger = opts.logger ?? pino({ level: config.logLevel });
  const policy = policyForCity(config.city);
  mkdirSync(config.dataDir, { recursive: true });

  const registry = RegistryRepository.open(config.dataDir);
  const fresh = registry.isEmpty();
  const withDemoDay = !opts.city && config.demo && opts.fleetSpeed !== false && !opts.clock && opts.demoDay !== false;
  const dayFile = join(config.dataDir, 'demo-day.json');
  const dayState: DemoDayState | undefined = withDemoDay ? loadDemoDayState(dayFile, fresh, Date.now()) : undefined;
  // A fresh demo day starts its clock at the day's anchor and lives the morning before opening.
  const prerollClock = dayState && fresh ? new DemoClock(dayState.anchorTs) : undefined;
  const clock: Clock = opts.clock ?? prerollClock ?? systemClock;
  const serviceSecrets = ensureServiceAccounts(registry, config.dataDir, config.serviceSecret);

  let deviceSecrets: ReadonlyMap<string, string> = new Map();
  let demoAccounts: DemoAccount[] = [];
  let city: City | undefined;
  let picks: DemoPicks | undefined;
  if (opts.city) {
    city = opts.city.city;
    deviceSecrets = opts.city.secrets;
    if (registry.isEmpty()) registry.loadCity(city, deviceSecrets);
  } else if (config.demo) {
    const demo = demoCity();
    city = demo.city;
    deviceSecrets = localDemoSecrets(config.dataDir, demo.secrets.keys());
    if (registry.isEmpty()) {
      registry.loadCity(city, deviceSecrets);
      logger.info({ stations: city.stations.length, apartments: city.apartments.length, devices: city.devices.length }, 'demo city loaded');
    }
  }
  if (city && dayState) picks = pickDemoTargets(city, policy);
  if (city) demoAccounts = seedDemoPeople(registry, { clock, residentApartments: picks?.residentApartments });

  const broker = await createBrokerApp({
    registry,
    logger,
    persistenceDir: join(config.dataDir, 'broker'),
    redisUrl: config.redisUrl,
    // Login windows and uptime are wall-clock matters, also while the demo clock pre-rolls.
    clock: opts.clock ?? systemClock,
    // Spool mode (default, INGEST_FEED): telemetry goes into the ingest's spool right here;
    // arrival times on the ingest's clock, which validates against them.
    ...(config.ingest.feed === 'spool' ? { telemetrySpool: { ...telemetrySpoolOptions(config), clock } } : {}),
  });
  const bound = await broker.listen(listenOptions(config));
  const mqttUrl = `mqtt://127.0.0.1:${bound.mqttPort}`;

  const store = await openReadingStore(config);
  const deadLetters = new DeadLetterRepository(registry.db);

  // The rules on a live topology (ingest/rules.port.ts), restored from the last snapshot.
  const { app: ingest, forecasts: ingestForecasts } = composeIngest({
    config,
    registry,
    store,
    deadLetters,
    logger,
    clock,
    mqtt: { url: mqttUrl, clientId: 'svc-ingest', username: 'svc-ingest', password: serviceSecrets['svc-ingest'] },
    options: opts.ingestOptions,
  });
  await ingest.start();

  // The engineer console's replays are sandboxed: what they find stays with the run (GET /api/v1/replay/:id),
  // never on the live sockets, map or order board.
  const replay = createReplayControl({
    scenariosDir: join(root, 'scenarios'),
    filesDir: join(config.dataDir, 'replay'),
    city: () => registry.city(),
    onError: (runId, err) => logger.error({ runId, err: String(err) }, 'replay failed'),
  });
  const api = await buildApi({
    config,
    registry,
    store,
    deadLetters,
    logger: logger.child({ service: 'api' }),
    clock,
    policy,
    mqtt: { url: mqttUrl, clientId: 'svc-api', username: 'svc-api', password: serviceSecrets['svc-api'] },
    brokerMetrics: () => broker.metrics(),
    brokerPrometheus: () => broker.prometheus(),
    writeHealth: () => writePaths(broker.metrics(), ingest.metrics()),
    dashboardDir: join(root, 'dashboard', 'dist'),
    tickIntervalMs: opts.apiTickIntervalMs,
    replay,
  });

  let fleet: Fleet | undefined;
  let demoDay: DemoDay | undefined;
  let weather: ForecastPublisher | undefined;
  if (city && picks && dayState) {
    const start = clock.now();
    const { faults, lastCycle } = demoFaultsThrough(picks, dayState.anchorTs, start + 24 * 3_600_000);
    fleet = startFleet({
      city,
      secrets: deviceSecrets,
      mqttUrl,
      speed: 1,
      clock,
      policy,
      stamp: 'model',
      model: new ThermalModel({ city, policy, start, faults }),
      logger: logger.child({ service: 'sim' }),
    });
    const demoLog = logger.child({ service: 'demo' });
    // Issue #20: the demo's weather service publishes the model's own weather as an hourly
    // forecast with realistic error, over MQTT from the simulator's service account (as an
    // outside feed would), so the tomorrow map and predicted_cold work on the demo.
    const model = fleet.model;
    weather = startForecastPublisher({
      mqttUrl,
      username: 'svc-sim',
      password: serviceSecrets['svc-sim'],
      policyCity: config.city,
      outdoor: (ts) => model.outdoorTemp(ts),
      clock,
      seed: city.seed,
      logger: logger.child({ service: 'weather' }),
    });
    demoDay = runDemoDay({
      picks,
      policy,
      state: dayState,
      stateFile: dayFile,
      clock,
      prerollClock,
      fleet,
      injectedThroughCycle: lastCycle,
      processed: () => {
        const m = ingest.metrics();
        return m.readingsStored + m.rejectedTotal;
      },
      announceOutage: (body) => announceAsDispatcher(api, demoAccounts, body),
      logger: demoLog,
    });
    await demoDay.ready;
  } else if (city && opts.fleetSpeed !== false) {
    fleet = startFleet({
      city,
      secrets: deviceSecrets,
      mqttUrl,
      speed: opts.fleetSpeed ?? 60,
      clock,
      policy,
      logger: logger.child({ service: 'sim' }),
    });
  }

  await api.listen({ port: config.httpPort, host: config.host });
  const addr = api.server.address();
  const httpPort = typeof addr === 'object' && addr ? addr.port : config.httpPort;

  let stopped = false;
  return {
    config,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    mqttUrl,
    ports: { mqtt: bound.mqttPort, ws: bound.wsPort, http: httpPort },
    registry,
    store,
    broker,
    ingest,
    api,
    fleet,
    demoAccounts,
    adminPassword: config.adminPassword,
    serviceSecrets,
    deviceSecrets,
    async stop() {
      if (stopped) return;
      stopped = true;
      demoDay?.stop();
      await weather?.stop();
      await fleet?.stop();
      await api.close();
      await ingest.stop();
      await ingestForecasts.close();
      await broker.close();
      await store.close();
      registry.close();
    },
  };
}

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  const logger = pino({
    level: config.logLevel,
    ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname' } } } : {}),
  });
  if (!existsSync(join(root, 'dashboard', 'dist', 'index.html'))) logger.warn('dashboard not built: run `npm run build` (npm start does)');
  const platform = await startPlatform({ config, logger });
  const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
  const lines = [
    '',
    `  heatwatch is running (data in ${resolve(config.dataDir)})`,
    `  dashboard   http://${host}:${platform.ports.http}/`,
    `  API         http://${host}:${platform.ports.http}/api/v1  (OpenAPI: /api/docs/json)`,
    `  MQTT        mqtt://${host}:${platform.ports.mqtt}  ws://${host}:${platform.ports.ws}`,
  ];
  if (platform.demoAccounts.length) {
    lines.push('  demo logins:');
    for (const a of platform.demoAccounts.slice(0, 8)) lines.push(`    ${a.role.padEnd(14)} ${a.username} / ${a.password}`);
  }
  lines.push('  Ctrl-C stops it.', '');
  process.stdout.write(lines.join('\n') + '\n');

  closeOnSignals(logger, { stopping: 'stopping', failed: 'stop failed' }, () => platform.stop());
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
