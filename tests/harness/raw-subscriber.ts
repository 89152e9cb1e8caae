/**
 * A subscriber over a raw TCP socket (mqtt-packet encodes and parses, nothing else): it
 * acknowledges exactly the PUBLISHes a test tells it to, and can vanish at any moment like a
 * SIGKILLed process. MQTT.js cannot do this — it sends every PUBACK by itself — so tests of
 * the broker's outgoing queue (which message does a PUBACK clear?) use this instead.
 */
import { connect, type Socket } from 'node:net';
import mqttPacket, { type IPublishPacket, type Packet } from 'mqtt-packet';

export interface RawSubscriberOptions {
  readonly port: number;
  readonly host?: string;
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
  /** Persistent session (clean=false) by default. */
  readonly clean?: boolean;
}

export interface RawSubscriber {
  /** Every PUBLISH received on this connection, in arrival order. */
  readonly received: IPublishPacket[];
  readonly sessionPresent: boolean;
  /** Whether the socket has closed (by either side). */
  readonly closed: boolean;
  subscribe(filter: string, qos?: 0 | 1): Promise<void>;
  /** Send the PUBACK for this message id. */
  puback(messageId: number): void;
  /** Resolves once `n` PUBLISHes have arrived on this connection. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  /** Drop the socket without a DISCONNECT (as a killed process would). */
  destroy(): Promise<void>;
}

export async function rawSubscriber(o: RawSubscriberOptions): Promise<RawSubscriber> {
  const s: Socket = connect(o.port, o.host ?? '127.0.0.1');
  s.setNoDelay(true);
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  const received: IPublishPacket[] = [];
  const waiters: (() => void)[] = [];
  let connack: ((p: Packet) => void) | undefined;
  let suback: (() => void) | undefined;
  parser.on('packet', (p: Packet) => {
    if (p.cmd === 'connack') connack?.(p);
    else if (p.cmd === 'suback') suback?.();
    else if (p.cmd === 'publish') {
      received.push(p);
      for (const w of waiters.splice(0)) w();
    }
  });
  s.on('data', (b: Buffer) => parser.parse(b));
  s.on('error', () => undefined);
  const write = (p: Packet) => s.write(mqttPacket.generate(p));

  const ack = await new Promise<Packet>((resolve, reject) => {
    connack = resolve;
    s.once('close', () => reject(new Error(`${o.clientId}: closed before CONNACK`)));
    s.once('connect', () =>
      write({
        cmd: 'connect',
        protocolId: 'MQTT',
        protocolVersion: 4,
        clean: o.clean ?? false,
        keepalive: 0,
        clientId: o.clientId,
        username: o.username,
        password: Buffer.from(o.password),
      }),
    );
  });
  const code = (ack as { returnCode?: number }).returnCode;
  if (code !== 0) throw new Error(`${o.clientId}: CONNACK ${code}`);
  let nextSubId = 1;

  let closed = false;
  s.once('close', () => (closed = true));

  return {
    received,
    sessionPresent: (ack as { sessionPresent?: boolean }).sessionPresent === true,
    get closed() {
      return closed;
    },
    subscribe: (filter, qos = 1) =>
      new Promise<void>((resolve) => {
        suback = resolve;
        write({ cmd: 'subscribe', messageId: nextSubId++, subscriptions: [{ topic: filter, qos }] });
      }),
    puback: (messageId) => void write({ cmd: 'puback', messageId }),
    async waitFor(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`${o.clientId}: ${received.length}/${n} PUBLISHes after ${timeoutMs} ms`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, left);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
    },
    destroy: () =>
      new Promise<void>((resolve) => {
        if (s.destroyed) return resolve();
        s.once('close', () => resolve());
        s.destroy();
      }),
  };
}
