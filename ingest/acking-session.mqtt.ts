/**
 * The ingest's MQTT session: a persistent session (clean=false) whose QoS 1 PUBACKs are sent
 * only when the ingest says so (after the spool write that holds the message is durable).
 * The only code in the ingest that knows MQTT.js internals.
 *
 * MQTT.js acknowledges a QoS 1 PUBLISH by itself once `handleMessage`'s callback runs; it has
 * no hook to defer that. So this wraps the client's private `_sendPacket` (MQTT.js 5.16.0,
 * pinned exactly in package.json; `lib/handlers/publish.js` sends the PUBACK through it) and
 * holds a PUBACK until `release()`. tests/ingest.acking-session.test.ts fails against the
 * real broker if that internal moves, and the constructor refuses a client without it.
 *
 * A delivery belongs to one connection (its `generation`): a PUBACK held from an older
 * connection is never sent — the broker redelivers that message on the new one.
 */
import mqtt, { type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from 'pino';

/** One received PUBLISH, as the session hands it over. */
export interface Delivery {
  readonly topic: string;
  readonly payload: Buffer;
  /** The connection it came on; its PUBACK is valid only on that one. */
  readonly generation: number;
  /** Present for QoS 1/2: the PUBACK is held until release(). */
  readonly messageId?: number;
}

export interface AckingSessionOptions {
  readonly url: string;
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
  /** Filters subscribed at QoS 1 on every connect (a resumed session keeps them anyway). */
  readonly subscriptions: readonly string[];
  readonly logger: Logger;
}

/**
 * @param next call it to let MQTT.js read the next packet (back-pressure: not calling it
 *   stops reading from the socket, and the broker keeps the rest queued).
 */
export type DeliveryHandler = (d: Delivery, next: () => void) => void;

type SendPacket = (packet: Packet, cb?: () => void, cbStorePut?: () => void, noStore?: boolean) => void;

/** CONNACK return codes that will not get better by retrying: 4 bad username or password, 5 not authorized. */
const LOGIN_REFUSED = new Set([4, 5]);

export class AckingSession {
  readonly #o: AckingSessionOptions;
  readonly #log: Logger;
  #client: MqttClient | undefined;
  #generation = 0;
  #connected = false;
  /**
   * Per messageId: deliveries not yet released, the PUBACKs MQTT.js built for them (held),
   * and releases that came before their PUBACK was built. Counts, not flags: one connection
   * can carry two unacknowledged messages with the same id — after a broker restart, aedes
   * resends the restored queue with its stored ids while numbering new deliveries from a
   * random start (lib/client.js `_nextId`) — and each needs its own PUBACK.
   */
  readonly #pending = new Map<number, number>();
  readonly #held = new Map<number, Packet[]>();
  readonly #early = new Map<number, number>();
  /** Set while MQTT.js acks a delivery of a closed connection (its PUBACK must not be sent). */
  #staleAck = false;
  /** MQTT.js' own _sendPacket of the current client (what a released PUBACK goes through). */
  #send: SendPacket | undefined;
  #onDelivery: DeliveryHandler = (_d, next) => next();
  readonly #onClose: (() => void)[] = [];

  constructor(o: AckingSessionOptions) {
    this.#o = o;
    this.#log = o.logger;
  }

  /** Where PUBLISHes go (set before start()). */
  onDelivery(h: DeliveryHandler): void {
    this.#onDelivery = h;
  }

  /** Called when a connection ends (its held PUBACKs are void from then on). */
  onClose(f: () => void): void {
    this.#onClose.push(f);
  }

  get generation(): number {
    return this.#generation;
  }

  /** Connected per MQTT.js (set at the CONNACK, before 'connect' is emitted). */
  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /** Send the PUBACK of each delivery still on its connection; others are dropped (the broker redelivers). */
  release(ds: Iterable<Pick<Delivery, 'generation' | 'messageId'>>): void {
    const send = this.#send;
    if (!send) return;
    for (const d of ds) {
      if (d.generation !== this.#generation || d.messageId === undefined) continue;
      const id = d.messageId;
      const held = this.#held.get(id);
      if (held?.length) {
        const p = held.shift()!;
        if (!held.length) this.#held.delete(id);
        this.#settle(id);
        send(p);
      } else if (this.#pending.has(id)) {
        this.#early.set(id, (this.#early.get(id) ?? 0) + 1);
      }
    }
  }

  #settle(id: number): void {
    const n = (this.#pending.get(id) ?? 1) - 1;
    if (n > 0) this.#pending.set(id, n);
    else this.#pending.delete(id);
  }

  /** QoS 0 publish (dropped while disconnected). */
  publish(topic: string, payload: string | Buffer): void {
    this.#client?.publish(topic, payload, { qos: 0 });
  }

  /** QoS 1 publish; resolves true at the broker's PUBACK, false if the client gave it up. */
  publishAcked(topic: string, payload: string | Buffer): Promise<boolean> {
    const c = this.#client;
    if (!c) return Promise.resolve(false);
    return new Promise<boolean>((res) => c.publish(topic, payload, { qos: 1 }, (err) => res(!err)));
  }

  /** Drop the connection now (nothing more is acked on it); MQTT.js reconnects. */
  drop(): void {
    this.#client?.stream.destroy();
  }

  /** Connect; resolves at the first SUBACK, rejects when the broker refuses the login. */
  start(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const o = this.#o;
      const c = mqtt.connect(o.url, {
        clientId: o.clientId,
        username: o.username,
        password: o.password,
        clean: false, // persistent session: the broker keeps what we have not acked
        protocolVersion: 4,
        keepalive: 60,
        reconnectPeriod: 500,
        connectTimeout: 10_000,
        queueQoSZero: false,
        resubscribe: true,
      });
      this.#client = c;
      const internal = c as unknown as { _sendPacket?: SendPacket };
      if (typeof internal._sendPacket !== 'function') {
        c.end(true);
        reject(
          new Error('MQTT.js has no _sendPacket: the held-PUBACK patch does not fit this version (see ingest/acking-session.mqtt.ts)'),
        );
        return;
      }
      const orig = internal._sendPacket.bind(c);
      this.#send = orig;
      internal._sendPacket = (packet, cb, cbStorePut, noStore) => {
        const id = (packet as { messageId?: number }).messageId;
        if (packet.cmd === 'puback' && (this.#staleAck || !c.connected)) {
          // A PUBACK belongs to the connection its PUBLISH came on. Offline, MQTT.js would queue
          // it and replay it on the next connection, where its id may name another message (an
          // ack for a reading not yet durable) — and it replays that queue recursively, so a
          // long outage's worth overflowed the stack. Dropped: the broker redelivers.
          cb?.();
          return;
        }
        if (packet.cmd === 'puback' && id !== undefined && this.#pending.has(id)) {
          const early = this.#early.get(id) ?? 0;
          if (early > 0) {
            // Released before MQTT.js built it: it goes out now.
            if (early > 1) this.#early.set(id, early - 1);
            else this.#early.delete(id);
            this.#settle(id);
          } else {
            const held = this.#held.get(id);
            if (held) held.push(packet);
            else this.#held.set(id, [packet]);
            cb?.(); // MQTT.js' "sent" callback: it may read on
            return;
          }
        }
        orig(packet, cb, cbStorePut, noStore);
      };
      c.handleMessage = (packet: IPublishPacket, cb) => {
        const id = packet.qos > 0 ? packet.messageId : undefined;
        if (id !== undefined) this.#pending.set(id, (this.#pending.get(id) ?? 0) + 1);
        const generation = this.#generation;
        this.#onDelivery({ topic: packet.topic, payload: packet.payload as Buffer, generation, messageId: id }, () => {
          if (generation === this.#generation) return cb();
          // Handed on after its connection closed: MQTT.js sends the PUBACK inside cb() — mark it stale.
          this.#staleAck = true;
          try {
            cb();
          } finally {
            this.#staleAck = false;
          }
        });
      };
      let first = true;
      c.on('connect', (ack) => {
        // No generation change here: MQTT.js hands over the session's queued PUBLISHes as soon
        // as the CONNACK is in, before it emits 'connect' (it first replays its own outgoing
        // store). Those belong to this connection; a connection ends (and its held PUBACKs
        // expire) only at 'close'. Bumping here left their PUBACKs unsent for the whole session.
        this.#connected = true;
        this.#log.info({ sessionPresent: ack.sessionPresent }, 'connected to broker');
        c.subscribe([...o.subscriptions], { qos: 1 }, (err) => {
          if (err) this.#log.error({ err: String(err) }, 'subscribe failed');
          if (first) {
            first = false;
            if (err) reject(err);
            else resolve();
          }
        });
      });
      c.on('close', () => {
        if (this.#connected) this.#log.warn('broker connection closed');
        this.#connected = false;
        this.#generation++;
        this.#pending.clear();
        this.#held.clear();
        this.#early.clear();
        for (const f of this.#onClose) f();
      });
      c.on('error', (err) => {
        this.#log.warn({ err: String(err) }, 'mqtt error');
        // MQTT.js' ErrorWithReasonCode carries the CONNACK return code in `code`.
        const code = (err as { code?: unknown }).code;
        if (first && typeof code === 'number' && LOGIN_REFUSED.has(code)) {
          first = false;
          reject(err);
        }
      });
    });
  }

  /** Disconnect cleanly (held PUBACKs are not sent: the broker keeps those messages). */
  async end(): Promise<void> {
    await this.#client?.endAsync(false).catch(() => undefined);
  }
}
