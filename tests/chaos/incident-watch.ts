/**
 * Watches the incidents the ingest publishes (topics.incidents) from the chaos suite, so a cold
 * apartment's incident that never reaches the API is named by where it was lost: never
 * published by the ingest (the rules did not raise it, or it went before the broker), or
 * published and not applied by the API. A persistent session of its own (svc-api's
 * account, another client id): the broker keeps what is published while it is disconnected.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '../../domain/topics.ts';

export interface SeenIncident {
  readonly type: string;
  readonly kind: string;
  readonly subjectId: string;
  /** performance.now() at arrival. */
  readonly at: number;
}

export class IncidentWatch {
  readonly seen: SeenIncident[] = [];
  #client: MqttClient | undefined;

  async connect(mqttUrl: string, password: string): Promise<void> {
    const c = mqtt.connect(mqttUrl, {
      clientId: 'svc-api-chaos-watch',
      username: 'svc-api',
      password,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 250,
      connectTimeout: 5000,
    });
    this.#client = c;
    c.on('error', () => undefined); // reconnects on its own around broker kills
    c.on('message', (_topic, payload) => {
      try {
        const e = JSON.parse(String(payload)) as { type?: string; incident?: { kind?: string; subjectId?: string } };
        this.seen.push({
          type: e.type ?? '?',
          kind: e.incident?.kind ?? '?',
          subjectId: e.incident?.subjectId ?? '?',
          at: performance.now(),
        });
      } catch {
        this.seen.push({ type: 'unreadable', kind: '?', subjectId: '?', at: performance.now() });
      }
    });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('incident watch did not connect')), 10_000);
      c.once('connect', () => {
        clearTimeout(t);
        resolve();
      });
    });
    await c.subscribeAsync(topics.incidents, { qos: 1 });
  }

  /** What the watch saw for `subjectId`, as one line for a failure message. */
  about(subjectId: string, since: number): string {
    const mine = this.seen.filter((s) => s.subjectId === subjectId);
    if (!mine.length) return `the ingest never published an incident for ${subjectId} (of ${this.seen.length} incident messages seen)`;
    return `the ingest published for ${subjectId}: ${mine.map((s) => `${s.type} ${s.kind} at ${Math.round(s.at - since)} ms`).join(', ')} (the API did not apply it)`;
  }

  async close(): Promise<void> {
    await this.#client?.endAsync(true).catch(() => undefined);
  }
}
