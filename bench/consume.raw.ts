/**
 * A cheap QoS 1 subscriber for the benches, the receiving half of bench/load.raw.ts: one raw
 * TCP socket, this file's own CONNECT / SUBSCRIBE and a minimal parser that counts PUBLISHes
 * and answers each QoS 1 one with its PUBACK (all PUBACKs of one socket read in one write).
 * No MQTT.js on the receiving side either, so a broker bench measures the broker: MQTT.js
 * parses every packet into an object and emits it, 10–30 µs of the same 2 cores per message.
 */
import { connect, type Socket } from 'node:net';
import { generate } from 'mqtt-packet';
import { connectPacket } from './load.raw.ts';

export interface RawConsumerOptions {
  readonly host?: string;
  readonly port: number;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** Persistent session (clean false): the broker stores every message for it until its PUBACK. */
  readonly persistent?: boolean;
}

export interface RawConsumer {
  /** PUBLISHes received so far. */
  readonly received: number;
  /** Subscribe at QoS 1; resolves at the SUBACK (refused: rejects). */
  subscribe(filter: string): Promise<void>;
  unsubscribe(filter: string): Promise<void>;
  /** Resolves once `n` PUBLISHes have arrived in all (rejects after `timeoutMs`). */
  waitFor(n: number, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

const SUBACK = 9;
const UNSUBACK = 11;
const PUBLISH = 3;

export async function rawConsumer(o: RawConsumerOptions): Promise<RawConsumer> {
  const s: Socket = connect(o.port, o.host ?? '127.0.0.1');
  s.setNoDelay(true);
  let received = 0;
  let rest: Buffer = Buffer.alloc(0);
  let connack: ((ok: boolean) => void) | undefined;
  const acks = new Map<number, (granted: number) => void>();
  let want = Number.POSITIVE_INFINITY;
  let reached: (() => void) | undefined;
  let nextId = 1;

  s.on('data', (chunk: Buffer) => {
    const b = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let off = 0;
    const pubacks: number[] = [];
    while (off + 2 <= b.length) {
      // Fixed header, remaining length (1–4 bytes of 7 bits).
      let len = 0;
      let mul = 1;
      let p = off + 1;
      for (; p < b.length && p < off + 5; p++) {
        len += (b[p]! & 0x7f) * mul;
        mul *= 128;
        if ((b[p]! & 0x80) === 0) break;
      }
      if (p >= b.length || p + 1 + len > b.length) break;
      const type = b[off]! >> 4;
      const body = p + 1;
      if (type === PUBLISH) {
        received++;
        // QoS 1: topic (u16 length + bytes), then the packet id.
        if (((b[off]! >> 1) & 3) === 1) pubacks.push(b.readUInt16BE(body + 2 + b.readUInt16BE(body)));
      } else if (type === 2) {
        connack?.(b[body + 1] === 0);
        connack = undefined;
      } else if (type === SUBACK || type === UNSUBACK) {
        const id = b.readUInt16BE(body);
        acks.get(id)?.(type === SUBACK ? b[body + 2]! : 0);
        acks.delete(id);
      }
      off = body + len;
    }
    rest = off < b.length ? Buffer.from(b.subarray(off)) : Buffer.alloc(0);
    if (pubacks.length) {
      const out = Buffer.allocUnsafe(4 * pubacks.length);
      for (let i = 0; i < pubacks.length; i++) {
        out[4 * i] = 0x40;
        out[4 * i + 1] = 2;
        out.writeUInt16BE(pubacks[i]!, 4 * i + 2);
      }
      s.write(out);
    }
    if (received >= want && reached) {
      reached();
      reached = undefined;
    }
  });

  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    connack = (ok) => {
      s.off('error', reject);
      if (ok) resolve();
      else reject(new Error(`CONNACK refused for ${o.clientId}`));
    };
    s.once('connect', () => s.write(connectPacket(o.clientId, o.username, o.password, !o.persistent)));
  });
  s.on('error', () => undefined);

  const request = (packet: Parameters<typeof generate>[0] & { messageId: number }) =>
    new Promise<number>((resolve) => {
      acks.set(packet.messageId, resolve);
      s.write(generate(packet));
    });

  return {
    get received() {
      return received;
    },
    async subscribe(filter) {
      const granted = await request({ cmd: 'subscribe', messageId: nextId++, subscriptions: [{ topic: filter, qos: 1 }] });
      if (granted > 2) throw new Error(`SUBSCRIBE ${filter} refused (${granted})`);
    },
    async unsubscribe(filter) {
      await request({ cmd: 'unsubscribe', messageId: nextId++, unsubscriptions: [filter] });
    },
    waitFor(n, timeoutMs) {
      if (received >= n) return Promise.resolve();
      want = n;
      return new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`only ${received}/${n} delivered`)), timeoutMs);
        reached = () => {
          clearTimeout(t);
          resolve();
        };
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        if (s.destroyed) return resolve();
        s.once('close', () => resolve());
        s.end(Buffer.from([0xe0, 0])); // DISCONNECT
      });
    },
  };
}
