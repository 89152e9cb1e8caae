/**
 * The API's MQTT client (service account svc-api): a persistent session (clean: false) so
 * incidents published while the API was down are delivered when it returns (QoS 1); live
 * readings (QoS 0) and device status for the views; publishes registry changes so the
 * broker kicks disabled devices and the ingest refreshes its cache.
 *
 * An incident is PUBACKed only once `incident()` has returned: when it throws (the records
 * database failed), the message is not acknowledged and the connection is dropped, so the
 * broker redelivers it on the reconnect a second later (MQTT 3.1.1 redelivers only then);
 * applying an incident twice is a no-op (orders.onIncident dedups). An unreadable payload
 * can never succeed and is dropped (acknowledged), logged.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { FastifyBaseLogger } from 'fastify';
import { parseTopic, topics } from '../domain/topics.ts';

export interface MqttOptions {
  readonly url: string;
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
}

export interface MqttHandlers {
  incident(payload: unknown): void;
  live(payload: unknown): void;
  status(deviceId: string, status: string): void;
  /** Weather forecasts (issue #20), validated by the handler. */
  forecast?(payload: unknown): void;
}

export class MqttConsumer {
  readonly #client: MqttClient;
  #connected = false;
  messages = 0;
  /** Incidents not applied (handler threw): not acknowledged, redelivered after a reconnect. */
  incidentFailures = 0;
  lastIncidentError: string | undefined;

  constructor(
    opts: MqttOptions,
    handlers: MqttHandlers,
    private readonly log: FastifyBaseLogger,
  ) {
    let warned = false;
    this.#client = mqtt.connect(opts.url, {
      clientId: opts.clientId,
      username: opts.username,
      password: opts.password,
      clean: false, // persistent session: incidents queue while we are away
      protocolVersion: 4,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
    });
    this.#client.on('connect', (ack) => {
      this.#connected = true;
      warned = false;
      log.info({ sessionPresent: ack.sessionPresent }, 'mqtt connected');
      // Subscribing again on a present session is harmless and covers a broker that lost it.
      this.#client.subscribe(
        { [topics.incidents]: { qos: 1 }, [topics.live]: { qos: 0 }, [topics.allStatus]: { qos: 0 }, [topics.forecast]: { qos: 1 } },
        (err) => {
          if (err) log.error({ err }, 'mqtt subscribe failed');
        },
      );
    });
    this.#client.on('close', () => {
      this.#connected = false;
    });
    // While the broker is away MQTT.js retries every second: warn once per outage, not per retry.
    this.#client.on('error', (err) => {
      if (!warned) log.warn({ err: err.message }, 'mqtt error (retrying)');
      else log.debug({ err: err.message }, 'mqtt error');
      warned = true;
    });
    // QoS 1 incidents are applied inside handleMessage: MQTT.js sends the PUBACK only when
    // its callback is called without an error (handlers/publish.js), after 'message'.
    this.#client.handleMessage = (packet, cb) => {
      if (packet.topic !== topics.incidents) return cb();
      let body: unknown;
      try {
        body = JSON.parse(packet.payload.toString('utf8'));
      } catch (err) {
        log.warn({ topic: packet.topic, err: err instanceof Error ? err.message : String(err) }, 'mqtt message rejected');
        return cb();
      }
      try {
        handlers.incident(body);
      } catch (err) {
        this.incidentFailures++;
        this.lastIncidentError = err instanceof Error ? err.message : String(err);
        log.error({ err: this.lastIncidentError }, 'incident not applied: not acknowledged, reconnecting for redelivery');
        cb(err instanceof Error ? err : new Error(String(err)));
        this.#client.stream.destroy();
        return;
      }
      cb();
    };
    this.#client.on('message', (topic, payload) => {
      this.messages++;
      if (topic === topics.incidents) return; // handleMessage above
      try {
        const t = parseTopic(topic);
        if (t.type === 'status') {
          const text = payload.toString('utf8').trim();
          let status = text;
          if (text.startsWith('{')) {
            const v = (JSON.parse(text) as { status?: unknown }).status;
            status = typeof v === 'string' ? v : '';
          }
          handlers.status(t.deviceId, status === 'online' ? 'online' : 'offline');
          return;
        }
        if (t.type !== 'platform') return;
        const body: unknown = JSON.parse(payload.toString('utf8'));
        if (t.name === 'live') handlers.live(body);
        else if (t.name === 'forecast') handlers.forecast?.(body);
      } catch (err) {
        // A bad platform message must not stop the consumer; it is logged and dropped.
        log.warn({ topic, err: err instanceof Error ? err.message : String(err) }, 'mqtt message rejected');
      }
    });
  }

  get connected(): boolean {
    return this.#connected;
  }

  async publish(topic: string, payload: string, qos: 0 | 1 = 1): Promise<void> {
    await this.#client.publishAsync(topic, payload, { qos });
  }

  async close(): Promise<void> {
    await this.#client.endAsync();
  }
}
