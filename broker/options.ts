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
  /** CONNECT deadline: a connection whose whole CONNECT has not arrived this long after it opened is closed (aedes `connectTimeout`). */
  readonly connectTimeoutMs: number;
  /**
   * Connections per remote address that have not completed an accepted CONNECT (still
   * silent, mid-CONNECT, or waiting out a delayed refusal). One more drops that address'
   * oldest such connection: idle sockets cannot pile up, and a real device's CONNECT, which
   * follows its TCP handshake within milliseconds, still gets through behind a NAT.
   */
  readonly maxPendingPerAddress: number;
  /**
   * Accept queue of each listening socket (connections the kernel has completed and the
   * broker not yet accepted). Node's default, 511, overflowed in the reconnect storm: the
   * kernel drops the SYNs past it and each such device retries after 1 s, 3 s, 7 s … (TCP's
   * SYN back-off), with the broker idle meanwhile. Linux caps it at net.core.somaxconn.
   */
  readonly listenBacklog: number;
  /** Failures from one address (over all client ids) past which its refusals get the longest delay (guessing across client ids). */
  readonly authFailuresPerAddress: number;
  /** Failures are forgotten this long after the last one of their (client id, address) or address. */
  readonly authWindowMs: number;
  /** Delay of the first refused CONNACK of a (client id, address); it doubles with each further failure. Correct credentials are never delayed. */
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
  /**
   * Spool mode: bytes of a connection's packets read and held while one of its publishes is
   * parked at the spool bound, so its PINGREQs are still answered (patches/read-while-parked).
   */
  readonly parkedReadAheadBytes: number;
}

export const brokerDefaults: BrokerOptions = Object.freeze({
  maxPacketBytes: 256 * 1024, // a sensor backlog after a long outage fits easily
  maxConnections: 100_000,
  publishRatePerSec: 20,
  publishBurst: 200, // a backlog flushed after an outage is a burst, not a flood
  publishFloodCutoff: 2_000,
  drainTimeoutMs: 30_000,
  concurrency: 1_000,
  connectTimeoutMs: 10_000, // a CONNECT is one packet right after the handshake, also over GPRS
  maxPendingPerAddress: 512, // a reconnect storm of a whole gateway-NAT'd estate still fits
  listenBacklog: 4_096,
  authFailuresPerAddress: 100,
  authWindowMs: 5 * 60_000,
  authFailureDelayMs: 250,
  authFailureDelayMaxMs: 10_000,
  registryPollMs: 30_000,
  rateSampleMs: 1_000,
  maxClientIdLength: 128,
  ackAfterStore: true,
  parkedReadAheadBytes: 64 * 1024,
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
    connectTimeoutMs: Math.max(100, r.connectTimeoutMs),
    maxPendingPerAddress: Math.max(1, r.maxPendingPerAddress),
    listenBacklog: clamp(r.listenBacklog, 1, 65_535),
    authFailuresPerAddress: Math.max(1, r.authFailuresPerAddress),
    registryPollMs: Math.max(100, r.registryPollMs),
    rateSampleMs: Math.max(100, r.rateSampleMs),
    maxClientIdLength: clamp(r.maxClientIdLength, 23, 65_535),
  });
}
