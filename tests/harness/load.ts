/**
 * A simulated telemetry load for the chaos suite and the end-to-end benches: MQTT.js
 * publishers at QoS 1 as the replay service account (svc-sim may publish telemetry for any
 * device), every reading unique by (device, ts), every PUBACK counted.
 *
 * Publishers use persistent sessions (clean: false, fixed client ids): MQTT.js keeps each
 * unacknowledged QoS 1 message in its outgoing store and sends it again after a reconnect,
 * so a broker restart delays messages but loses none. A message that reaches the platform
 * twice carries the same (device, ts) and overwrites itself.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { waitFor } from './ports.ts';

export interface LoadOptions {
  readonly mqttUrl: string;
  /** Service secret (svc-sim). */
  readonly secret: string;
  readonly devices: readonly string[];
  /** Readings per second over all publishers. */
  readonly readingsPerSec: number;
  /** Readings per MQTT message (a JSON array when > 1). */
  readonly readingsPerMessage?: number;
  readonly clients?: number;
  /** Client id suffix, unique per load in one broker. */
  readonly name: string;
  /** Temperature for a device's n-th reading (default: warm, 21.00–21.09 °C). */
  readonly temp?: (deviceId: string, n: number) => number;
  /** Timer tick, ms. */
  readonly tickMs?: number;
  /** Remember every acknowledged (device, ts) in `ackedKeys`. */
  readonly track?: boolean;
  /** Called with each acknowledged message's (device, ts) pairs as its PUBACK arrives, and when it was published (performance.now()). */
  readonly onAcked?: (deviceId: string, ts: readonly number[], publishedAt: number) => void;
}

export interface Publisher {
  readonly client: MqttClient;
  /** Readings handed to publish() and not yet acknowledged. */
  pending: number;
}

/** Connect one svc-sim publisher with a persistent session. */
export async function connectPublisher(mqttUrl: string, secret: string, clientSuffix: string): Promise<MqttClient> {
  const c = mqtt.connect(mqttUrl, {
    clientId: `svc-sim-${clientSuffix}`,
    username: 'svc-sim',
    password: secret,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 250,
    connectTimeout: 5000,
    keepalive: 30,
  });
  c.on('error', () => undefined); // reconnects on its own; errors are expected around kills
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('publisher did not connect')), 10_000);
    c.once('connect', () => {
      clearTimeout(t);
      resolve();
    });
  });
  return c;
}

type Options = Required<Omit<LoadOptions, 'temp' | 'track' | 'onAcked'>> & Pick<LoadOptions, 'temp' | 'track' | 'onAcked'>;

export class TelemetryLoad {
  /** Readings handed to publish(). */
  published = 0;
  /** Readings whose message was acknowledged (PUBACK). */
  acked = 0;
  /** Publish errors (a message MQTT.js gave up on: only when a client is ended). */
  errors = 0;
  /** `${deviceId}@${ts}` of every acknowledged reading, when `track` is on (to name what went missing). */
  readonly ackedKeys = new Set<string>();
  readonly #o: Options;
  #clients: MqttClient[] = [];
  #timer: NodeJS.Timeout | undefined;
  #t0 = 0;
  #sentMessages = 0;
  #next = 0;
  readonly #lastTs = new Map<string, number>();
  readonly #n = new Map<string, number>();

  constructor(o: LoadOptions) {
    this.#o = { readingsPerMessage: 1, clients: 2, tickMs: 20, ...o };
  }

  async connect(): Promise<void> {
    for (let i = 0; i < this.#o.clients; i++)
      this.#clients.push(await connectPublisher(this.#o.mqttUrl, this.#o.secret, `${this.#o.name}-${i}`));
  }

  /** Start (or resume) publishing at the configured rate. */
  start(): void {
    if (this.#timer) return;
    this.#t0 = performance.now();
    this.#sentMessages = 0;
    const msgPerSec = this.#o.readingsPerSec / this.#o.readingsPerMessage;
    this.#timer = setInterval(() => {
      const due = Math.floor(((performance.now() - this.#t0) / 1000) * msgPerSec);
      // Never more than 2 s of catch-up in one tick (e.g. after a long GC or a paused loop).
      const n = Math.min(due - this.#sentMessages, Math.ceil(msgPerSec * 2));
      for (let i = 0; i < n; i++) this.#publishOne();
      this.#sentMessages = due;
    }, this.#o.tickMs);
  }

  /** Stop publishing new readings (what is in flight still completes). */
  pause(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Pause, then wait until every published reading is acknowledged. */
  async drain(timeoutMs = 60_000): Promise<void> {
    this.pause();
    await waitFor(() => this.acked + this.errors === this.published, {
      timeoutMs,
      what: `load ${this.#o.name} acknowledged (${this.acked}/${this.published})`,
    });
  }

  async close(): Promise<void> {
    this.pause();
    await Promise.all(this.#clients.map((c) => c.endAsync(true).catch(() => undefined)));
    this.#clients = [];
  }

  #tsFor(deviceId: string): number {
    const last = this.#lastTs.get(deviceId) ?? 0;
    const ts = Math.max(Date.now(), last + 1);
    this.#lastTs.set(deviceId, ts);
    return ts;
  }

  #publishOne(): void {
    const { devices, readingsPerMessage } = this.#o;
    const readings: { ts: number; temp: number }[] = [];
    // One device per message: the ingest may reject a mixed array; arrays are one device's backlog.
    const deviceId = devices[this.#next++ % devices.length]!;
    for (let i = 0; i < readingsPerMessage; i++) {
      const n = (this.#n.get(deviceId) ?? 0) + 1;
      this.#n.set(deviceId, n);
      readings.push({ ts: this.#tsFor(deviceId), temp: this.#o.temp ? this.#o.temp(deviceId, n) : 21 + (n % 10) / 100 });
    }
    const client = this.#clients[this.#next % this.#clients.length]!;
    const payload = JSON.stringify(readingsPerMessage === 1 ? readings[0] : readings);
    this.published += readings.length;
    const publishedAt = performance.now();
    client.publish(`heat/v1/devices/${deviceId}/telemetry`, payload, { qos: 1 }, (err) => {
      if (err) this.errors += readings.length;
      else {
        this.acked += readings.length;
        if (this.#o.track) for (const r of readings) this.ackedKeys.add(`${deviceId}@${r.ts}`);
        this.#o.onAcked?.(
          deviceId,
          readings.map((r) => r.ts),
          publishedAt,
        );
      }
    });
  }
}

/** Publish one message at QoS 1 and resolve on its PUBACK. */
export function publishAcked(c: MqttClient, topic: string, payload: string): Promise<void> {
  return new Promise((resolve, reject) => c.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
}
