/**
 * The device broker (issue 3): aedes with registry authentication, protocol v1 ACL,
 * brute-force guard, limits, on-disk or Redis persistence, and metrics. Builds without
 * listening (`listen()` opens the ports), so tests and start.ts control the lifecycle.
 */
// First: mqtt-packet must load with it (patches/mqtt-packet-debug.patch.ts).
import './patches/mqtt-packet-debug.patch.ts';
import { Socket } from 'node:net';
import { Aedes, type AedesPublishPacket, type Client } from 'aedes';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../domain/clock.ts';
import type { PlatformConfig } from '../domain/config.ts';
import { topics } from '../domain/topics.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import { subscribeRefusal, type Principal } from './access.rules.ts';
import { createAuthenticate } from './authenticate.hook.ts';
import { createAuthorizePublish } from './authorize-publish.hook.ts';
import { createAuthorizeSubscribe } from './authorize-subscribe.hook.ts';
import { remoteAddress, type BrokerContext } from './context.ts';
import { openListeners, type BoundPorts, type ListenOptions } from './listeners.ts';
import { createLoginGuard } from './login-guard.service.ts';
import { MetricsRecorder, toPrometheus, type BrokerMetrics } from './metrics.ts';
import { resolveOptions, type BrokerOptions } from './options.ts';
import { PendingConnections } from './pending-connections.ts';
import type { JournalFs } from './journal.file.ts';
import { openPersistence } from './persistence.factory.ts';
import { clientsById } from './patches/clients-map.patch.ts';
import { coalesceWrites } from './patches/coalesce-writes.patch.ts';
import { dedupeExactly } from './patches/dedupe.patch.ts';
import { limitPacketSize } from './patches/packet-size.patch.ts';
import { patchPublishOnce, type PublishOnce } from './patches/publish-once.patch.ts';
import { readWhileParked } from './patches/read-while-parked.patch.ts';
import { TelemetrySpool, type TelemetrySpoolOptions } from './telemetry-spool.ts';

export type { BrokerMetrics } from './metrics.ts';
export type { BrokerOptions } from './options.ts';
export type { ListenOptions, BoundPorts } from './listeners.ts';

export interface BrokerDeps {
  readonly registry: RegistryRepository;
  readonly logger: Logger;
  readonly options?: Partial<BrokerOptions>;
  /** On-disk persistence (LevelDB) here; omitted → in memory. Ignored when redisUrl is set. */
  readonly persistenceDir?: string;
  /** Cluster mode: shared sessions and message routing through Redis. */
  readonly redisUrl?: string;
  /** Login blocks and windows; default the system clock. */
  readonly clock?: Clock;
  /** Publish-rate time; default monotonic real time (tests may drive it). */
  readonly rateClock?: Clock;
  /** Broker id (unique per process in a cluster); default a random uuid. */
  readonly id?: string;
  /** The on-disk journal's fs calls (disk-fault tests); default node:fs. */
  readonly journalFs?: JournalFs;
  /**
   * Spool mode (telemetry-spool.ts): device telemetry is appended to the ingest's spool in
   * `dataDir` here and acknowledged once durable, instead of being routed to the ingest's
   * MQTT session. Omitted → MQTT mode. `clock`: arrival times (the ingest's clock).
   */
  readonly telemetrySpool?: Omit<TelemetrySpoolOptions, 'logger' | 'clock' | 'readAhead'> & { readonly clock?: Clock };
}

export interface BrokerApp {
  readonly aedes: Aedes;
  listen(ports: ListenOptions): Promise<BoundPorts>;
  close(): Promise<void>;
  metrics(): BrokerMetrics;
  prometheus(): string;
  /** Disconnect a device now (e.g. it was just disabled). */
  kick(deviceId: string): void;
}

/**
 * The spool bound in spool mode when INGEST_SPOOL_MAX is not set: messages on disk, not in
 * memory (~100–300 bytes each), so far more than the MQTT mode's in-memory 200,000 — a
 * Beijing-sized city's hour of readings (1.4 million) waits out a store outage in it.
 */
export const SPOOL_MODE_MAX_MESSAGES = 5_000_000;

/** Spool-mode options from the platform configuration (broker/server.ts, start.ts). */
export function telemetrySpoolOptions(config: Pick<PlatformConfig, 'dataDir' | 'ingest'>): NonNullable<BrokerDeps['telemetrySpool']> {
  return { dataDir: config.dataDir, sync: config.ingest.spoolSync, maxMessages: config.ingest.spoolMaxMessages ?? SPOOL_MODE_MAX_MESSAGES };
}

export async function createBrokerApp(deps: BrokerDeps): Promise<BrokerApp> {
  const options = resolveOptions(deps.options);
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger.child({ component: 'broker' });
  const metrics = new MetricsRecorder();
  const startedAt = clock.now();

  const spool = deps.telemetrySpool
    ? TelemetrySpool.open({
        ...deps.telemetrySpool,
        clock: deps.telemetrySpool.clock ?? clock,
        logger,
        readAhead: readWhileParked({ maxBytes: options.parkedReadAheadBytes }),
      })
    : undefined;
  const ctx: BrokerContext = {
    registry: deps.registry,
    logger,
    options,
    clock,
    rateClock: deps.rateClock ?? { now: () => performance.now() },
    metrics,
    guard: createLoginGuard(clock, options),
    principals: new WeakMap(),
    buckets: new WeakMap(),
    cutOff: new WeakSet(),
    emptyClientId: new WeakSet(),
    authenticated: (client) => pending.delete(client),
    // Called only from hooks, i.e. after `aedes` below exists.
    connectedClients: () => aedes.connectedClients,
    publishBeforeAck: (client, packet, done) => publishOnce.publishBeforeAck(client, packet, done),
    // Spooled telemetry is done: the publish aedes attempts after the PUBACK (or, QoS 0,
    // right after this hook; QoS 2, after storing it) is for the same packet and is skipped,
    // so it is neither queued for the ingest's session nor delivered to anyone. Marked before
    // the write, so no closure per message: a failed write fails the hook, and aedes then
    // attempts no publish of the packet at all (the device resends it).
    spoolTelemetry: spool
      ? (client, packet, done) => {
          publishOnce.skip(packet);
          spool.offer(client, packet.topic, packet.payload as Buffer, done);
        }
      : undefined,
  };

  // Connections without an accepted CONNECT, capped per address (options.maxPendingPerAddress).
  const pending = new PendingConnections<Client>(options.maxPendingPerAddress, (c) => {
    metrics.refuse('pre_auth_limit');
    logger.info({ address: remoteAddress(c) }, 'pending connections over the per-address cap: oldest dropped');
    c.close();
  });

  const store = openPersistence({
    persistenceDir: deps.persistenceDir,
    redisUrl: deps.redisUrl,
    // Redis emitter errors, and journal write failures (those refuse their callers: no PUBACK).
    onError: (err) => logger.error({ err }, 'persistence error'),
    ...(deps.journalFs ? { journalFs: deps.journalFs } : {}),
    // A persistent session stores only the filters the ACL grants (persistence.factory.ts grantedOnly).
    mayStoreSubscription: (client, sub) => {
      const principal = ctx.principals.get(client as Client);
      return principal !== undefined && subscribeRefusal(principal, sub.topic) === undefined;
    },
  });
  const aedes = await Aedes.createBroker({
    ...(deps.id ? { id: deps.id } : {}),
    ...(store.persistence ? { persistence: store.persistence } : {}),
    ...(store.mq ? { mq: store.mq } : {}),
    concurrency: options.concurrency,
    drainTimeout: options.drainTimeoutMs,
    connectTimeout: options.connectTimeoutMs,
    maxClientsIdLength: options.maxClientIdLength,
    // [MQTT-3.1.3-8] needs to know the CONNECT's own client id, which aedes replaces by a
    // generated one before authenticate runs; the refusal itself is authenticate's.
    preConnect: (client, packet, callback) => {
      if (!packet.clientId) ctx.emptyClientId.add(client);
      callback(null, true);
    },
    authenticate: createAuthenticate(ctx),
    authorizePublish: createAuthorizePublish(ctx),
    authorizeSubscribe: createAuthorizeSubscribe(ctx),
    authorizeForward: (_client, packet) => {
      metrics.messagesOut++;
      return packet;
    },
  });
  // Durable first (options.ackAfterStore): the publish hook runs aedes' publish before the
  // PUBACK, and the publish aedes attempts after it is skipped. A failed store fails the hook:
  // the connection is closed, no PUBACK, the client resends.
  const publishOnce: PublishOnce = patchPublishOnce(aedes);

  // Queue depth (metrics.ts `queueDepth`): QoS>0 messages stored for subscribers and not yet
  // acknowledged. The journal holds every session's queue in memory and counts it exactly,
  // including what a previous process queued. Other stores are estimated from this process'
  // own traffic (enqueued here minus acknowledged here, a session's entries dropped when it
  // reconnects clean, as aedes then clears its queue); with Redis the queue is shared by the
  // cluster — a message enqueued on one node is acknowledged on another — so there is no
  // per-process figure to give, and none is kept (it would only grow).
  const estimating = store.kind === 'memory' || store.kind === 'level';
  const estimate = new Map<string, Set<string>>(); // client id → brokerId \0 brokerCounter
  let estimated = 0;
  if (estimating) {
    type P = { brokerId?: string; brokerCounter?: number };
    const key = (p: P) => `${p.brokerId}\0${p.brokerCounter}`;
    const p = (
      aedes as unknown as { persistence: { outgoingEnqueueCombi(subs: { clientId: string }[], packet: P, cb?: unknown): unknown } }
    ).persistence;
    const enqueue = p.outgoingEnqueueCombi.bind(p);
    p.outgoingEnqueueCombi = (subs, packet, cb) => {
      for (const sub of subs) {
        let q = estimate.get(sub.clientId);
        if (!q) estimate.set(sub.clientId, (q = new Set()));
        const before = q.size;
        q.add(key(packet));
        estimated += q.size - before;
      }
      return enqueue(subs, packet, cb);
    };
    aedes.on('ack', (packet, client) => {
      const q = packet && client ? estimate.get(client.id) : undefined;
      if (q?.delete(key(packet as P))) estimated--;
    });
    aedes.on('client', (client) => {
      const q = client.clean ? estimate.get(client.id) : undefined;
      if (q) {
        estimated -= q.size;
        estimate.delete(client.id);
      }
    });
  }
  const queueDepth = (): { depth: number | null; source: BrokerMetrics['queueDepthSource'] } =>
    store.journal
      ? { depth: store.journal.stats().queued, source: 'store' }
      : estimating
        ? { depth: estimated, source: 'process' }
        : { depth: null, source: 'unavailable' };
  const clients = () => clientsById(aedes);

  // Errors are events; the host logs them (CONVENTIONS.md 8). Refusals are logged by the hooks.
  aedes.on('clientError', (client, err) => {
    // Every write pending on the stuck socket fails with this error: count the client once.
    if (err.message === 'drain timeout' && client && !ctx.cutOff.has(client)) {
      ctx.cutOff.add(client);
      metrics.refuse('drain_timeout');
      logger.info({ clientId: client?.id }, 'slow subscriber dropped (drain timeout)');
    } else logger.debug({ clientId: client?.id, err: err.message }, 'client error');
  });
  // Before its CONNECT a client has no id, and aedes reports its errors as connection errors.
  aedes.on('connectionError', (client, err) => {
    if (err.message === 'connect did not arrive in time') {
      metrics.refuse('connect_timeout');
      logger.info({ address: client && remoteAddress(client) }, 'no CONNECT before the deadline: connection closed');
    } else logger.debug({ clientId: client?.id, err: err.message }, 'connection error');
  });
  aedes.on('client', (client) => {
    const p = ctx.principals.get(client);
    if (p?.kind === 'device') metrics.connectedDevices++;
    else if (p?.kind === 'service') metrics.connectedServices++;
  });
  aedes.on('clientDisconnect', (client) => {
    store.connectionClosed?.(client);
    const p = ctx.principals.get(client);
    if (p?.kind === 'device') metrics.connectedDevices--;
    else if (p?.kind === 'service') metrics.connectedServices--;
  });
  // A disabled or deleted device (registry change notice or sweep) is disconnected now.
  const kick = (deviceId: string) => {
    const c = clients()[deviceId];
    const p = c && ctx.principals.get(c);
    if (!c || p?.kind !== 'device') return;
    metrics.refuse('kicked');
    logger.info({ deviceId }, 'device kicked');
    c.close();
  };

  /** Compare connected devices with the registry: kick the disabled, refresh gateway lists. */
  const reconcile = (deviceId?: string) => {
    try {
      if (deviceId) {
        const d = deps.registry.getDevice(deviceId);
        if (!d || !d.enabled) kick(deviceId);
      } else {
        // Every connected device against its record: catches deletions as well as disabling.
        for (const [id, c] of Object.entries(clients())) {
          if (c && ctx.principals.get(c)?.kind === 'device' && !deps.registry.getDevice(id)?.enabled) kick(id);
        }
      }
      for (const c of Object.values(clients())) {
        const p: Principal | undefined = c && ctx.principals.get(c);
        if (p?.kind === 'device' && p.isGateway)
          p.gatewayDevices = new Set(deps.registry.listDevices({ gatewayId: p.id }).map((d) => d.id));
      }
    } catch (err) {
      logger.warn({ err }, 'registry reconcile failed');
    }
  };

  // The API announces registry changes on heat/v1/platform/registry; in a cluster the
  // Redis emitter brings them to every node.
  const onRegistryChange = (packet: AedesPublishPacket, cb: () => void) => {
    let deviceId: string | undefined;
    try {
      const body = JSON.parse(packet.payload.toString()) as { deviceId?: unknown };
      if (typeof body.deviceId === 'string') deviceId = body.deviceId;
    } catch {
      // An unreadable notice still means "something changed": full sweep.
    }
    reconcile(deviceId);
    cb();
  };
  await new Promise<void>((resolve) => aedes.subscribe(topics.registryChanged, onRegistryChange, resolve));

  const timers = [
    setInterval(() => reconcile(), options.registryPollMs),
    setInterval(() => {
      metrics.sample(clock.now());
      ctx.guard.prune();
    }, options.rateSampleMs),
  ];
  for (const t of timers) t.unref();

  let listeners: Awaited<ReturnType<typeof openListeners>> | undefined;
  const maxPacket = options.maxPacketBytes;

  /** Hand a connection to aedes, with the packet-size limit enforced while parsing. */
  const handle = (stream: Parameters<Aedes['handle']>[0], req?: Parameters<Aedes['handle']>[1]) => {
    // TCP and TLS sockets (the WebSocket duplex writes frames through ws, which does its own).
    if (stream instanceof Socket) coalesceWrites(stream);
    const client = aedes.handle(stream, req);
    // A message overtaken at the emitter (a QoS 0 one past a QoS 1 one still being stored) is
    // delivered, not dropped as a duplicate (issue 17; patches/dedupe.patch.ts).
    dedupeExactly(client);
    pending.add(stream instanceof Socket ? stream.remoteAddress : req?.socket.remoteAddress, client);
    stream.once('close', () => pending.delete(client));
    // aedes has no packet-size option: cut the connection once the remaining length is parsed.
    limitPacketSize(client, maxPacket, (bytes) => {
      metrics.refuse('packet_too_large');
      logger.info({ clientId: client.id, bytes }, 'packet too large: connection cut');
    });
    return client;
  };

  const snapshot = (): BrokerMetrics => ({
    brokerId: aedes.id,
    connectedClients: aedes.connectedClients,
    connectedDevices: metrics.connectedDevices,
    connectedServices: metrics.connectedServices,
    messagesIn: metrics.messagesIn,
    messagesOut: metrics.messagesOut,
    messagesInPerSec: metrics.rates.in,
    messagesOutPerSec: metrics.rates.out,
    bytesIn: metrics.bytesIn,
    ...(({ depth, source }) => ({ queueDepth: depth, queueDepthSource: source }))(queueDepth()),
    refusals: { ...metrics.refusals },
    authFailures: ctx.guard.failuresTotal,
    authThrottledNow: ctx.guard.throttledNow,
    pendingConnections: pending.size,
    ...(() => {
      const j = store.journal?.stats();
      return { storeWriteErrors: j ? j.writeErrors : null, storeFailing: j ? j.failing : null };
    })(),
    telemetrySpool: spool ? spool.stats() : null,
    uptimeSec: Math.round((clock.now() - startedAt) / 1000),
  });

  let closing: Promise<void> | undefined;
  return {
    aedes,
    async listen(ports) {
      if (listeners) throw new Error('broker already listening');
      // A WebSocket frame is refused at its header past one MQTT packet (+ 5 bytes of fixed
      // header), before ws buffers it: ws' own default (100 MiB) let 8 frames take 1 GB.
      listeners = await openListeners(handle, ports, { wsMaxPayloadBytes: maxPacket + 5, backlog: options.listenBacklog });
      logger.info(
        { ...listeners.ports, persistence: store.kind, brokerId: aedes.id, telemetry: spool ? 'spool' : 'mqtt' },
        'broker listening',
      );
      return listeners.ports;
    },
    close() {
      closing ??= (async () => {
        for (const t of timers) clearInterval(t);
        const stopListening = listeners?.close();
        await new Promise<void>((resolve) => aedes.close(() => resolve()));
        await stopListening;
        await spool?.close();
        await store.close();
      })();
      return closing;
    },
    metrics: snapshot,
    prometheus: () => toPrometheus(snapshot()),
    kick,
  };
}
