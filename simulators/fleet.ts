/**
 * A fleet of simulated devices that publish as real ones do (device protocol v1):
 * one MQTT connection each (client id = username = device id, password = secret, will
 * `offline` retained on status, `online` retained after connecting) or through their
 * gateway; QoS 1 JSON at their own interval; buffering while offline and sending the backlog
 * as one JSON array after reconnecting.
 *
 * Two ways to drive it:
 *  - live: a timer maps wall time to model time (`speed` = time compression: at 60 a
 *    10-minute sensor publishes every 10 s); the first reading goes out right after connect.
 *  - driven: `advanceTo(ts)` publishes everything due up to model time `ts` and resolves when
 *    the broker has acknowledged it (scenario runner, tests; no timers, deterministic).
 */
import mqtt, { type MqttClient } from 'mqtt';
import { systemClock, type Clock, MINUTE_MS } from '../domain/clock.ts';
import { policyForCity, type HeatingPolicy } from '../domain/policy.ts';
import { topics } from '../domain/topics.ts';
import type { City, Device } from '../domain/topology.schema.ts';
import { hash32 } from './random.ts';
import { Schedule, type Scheduled } from './schedule.ts';
import { ThermalModel, type FaultSpec } from './thermal.model.ts';

export interface FleetLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface FleetOptions {
  readonly city: City;
  readonly secrets: ReadonlyMap<string, string>;
  readonly mqttUrl: string;
  /** Time compression (model seconds per wall second). Default 1. */
  readonly speed?: number;
  readonly clock?: Clock;
  readonly model?: ThermalModel;
  readonly policy?: HeatingPolicy;
  readonly logger?: FleetLogger;
  /** 'per-device': one connection per device/gateway. 'shared': one service connection (needs `shared`). */
  readonly connectionMode?: 'per-device' | 'shared';
  /** Service account credentials for 'shared' (scope replay: may publish telemetry for any device). */
  readonly shared?: { readonly username: string; readonly password: string; readonly clientId?: string };
  /** Model time at start, epoch ms; default clock.now(). */
  readonly startTs?: number;
  /** 'clock': readings stamped with clock.now() (live: the ingest rejects future stamps); 'model': with model time. Default: 'clock' in live mode, 'model' when driven. */
  readonly stamp?: 'clock' | 'model';
  /** Live mode timer; false = driven only (call advanceTo). Default true. */
  readonly live?: boolean;
  /** Wall-time tick of the live timer, ms. Default 250. */
  readonly tickMs?: number;
  /** Parallel connection attempts. Default 32. */
  readonly connectConcurrency?: number;
  /** Only these devices (e.g. a sample of a huge city). */
  readonly deviceFilter?: (d: Device) => boolean;
  /** Largest backlog array per publish (policy.validation.maxBatchReadings). */
  readonly maxBatch?: number;
}

export interface FleetStats {
  readonly devices: number;
  readonly connections: number;
  readonly connected: number;
  readonly published: number;
  readonly messages: number;
  readonly buffered: number;
  readonly dropped: number;
  readonly errors: number;
  readonly modelTs: number;
}

export interface Fleet {
  stop(): Promise<void>;
  injectFault(f: FaultSpec): void;
  stats(): FleetStats;
  /** Publish everything due up to model time `ts`; resolves once acknowledged (QoS 1). */
  advanceTo(ts: number): Promise<void>;
  /** Resolves when every connection is up (or failed). */
  readonly ready: Promise<void>;
  readonly model: ThermalModel;
}

interface SimDevice extends Scheduled {
  readonly device: Device;
  readonly intervalMs: number;
  /** Connection that carries it: own id or its gateway's. */
  readonly via: string;
  readonly topic: string;
  next: number;
  backlog: Record<string, number>[];
}

interface Conn {
  readonly id: string;
  client?: MqttClient;
  connected: boolean;
  /** Devices whose backlog waits for this connection. */
  readonly devices: SimDevice[];
}

export function startFleet(opts: FleetOptions): Fleet {
  const clock = opts.clock ?? systemClock;
  const speed = opts.speed ?? 1;
  const policy = opts.policy ?? policyForCity(opts.city.policyCity);
  const log = opts.logger;
  const live = opts.live ?? true;
  const stamp = opts.stamp ?? (live ? 'clock' : 'model');
  const wallStart = clock.now();
  const simStart = opts.startTs ?? wallStart;
  const model = opts.model ?? new ThermalModel({ city: opts.city, policy, start: simStart });
  const maxBatch = opts.maxBatch ?? policy.validation.maxBatchReadings;
  const mode = opts.connectionMode ?? 'per-device';
  if (mode === 'shared' && !opts.shared) throw new Error('connectionMode shared needs service credentials (opts.shared)');

  const conns = new Map<string, Conn>();
  const devices: SimDevice[] = [];
  const schedule = new Schedule<SimDevice>();
  for (const d of opts.city.devices) {
    if (d.kind === 'gateway' || !d.enabled) continue;
    if (opts.deviceFilter && !opts.deviceFilter(d)) continue;
    const intervalMs = d.intervalMin * MINUTE_MS;
    const phase = (hash32(d.id, opts.city.seed) % 1000) / 1000;
    const via = mode === 'shared' ? '*shared*' : (d.gatewayId ?? d.id);
    const sd: SimDevice = {
      id: d.id,
      device: d,
      intervalMs,
      via,
      topic: d.gatewayId && mode === 'per-device' ? topics.gatewayTelemetry(d.gatewayId, d.id) : topics.telemetry(d.id),
      // Live: first reading right after connect; driven: spread over the first interval.
      next: live ? simStart : simStart + Math.floor(phase * intervalMs),
      backlog: [],
    };
    devices.push(sd);
    schedule.push(sd);
    let c = conns.get(via);
    if (!c) conns.set(via, (c = { id: via, connected: false, devices: [] }));
    c.devices.push(sd);
  }

  let published = 0;
  let messages = 0;
  let dropped = 0;
  let errors = 0;
  let stopped = false;
  let modelTs = simStart;

  const connect = (c: Conn): Promise<void> =>
    new Promise((resolve) => {
      const isShared = c.id === '*shared*';
      const username = isShared ? opts.shared!.username : c.id;
      const password = isShared ? opts.shared!.password : opts.secrets.get(c.id);
      if (password === undefined) {
        log?.warn({ deviceId: c.id }, 'no secret for device; not connecting');
        errors++;
        resolve();
        return;
      }
      const client = mqtt.connect(opts.mqttUrl, {
        clientId: isShared ? (opts.shared!.clientId ?? `${username}-fleet`) : c.id,
        username,
        password,
        clean: true,
        protocolVersion: 4,
        reconnectPeriod: 2000,
        connectTimeout: 15_000,
        keepalive: 60,
        // [MQTT-3.1.2-8] the broker publishes the will when the connection drops.
        ...(isShared ? {} : { will: { topic: topics.status(c.id), payload: Buffer.from('offline'), qos: 1 as const, retain: true } }),
      });
      c.client = client;
      let first = true;
      client.on('connect', () => {
        c.connected = true;
        if (!isShared) client.publish(topics.status(c.id), 'online', { qos: 1, retain: true });
        void flushBacklogs(c);
        if (first) {
          first = false;
          resolve();
        }
      });
      client.on('close', () => {
        c.connected = false;
      });
      client.on('error', (err) => {
        errors++;
        log?.warn({ deviceId: c.id, err: err.message }, 'device connection error');
        if (first && 'code' in err && (err.code === 4 || err.code === 5)) {
          // Bad credentials / not authorised: retrying will not help.
          first = false;
          client.end(true);
          resolve();
        }
      });
    });

  const publish = async (c: Conn, sd: SimDevice, payload: unknown, count: number): Promise<void> => {
    if (!c.client) return;
    try {
      await c.client.publishAsync(sd.topic, JSON.stringify(payload), { qos: 1 });
      published += count;
      messages++;
    } catch (err) {
      errors++;
      log?.debug({ deviceId: sd.device.id, err: (err as Error).message }, 'publish failed');
    }
  };

  const flushBacklogs = async (c: Conn): Promise<void> => {
    const jobs: Promise<void>[] = [];
    for (const sd of c.devices) {
      if (!sd.backlog.length || !c.connected) continue;
      // Only send when the device itself can talk again (an outage fault keeps it buffering).
      if (model.readDevice(sd.device.id, model.now).deliver !== 'now') continue;
      const items = sd.backlog;
      sd.backlog = [];
      for (let i = 0; i < items.length; i += maxBatch) {
        const chunk = items.slice(i, i + maxBatch);
        jobs.push(publish(c, sd, chunk, chunk.length));
      }
    }
    await Promise.all(jobs);
  };

  /** Produce every reading due up to model time `ts`, in time order per device. */
  const advanceTo = async (ts: number): Promise<void> => {
    if (ts < modelTs) return;
    const jobs: Promise<void>[] = [];
    // Walk forward in model time so every reading sees the model at its own time.
    for (let sd = schedule.peek(); sd && sd.next <= ts; sd = schedule.peek()) {
      schedule.pop();
      const at = sd.next;
      model.step(at);
      const out = model.readDevice(sd.device.id, at);
      const stampTs = stamp === 'model' ? at : clock.now();
      const c = conns.get(sd.via)!;
      if (out.deliver === 'drop') dropped++;
      else {
        const reading = { ts: stampTs, ...out.payload } as Record<string, number>;
        if (out.deliver === 'buffer' || !c.connected) sd.backlog.push(reading);
        else {
          if (sd.backlog.length) {
            const items = sd.backlog;
            sd.backlog = [];
            for (let i = 0; i < items.length; i += maxBatch)
              jobs.push(publish(c, sd, items.slice(i, i + maxBatch), Math.min(maxBatch, items.length - i)));
          }
          jobs.push(publish(c, sd, reading, 1));
        }
      }
      sd.next = at + sd.intervalMs;
      schedule.push(sd);
    }
    model.step(ts);
    modelTs = ts;
    await Promise.all(jobs);
  };

  const ready = (async () => {
    const list = [...conns.values()];
    const limit = opts.connectConcurrency ?? 32;
    let i = 0;
    await Promise.all(
      Array.from({ length: Math.min(limit, list.length) }, async () => {
        while (i < list.length && !stopped) await connect(list[i++]!);
      }),
    );
    log?.info({ connections: list.length, devices: devices.length }, 'fleet connected');
  })();

  let timer: NodeJS.Timeout | undefined;
  let ticking = false;
  if (live) {
    const tick = async (): Promise<void> => {
      if (ticking || stopped) return;
      ticking = true;
      try {
        await advanceTo(simStart + (clock.now() - wallStart) * speed);
      } catch (err) {
        errors++;
        log?.error({ err: (err as Error).message }, 'fleet tick failed');
      } finally {
        ticking = false;
      }
    };
    // Start ticking once the first connections exist so the first readings go out at once.
    timer = setInterval(() => void tick(), opts.tickMs ?? 250);
    timer.unref?.();
  }

  return {
    model,
    ready,
    advanceTo,
    injectFault(f) {
      model.injectFault(f);
    },
    stats() {
      let connected = 0;
      for (const c of conns.values()) if (c.connected) connected++;
      return {
        devices: devices.length,
        connections: conns.size,
        connected,
        published,
        messages,
        buffered: devices.reduce((s, d) => s + d.backlog.length, 0),
        dropped,
        errors,
        modelTs,
      };
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await ready.catch(() => undefined);
      await Promise.all(
        [...conns.values()].map(async (c) => {
          if (!c.client) return;
          // Forced close, like a device losing power: the broker publishes each will (offline).
          await c.client.endAsync(true).catch(() => undefined);
        }),
      );
    },
  };
}
