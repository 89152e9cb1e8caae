/**
 * Broker metrics: counters kept by the hooks, rates sampled on an interval, and the
 * Prometheus text exposition (format 0.0.4) the API serves at /metrics.
 */
import { REFUSAL_REASONS, type RefusalReason } from './access.rules.ts';
import type { TelemetrySpoolStats } from './telemetry-spool.ts';

export interface BrokerMetrics {
  readonly brokerId: string;
  readonly connectedClients: number;
  readonly connectedDevices: number;
  readonly connectedServices: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly messagesInPerSec: number;
  readonly messagesOutPerSec: number;
  readonly bytesIn: number;
  /**
   * QoS 1/2 messages stored for subscribers (online or offline) and not yet acknowledged;
   * null when not known (Redis cluster: the queue is shared, see `queueDepthSource`).
   */
  readonly queueDepth: number | null;
  /**
   * 'store': counted by the on-disk journal, exact for this broker's store (also what an
   * earlier process queued); 'process': this process' traffic since it started (in-memory and
   * LevelDB stores); 'unavailable': Redis cluster mode.
   */
  readonly queueDepthSource: 'store' | 'process' | 'unavailable';
  readonly refusals: Readonly<Record<RefusalReason, number>>;
  /** Failed CONNECTs since start (each one's refusal was slowed down, none blocks anyone). */
  readonly authFailures: number;
  /** (client id, address) pairs with repeated recent failures, whose refusals are delayed now. */
  readonly authThrottledNow: number;
  /** Connections that have not completed an accepted CONNECT yet (capped per address). */
  readonly pendingConnections: number;
  /** On-disk journal: failed writes since start (null: no journal). Each refused its callers, so no PUBACK. */
  readonly storeWriteErrors: number | null;
  /** On-disk journal: the error it is failing with now (writes refused until it recovers by itself), else null. */
  readonly storeFailing: string | null;
  /** Spool mode (telemetry-spool.ts): telemetry spooled here; null in MQTT mode. */
  readonly telemetrySpool?: TelemetrySpoolStats | null;
  readonly uptimeSec: number;
}

export class MetricsRecorder {
  connectedDevices = 0;
  connectedServices = 0;
  messagesIn = 0;
  messagesOut = 0;
  bytesIn = 0;
  readonly refusals = Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>;
  #last = { at: 0, in: 0, out: 0 };
  #rates = { in: 0, out: 0 };

  refuse(reason: RefusalReason): void {
    this.refusals[reason]++;
  }

  /** Called every `rateSampleMs`: rate over the last interval. */
  sample(now: number): void {
    const dt = (now - this.#last.at) / 1000;
    if (this.#last.at > 0 && dt > 0) {
      this.#rates = { in: (this.messagesIn - this.#last.in) / dt, out: (this.messagesOut - this.#last.out) / dt };
    }
    this.#last = { at: now, in: this.messagesIn, out: this.messagesOut };
  }

  get rates(): { in: number; out: number } {
    return this.#rates;
  }
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function toPrometheus(m: BrokerMetrics): string {
  const lines: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter', help: string, samples: [Record<string, string>, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) {
      const l = Object.entries({ broker: m.brokerId, ...labels })
        .map(([k, x]) => `${k}="${esc(x)}"`)
        .join(',');
      lines.push(`${name}{${l}} ${Number.isFinite(v) ? v : 0}`);
    }
  };
  metric('heat_broker_connected_clients', 'gauge', 'Connected MQTT clients by kind.', [
    [{ kind: 'device' }, m.connectedDevices],
    [{ kind: 'service' }, m.connectedServices],
  ]);
  metric('heat_broker_messages_in_total', 'counter', 'PUBLISH packets accepted from clients.', [[{}, m.messagesIn]]);
  metric('heat_broker_messages_out_total', 'counter', 'PUBLISH packets delivered to subscribers.', [[{}, m.messagesOut]]);
  metric('heat_broker_bytes_in_total', 'counter', 'Payload bytes accepted from clients.', [[{}, m.bytesIn]]);
  metric('heat_broker_messages_in_per_second', 'gauge', 'Accepted publishes per second (last sample interval).', [
    [{}, m.messagesInPerSec],
  ]);
  metric('heat_broker_messages_out_per_second', 'gauge', 'Deliveries per second (last sample interval).', [[{}, m.messagesOutPerSec]]);
  metric(
    'heat_broker_queue_depth',
    'gauge',
    'QoS>0 messages stored for subscribers and not yet acknowledged (source: store = exact, process = this process since start).',
    m.queueDepth === null ? [] : [[{ source: m.queueDepthSource }, m.queueDepth]],
  );
  metric(
    'heat_broker_refusals_total',
    'counter',
    'Connections and packets refused, by reason.',
    Object.entries(m.refusals).map(([reason, v]) => [{ reason }, v]),
  );
  metric('heat_broker_auth_failures_total', 'counter', 'Failed CONNECTs (refusals slowed down, nobody blocked).', [[{}, m.authFailures]]);
  metric('heat_broker_auth_throttled', 'gauge', '(client id, address) pairs whose refusals are delayed now.', [[{}, m.authThrottledNow]]);
  if (m.storeWriteErrors !== null) {
    metric('heat_broker_store_write_errors_total', 'counter', 'Failed journal writes (their PUBACKs withheld).', [
      [{}, m.storeWriteErrors],
    ]);
    metric('heat_broker_store_failing', 'gauge', '1 while the journal refuses writes (recovers by itself).', [
      [{}, m.storeFailing ? 1 : 0],
    ]);
  }
  if (m.telemetrySpool) {
    const t = m.telemetrySpool;
    metric('heat_broker_spool_messages_total', 'counter', 'Telemetry messages made durable in the ingest spool (spool mode).', [
      [{}, t.spooled],
    ]);
    metric('heat_broker_spool_backlog', 'gauge', 'Spooled telemetry not yet stored by the ingest.', [[{}, t.backlog]]);
    metric('heat_broker_spool_parked', 'gauge', 'Telemetry publishes waiting at the spool bound (no PUBACK yet).', [[{}, t.parked]]);
    metric('heat_broker_spool_write_errors_total', 'counter', 'Failed spool writes (their PUBACKs withheld).', [[{}, t.writeErrors]]);
    metric('heat_broker_spool_failing', 'gauge', '1 while spool writes fail (recovers by itself).', [[{}, t.failing ? 1 : 0]]);
  }
  metric('heat_broker_pending_connections', 'gauge', 'Connections without an accepted CONNECT yet.', [[{}, m.pendingConnections]]);
  metric('heat_broker_uptime_seconds', 'gauge', 'Seconds since the broker started.', [[{}, m.uptimeSec]]);
  return lines.join('\n') + '\n';
}
