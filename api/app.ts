/**
 * Builds the API (no port): fastify REST under /api/v1 with TypeBox schemas and OpenAPI at
 * /api/docs/json, socket.io on the same server with typed events, the MQTT consumer
 * (incidents → orders, live readings → rooms), the SLA clock, and the dashboard build.
 * server.ts listens; start.ts calls this with shared dependencies.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import { TypeBoxValidatorCompiler, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Server } from 'socket.io';
import type { Clock } from '../domain/clock.ts';
import { isLoopbackHost, type PlatformConfig } from '../domain/config.ts';
import type { LiveReading } from '../domain/events.ts';
import { IncidentEventSchema } from '../domain/incident.schema.ts';
import type { WritePathHealth } from '../domain/api.schema.ts';
import type { HeatingPolicy } from '../domain/policy.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import { RecordsHealth } from '../storage/records/records.health.ts';
import type { ReadingStore } from '../storage/readings/reading-store.ts';
import { Compile } from 'typebox/compile';
import { AuditRepository } from './audit.repository.ts';
import { AuthService } from './auth.service.ts';
import type { ApiContext, App, DeadLetterSource } from './context.ts';
import { IncidentsRepository } from './incidents.repository.ts';
import { MqttConsumer, type MqttOptions } from './mqtt.consumer.ts';
import { OrdersRepository } from './orders.repository.ts';
import { OrdersService } from './orders.service.ts';
import { OutagesRepository } from './outages.repository.ts';
import { PeopleRepository } from './people.repository.ts';
import { TopologyRepository } from './topology.repository.ts';
import { installAccessControl } from './plugins/access.plugin.ts';
import { installErrorHandling } from './plugins/errors.plugin.ts';
import { installSecurityHeaders } from './plugins/headers.plugin.ts';
import { installSocketGateway, type HeatIo } from './plugins/socket.gateway.ts';
import { registerSystemRoutes } from './routes/system.routes.ts';
import { registerAuthRoutes } from './routes/auth.routes.ts';
import { registerRegistryRoutes } from './routes/registry.routes.ts';
import { registerMeasurementRoutes } from './routes/measurements.routes.ts';
import { registerOrderRoutes } from './routes/orders.routes.ts';
import { registerOperationsRoutes } from './routes/operations.routes.ts';
import { registerDeviceRoutes } from './routes/devices.routes.ts';
import { registerOnboardingRoutes } from './routes/onboarding.routes.ts';
import { registerReplayRoutes, type ReplayControl } from './routes/replay.routes.ts';
import { logForecastMessage, registerForecastRoutes } from './routes/forecast.routes.ts';

export type { ReplayControl } from './routes/replay.routes.ts';

export { seedDemoPeople, DEMO_PASSWORD } from './demo-people.ts';
import { DEMO_PASSWORD } from './demo-people.ts';
import { CITY_ROOM, apartmentRoom, roleRoom, stationRoom, type Room } from '../domain/rooms.ts';

/** Usernames seedDemoPeople gives out (api/demo-people.ts). */
const DEMO_USERNAME = /^(dispatcher|manager|engineer|staff-.+|head-.+|resident\d+)$/;

export interface ApiDeps {
  readonly config: PlatformConfig;
  readonly registry: RegistryRepository;
  readonly store: ReadingStore;
  readonly deadLetters?: DeadLetterSource;
  readonly logger: FastifyBaseLogger;
  readonly clock: Clock;
  readonly policy: HeatingPolicy;
  readonly mqtt?: MqttOptions;
  readonly brokerMetrics?: () => unknown;
  readonly brokerPrometheus?: () => string;
  /** The broker's and ingest's durable write paths when they run in this process (start.ts), for /health and /metrics. */
  readonly writeHealth?: () => readonly WritePathHealth[];
  /** dashboard/dist; served with an SPA fallback to index.html. */
  readonly dashboardDir?: string;
  /** Replay control (simulators) for the engineer view; routes answer 503 without it. */
  readonly replay?: ReplayControl;
  /** How often the SLA clock ticks on its own, ms; 0 turns it off (tests call heat.tick()). Default 60 s. */
  readonly tickIntervalMs?: number;
}

export type { HeatIo } from './plugins/socket.gateway.ts';
export { roomsOf } from './plugins/socket.gateway.ts';

/** What the API exposes beside fastify's own interface (tests, start.ts). */
export interface HeatApi {
  readonly ctx: ApiContext;
  readonly io: HeatIo;
  /** Run the SLA/escalation clock once at clock.now(). */
  tick(): ReturnType<OrdersService['tick']>;
  /** Apply a platform message as if it came over MQTT (used by the consumer). */
  onIncidentMessage(payload: unknown): void;
  onLiveMessage(payload: unknown): void;
  metrics(): Record<string, number>;
  /** Every route registered (method, url, roles/public), e.g. for the security tests. */
  readonly routes: readonly { method: string; url: string; roles?: readonly string[]; public?: boolean }[];
}

declare module 'fastify' {
  interface FastifyInstance {
    heat: HeatApi;
  }
}

const checkIncident = Compile(IncidentEventSchema);

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app: App = Fastify({
    loggerInstance: deps.logger,
    trustProxy: false,
    bodyLimit: 5 * 1024 * 1024,
    ajv: { customOptions: { coerceTypes: 'array' } },
  })
    .setValidatorCompiler(TypeBoxValidatorCompiler)
    .withTypeProvider<TypeBoxTypeProvider>();

  const db = deps.registry.db;
  const people = new PeopleRepository(db);
  const ordersRepo = new OrdersRepository(db);
  const incidents = new IncidentsRepository(db);
  const outages = new OutagesRepository(db);
  const audit = new AuditRepository(db);
  const auth = new AuthService(people, deps.clock);

  // Whether records.db takes writes (disk full, I/O errors): /health, metrics and the 503 (issue 17).
  const records = new RecordsHealth(() => deps.clock.now());
  const counters = { http: 0, http5xx: 0, incidents: 0, incidentDuplicates: 0, liveBatches: 0, liveReadings: 0, badPlatformMessages: 0 };

  // socket.io shares the HTTP server; typed events once (domain/events.ts).
  const io: HeatIo = new Server(app.server, { serveClient: false, cors: { origin: false } });
  const stationsOfOffice = (officeId: string): string[] =>
    deps.registry
      .listStations()
      .filter((s) => s.officeId === officeId)
      .map((s) => s.id);
  // The handshake carries the bearer token; sockets belong to their session and end with it.
  const gateway = installSocketGateway(io, { auth, clock: deps.clock, ctx: { registry: deps.registry }, stationsOfOffice });

  const orders = new OrdersService({
    orders: ordersRepo,
    incidents,
    outages,
    audit,
    registry: deps.registry,
    clock: deps.clock,
    policy: deps.policy,
    people,
    pusher: {
      order: (e, rooms) => io.to([...rooms]).emit('order', e),
      incident: (e, rooms) => io.to([...rooms]).emit('incident', e),
    },
  });

  /**
   * The SLA clock, and the end of sessions that expired on it (their sockets too). A tick the
   * disk refuses (issue 17) rolled back whole — no breach, escalation or event of it is kept
   * or sent — and shows in /health; the next tick finds the same work due and does it.
   */
  const tick = (): ReturnType<OrdersService['tick']> => {
    let r: ReturnType<OrdersService['tick']>;
    let expired: number;
    try {
      gateway.sweep();
      expired = people.deleteExpiredSessions(deps.clock.now());
      r = orders.tick();
    } catch (err) {
      records.failed(err);
      throw err;
    }
    // Only a tick that wrote something says the disk takes writes again.
    if (expired || r.breaches || r.escalations || r.followUps) records.succeeded();
    return r;
  };

  let consumer: MqttConsumer | undefined;
  const ctx: ApiContext = {
    config: deps.config,
    registry: deps.registry,
    store: deps.store,
    deadLetters: deps.deadLetters,
    clock: deps.clock,
    policy: deps.policy,
    people,
    auth,
    orders,
    ordersRepo,
    incidents,
    outages,
    audit,
    topology: new TopologyRepository(db),
    async publish(topic, payload) {
      if (!consumer?.connected) return false;
      await consumer.publish(topic, payload);
      return true;
    },
    stats: { mqttConnected: () => consumer?.connected ?? false, records: () => records.state() },
  };

  const onIncidentMessage = (payload: unknown): void => {
    if (!checkIncident.Check(payload)) {
      counters.badPlatformMessages++;
      app.log.warn({ errors: checkIncident.Errors(payload).slice(0, 3) }, 'invalid incident event dropped');
      return;
    }
    counters.incidents++;
    let r: ReturnType<OrdersService['onIncident']>;
    try {
      r = orders.onIncident(payload);
    } catch (err) {
      // Not acknowledged (the consumer reconnects for redelivery); a disk fault shows in /health.
      records.failed(err);
      throw err;
    }
    records.succeeded();
    if (r.duplicate) counters.incidentDuplicates++;
  };
  const onLiveMessage = (payload: unknown): void => {
    if (!Array.isArray(payload)) {
      counters.badPlatformMessages++;
      return;
    }
    const batch = payload as LiveReading[];
    counters.liveBatches++;
    counters.liveReadings += batch.length;
    io.to(CITY_ROOM).emit('readings', batch);
    const byRoom = new Map<Room, LiveReading[]>();
    for (const r of batch) {
      for (const room of [r.stationId && stationRoom(r.stationId), r.apartmentId && apartmentRoom(r.apartmentId)]) {
        if (!room) continue;
        const list = byRoom.get(room) ?? [];
        list.push(r);
        byRoom.set(room, list);
      }
    }
    // Sockets in `city` already have the whole batch.
    for (const [room, list] of byRoom) io.to(room).except(CITY_ROOM).emit('readings', list);
  };

  const dashboardDir = deps.dashboardDir ? resolve(deps.dashboardDir) : undefined;
  const hasDashboard = !!dashboardDir && existsSync(resolve(dashboardDir, 'index.html'));

  // Errors (coded, 5xx never leak) and the not-found handler; then default-deny access on the
  // routed request (api/plugins/access.plugin.ts) before any route is added.
  installErrorHandling(app, { counters, dashboardDir: hasDashboard ? dashboardDir : undefined, records });
  // A write request answered 2xx went through records.db: the disk takes writes again. A 4xx
  // (bad body, conflict) may have written nothing, so it proves nothing; an audited refusal
  // marks the disk itself (api/plugins/access.plugin.ts).
  app.addHook('onResponse', (req, reply, done) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && reply.statusCode >= 200 && reply.statusCode < 300) records.succeeded();
    done();
  });
  await installSecurityHeaders(app);
  const access = installAccessControl(app, { auth, audit, clock: deps.clock, records });
  app.addHook('onRequest', (_req, _reply, done) => {
    counters.http++;
    done();
  });

  const heat: HeatApi = {
    get routes() {
      return access.routes();
    },
    ctx,
    io,
    tick,
    onIncidentMessage,
    onLiveMessage,
    metrics: () => ({
      ...counters,
      ...access.counters,
      sockets: io.engine.clientsCount,
      mqttConnected: consumer?.connected ? 1 : 0,
      incidentFailures: consumer?.incidentFailures ?? 0,
      recordsWriteFailures: records.state().writeFailures,
      recordsWritable: records.state().writable ? 1 : 0,
    }),
  };
  app.decorate('heat', heat);

  // First admin (logged once when generated).
  const admin = auth.ensureAdmin(deps.config.adminPassword);
  if (admin?.generatedPassword)
    app.log.warn(
      { username: admin.username, password: admin.generatedPassword },
      'first admin created with a generated password; change it',
    );

  // Demo safety (issue 13 finding 10): known demo passwords are never served beyond this machine.
  if (!isLoopbackHost(deps.config.host)) {
    const demoNames = people
      .list()
      .map((p) => p.username)
      .filter((u) => DEMO_USERNAME.test(u))
      .slice(0, 100);
    const exposed = await auth.stillUsing(demoNames, DEMO_PASSWORD);
    if (exposed.length) {
      throw new Error(
        `refusing to serve on HOST=${deps.config.host}: ${exposed.join(', ')} still sign in with the published demo password; disable them or change their passwords, or bind to 127.0.0.1 (docs/security.md)`,
      );
    }
  }

  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: 20 * 1024 * 1024 }, (_req, body, done) =>
    done(null, body),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'heatwatch API',
        version: '1.0.0',
        description: 'District-heating telemetry, incidents and service orders. Errors: docs/errors.md.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    // Shared schemas (the error shape) become named components, not `def-0`.
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });

  registerSystemRoutes(app, ctx, {
    brokerMetrics: deps.brokerMetrics,
    brokerPrometheus: deps.brokerPrometheus,
    ...(deps.writeHealth ? { writeHealth: deps.writeHealth } : {}),
    metrics: () => heat.metrics(),
  });
  registerAuthRoutes(app, ctx);
  registerRegistryRoutes(app, ctx);
  registerMeasurementRoutes(app, ctx);
  registerOrderRoutes(app, ctx);
  registerOperationsRoutes(app, ctx);
  registerDeviceRoutes(app, ctx);
  registerOnboardingRoutes(app, ctx);
  const forecastRoutes = registerForecastRoutes(app, ctx);
  registerReplayRoutes(app, deps.replay, (p) => io.to([roleRoom('admin'), roleRoom('engineer')]).emit('replay', p));

  if (hasDashboard) {
    // The dashboard's files are public: the scope marks its routes so (default-deny elsewhere).
    await app.register(async (scope) => {
      scope.addHook('onRoute', (route) => {
        route.config = { ...(route.config ?? {}), public: true };
      });
      await scope.register(fastifyStatic, { root: dashboardDir, prefix: '/', wildcard: true, index: ['index.html'] });
    });
  }

  if (deps.mqtt) {
    consumer = new MqttConsumer(
      deps.mqtt,
      {
        incident: onIncidentMessage,
        live: onLiveMessage,
        status: (deviceId, status) => outages.setDeviceStatus(deviceId, status, deps.clock.now()),
        forecast: (payload) =>
          void forecastRoutes.acceptMessage(payload).then(
            (v) => logForecastMessage(app.log, v),
            (err: unknown) => app.log.error({ err }, 'forecast not stored'),
          ),
      },
      app.log.child({ component: 'mqtt' }),
    );
  }

  const tickMs = deps.tickIntervalMs ?? 60_000;
  const timer =
    tickMs > 0
      ? setInterval(() => {
          try {
            tick();
          } catch (err) {
            app.log.error({ err }, 'SLA tick failed');
          }
        }, tickMs)
      : undefined;
  timer?.unref();

  // Upgraded websocket connections would keep the HTTP server from closing: end them first.
  app.addHook('preClose', (done) => {
    io.disconnectSockets(true);
    io.engine.close();
    done();
  });
  app.addHook('onClose', async () => {
    if (timer) clearInterval(timer);
    gateway.close();
    await new Promise<void>((r) => {
      void io.close(() => r());
    });
    await consumer?.close();
  });

  return app;
}
