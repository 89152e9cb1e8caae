/**
 * Broker limits and tunables: one defaults object, units in the names (CONVENTIONS.md 6).
 * Everything here can be overridden per instance (`createBrokerApp({ options })`); values
 * are clamped in `resolveOptions` with the reason stated.
 */
export interface BrokerOptions {
  /** Largest MQTT packet accepted (remaining length, bytes); bigger → connection cut. */
  readonly maxPacketBytes: number;
  /** Connected clients per broker process; CONNACK 3 (server unavailable) beyond. */
  readonly maxConnections: number;
  /** Sustained publishes per device connection per second (token bucket refill; service accounts exempt). */
  readonly publishRatePerSec: number;
  /** Publishes a client may send at once before it is slowed down (bucket size). */
  readonly publishBurst: number;
  /**
   * A client more than this many publishes behind its allowance is flooding, not bursting:
   * it is disconnected instead of being slowed further.
   */
  readonly publishFloodCutoff: number;
  /** A subscriber whose socket does not drain within this time is disconnected (aedes). */
  readonly drainTimeoutMs: number;
  /** Max messages in flight through the emitter at once (aedes `concurrency`). */
  readonly concurrency: number;
  /** Waiting time for the CONNECT packet after the TCP handshake. */
  readonly connectTimeoutMs: number;
  /** Failed logins per client id within `authWindowMs` before it is blocked. */
  readonly authFailuresPerClientId: number;
  /** Failed logins per remote address within `authWindowMs` before it is blocked (NAT → higher). */
  readonly authFailuresPerAddress: number;
  /** Window in which failures are counted. */
  readonly authWindowMs: number;
  /** How long a blocked client id / address is refused without checking credentials. */
  readonly authBlockMs: number;
  /** Delay added to a refused CONNACK per recent failure of that client id (slow-down). */
  readonly authFailureDelayMs: number;
  /** Upper bound of that delay. */
  readonly authFailureDelayMaxMs: number;
  /** Sweep of connected devices against the registry (disabled → kicked), besides change events. */
  readonly registryPollMs: number;
  /** Interval of the messages-per-second sampler. */
  readonly rateSampleMs: number;
  /** Longest client id accepted (aedes `maxClientsIdLength`; device ids are ≤ 64 chars). */
  readonly maxClientIdLength: number;
  /**
   * Durable first: the PUBACK of a QoS 1 PUBLISH is written only once the message is stored
   * for every persistent subscriber (and handed to the online ones). aedes alone acknowledges
   * first and stores after, so a broker killed in between loses acknowledged messages.
   */
  readonly ackAfterStore: boolean;
}

export const brokerDefaults: BrokerOptions = Object.freeze({
  maxPacketBytes: 256 * 1024, // a sensor backlog after a long outage fits easily
  maxConnections: 100_000,
  publishRatePerSec: 20,
  publishBurst: 200, // a backlog flushed after an outage is a burst, not a flood
  publishFloodCutoff: 2_000,
  drainTimeoutMs: 30_000,
  concurrency: 1_000,
  connectTimeoutMs: 30_000,
  authFailuresPerClientId: 5,
  authFailuresPerAddress: 100,
  authWindowMs: 5 * 60_000,
  authBlockMs: 10 * 60_000,
  authFailureDelayMs: 200,
  authFailureDelayMaxMs: 2_000,
  registryPollMs: 30_000,
  rateSampleMs: 1_000,
  maxClientIdLength: 128,
  ackAfterStore: true,
});

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export function resolveOptions(o: Partial<BrokerOptions> = {}): BrokerOptions {
  const r = { ...brokerDefaults, ...o };
  return Object.freeze({
    ...r,
    // MQTT 3.1.1 remaining length is at most 268,435,455 bytes [MQTT-2.2.3].
    maxPacketBytes: clamp(r.maxPacketBytes, 64, 268_435_455),
    maxConnections: Math.max(1, r.maxConnections),
    publishRatePerSec: Math.max(0.001, r.publishRatePerSec),
    publishBurst: Math.max(1, r.publishBurst),
    // The cut-off must lie beyond the burst, otherwise every burst would be a flood.
    publishFloodCutoff: Math.max(r.publishBurst, r.publishFloodCutoff),
    // 0 would let one frozen subscriber deadlock delivery for everyone (aedes docs).
    drainTimeoutMs: Math.max(100, r.drainTimeoutMs),
    concurrency: Math.max(1, r.concurrency),
    authFailuresPerClientId: Math.max(1, r.authFailuresPerClientId),
    authFailuresPerAddress: Math.max(1, r.authFailuresPerAddress),
    registryPollMs: Math.max(100, r.registryPollMs),
    rateSampleMs: Math.max(100, r.rateSampleMs),
    maxClientIdLength: clamp(r.maxClientIdLength, 23, 65_535),
  });
}
