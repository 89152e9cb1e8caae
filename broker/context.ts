/** What the hooks share: dependencies, limits, counters and per-client state. */
import type { Client, PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.ts';
import type { RegistryRepository } from '../storage/records/registry.repository.ts';
import type { Principal, RefusalReason } from './access.rules.ts';
import type { LoginGuard } from './login-guard.service.ts';
import type { MetricsRecorder } from './metrics.ts';
import type { BrokerOptions } from './options.ts';
import type { PublishBucket } from './rate-limit.ts';

export interface BrokerContext {
  readonly registry: RegistryRepository;
  readonly logger: Logger;
  readonly options: BrokerOptions;
  /** Event/wall clock: login blocks and windows (driven in tests and replays). */
  readonly clock: Clock;
  /**
   * Monotonic real time for publish rates: a rate limit protects the broker's real
   * resources, so it must not follow a replay clock running at 1000× (or standing still).
   */
  readonly rateClock: Clock;
  readonly metrics: MetricsRecorder;
  readonly guard: LoginGuard;
  /** Who each authenticated client is; set by authenticate, read by the authorize hooks. */
  readonly principals: WeakMap<Client, Principal>;
  readonly buckets: WeakMap<Client, PublishBucket>;
  /** Clients already counted as refused for a given reason (count a flood once, not per packet). */
  readonly cutOff: WeakSet<Client>;
  /** Clients whose CONNECT carried a zero-length client id (aedes then assigns one). */
  readonly emptyClientId: WeakSet<Client>;
  /** The client's CONNECT was accepted: it no longer counts as pending for its address. */
  authenticated(client: Client): void;
  connectedClients(): number;
  /**
   * Run aedes' publish (retained store, offline queues, delivery) for a client's QoS 1
   * PUBLISH before its PUBACK is written; see `ackAfterStore` in options.ts and app.ts.
   */
  publishBeforeAck(client: Client, packet: PublishPacket, done: (error?: Error | null) => void): void;
  /** Spool mode: append a telemetry PUBLISH to the ingest's spool, `done` once durable (telemetry-spool.ts). */
  readonly spoolTelemetry?: (client: Client, packet: PublishPacket, done: (error?: Error | null) => void) => void;
}

/** Error whose CONNACK return code aedes sends back (5 = not authorized) [MQTT-3.2.2.3]. */
export function refusal(reason: RefusalReason, returnCode = 5): Error & { returnCode: number; reason: RefusalReason } {
  return Object.assign(new Error(`refused: ${reason}`), { returnCode, reason });
}

export function remoteAddress(client: Client): string | undefined {
  const c = client.conn as { remoteAddress?: string; socket?: { remoteAddress?: string } } | undefined;
  return (
    c?.remoteAddress ??
    c?.socket?.remoteAddress ??
    (client.req as { socket?: { remoteAddress?: string } } | undefined)?.socket?.remoteAddress
  );
}
