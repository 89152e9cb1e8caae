/**
 * A cheap MQTT load generator for the benches: PUBLISH packets encoded once, up front
 * (mqtt-packet's `generate`), written over raw TCP sockets with this file's own CONNECT and
 * PUBACK handling — no MQTT.js on the publishing side, so a bench measures the platform, not
 * the client library (MQTT.js publishers cost 10–50 µs of the same 2 cores per message).
 *
 * Each connection keeps `window` QoS 1 PUBLISHes in flight and writes what the PUBACKs of
 * one socket read allow in one write. `ratePerSec` paces the whole load (for lag at a
 * given rate); without it, publishers go as fast as the PUBACKs come back.
 *
 * Nothing here waits for ever: a CONNACK has `connackMs` and the load fails once PUBLISHes
 * are in flight and no PUBACK came for `stallMs`, naming the connections still waiting.
 */
import { connect, type Socket } from 'node:net';
import { generate } from 'mqtt-packet';
import { DeadlineError, formatMs, withDeadline } from './deadline.ts';

export interface RawMessage {
  readonly topic: string;
  readonly payload: string | Buffer;
}

export interface RawLoadOptions {
  readonly host?: string;
  readonly port: number;
  /** One connection each. */
  readonly clients: readonly {
    readonly clientId: string;
    readonly username?: string;
    readonly password?: string;
    /** This connection's broker port, when not `port` (e.g. the second broker of a cluster). */
    readonly port?: number;
  }[];
  /** The messages, spread round-robin over the connections (message i on connection i % clients). */
  readonly messages: readonly RawMessage[];
  /** QoS 1 PUBLISHes in flight per connection. */
  readonly window?: number;
  /** Pace the whole load at this many messages/s (timer of 5 ms); default: as fast as acked. */
  readonly ratePerSec?: number;
  /** Called with the index of each message as it is written. */
  readonly onSend?: (i: number, at: number) => void;
  /** Fail when PUBLISHes are in flight and no PUBACK came for this long (default 60 s). */
  readonly stallMs?: number;
  /** Fail when a CONNACK takes longer (default 30 s). */
  readonly connackMs?: number;
  /** Prefix of the failure messages, e.g. "redis row: load". */
  readonly what?: string;
}

export interface RawLoadResult {
  readonly acked: number;
  readonly secs: number;
}

/** Every message of `messages`, encoded once: a QoS 1 PUBLISH with its message id. */
function encode(messages: readonly RawMessage[], connections: number): Buffer[][] {
  const per: Buffer[][] = Array.from({ length: connections }, () => []);
  for (let i = 0; i < messages.length; i++) {
    const c = i % connections;
    const m = messages[i]!;
    const messageId = (per[c]!.length % 65_535) + 1;
    per[c]!.push(generate({ cmd: 'publish', qos: 1, dup: false, retain: false, messageId, topic: m.topic, payload: m.payload }));
  }
  return per;
}

/** An MQTT 3.1.1 CONNECT (clean session unless `clean` is false, no keep-alive), with credentials when a username is given. */
export function connectPacket(clientId: string, username?: string, password?: string, clean = true): Buffer {
  return generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean,
    keepalive: 0,
    clientId,
    ...(username !== undefined ? { username, password: Buffer.from(password ?? '') } : {}),
  });
}

/** Open a socket, send CONNECT, resolve at a CONNACK with return code 0. */
function open(host: string, port: number, c: RawLoadOptions['clients'][number]): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host);
    s.setNoDelay(true);
    s.once('error', reject);
    s.once('connect', () => s.write(connectPacket(c.clientId, c.username, c.password)));
    // CONNACK: 0x20 0x02 <session present> <return code>
    s.once('data', (b: Buffer) => {
      s.off('error', reject);
      if (b[0] === 0x20 && b[3] === 0) resolve(s);
      else {
        s.destroy();
        reject(new Error(`CONNACK refused (${b.subarray(0, 4).toString('hex')}) for ${c.clientId}`));
      }
    });
  });
}

/** Publish every message at QoS 1; resolves when all were PUBACKed. */
export async function rawPublish(o: RawLoadOptions): Promise<RawLoadResult> {
  const host = o.host ?? '127.0.0.1';
  const n = o.clients.length;
  const window = o.window ?? 500;
  const packets = encode(o.messages, n);
  const what = o.what ?? 'rawPublish';
  const connackMs = o.connackMs ?? 30_000;
  const stallMs = o.stallMs ?? 60_000;
  const pending = new Set(o.clients.map((_, c) => c));
  const opening = o.clients.map((c, k) => open(host, c.port ?? o.port, c).finally(() => pending.delete(k)));
  const waiting = () => [...pending].map((k) => `${o.clients[k]!.clientId} (port ${o.clients[k]!.port ?? o.port})`).join(', ');
  let stage = `${what}: no CONNACK`;
  const sockets = await withDeadline(Promise.all(opening), connackMs, stage, () => {
    stage = `${what}: no CONNACK for ${waiting()}`;
    // The sockets that did connect are closed; one still waiting is destroyed when it answers.
    for (const p of opening)
      void p.then(
        (s) => s.destroy(),
        () => undefined,
      );
  }).catch((e: unknown) => {
    throw e instanceof DeadlineError ? new DeadlineError(stage, connackMs) : e;
  });
  const total = o.messages.length;
  let acked = 0;
  // Pacing: messages allowed so far over all connections (Infinity when unpaced).
  let allowed = o.ratePerSec ? 0 : Number.POSITIVE_INFINITY;
  let sentAll = 0;
  let inFlightAll = 0;
  const t0 = performance.now();
  // Last PUBACK, or the last send while nothing was in flight: the stall watchdog's clock.
  let progressAt = t0;
  const conns = sockets.map((s, c) => ({ s, c, next: 0, inFlight: 0, rest: Buffer.alloc(0) }));
  const pump = (k: (typeof conns)[number]) => {
    const mine = packets[k.c]!;
    const out: Buffer[] = [];
    while (k.inFlight < window && k.next < mine.length && sentAll < allowed) {
      if (inFlightAll === 0) progressAt = performance.now();
      const i = k.next * n + k.c;
      o.onSend?.(i, performance.now());
      out.push(mine[k.next++]!);
      k.inFlight++;
      inFlightAll++;
      sentAll++;
    }
    if (out.length) k.s.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  };
  let watchdog: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve, reject) => {
    for (const k of conns) {
      k.s.on('error', reject);
      k.s.on('close', () => {
        if (acked < total) reject(new Error(`connection ${o.clients[k.c]!.clientId} closed after ${acked}/${total} PUBACKs`));
      });
      k.s.on('data', (chunk: Buffer) => {
        let b = k.rest.length ? Buffer.concat([k.rest, chunk]) : chunk;
        let off = 0;
        // Fixed header + remaining length (PUBACK: 0x40 0x02 id id); anything else is skipped.
        while (off + 2 <= b.length) {
          let len = 0;
          let mul = 1;
          let p = off + 1;
          for (; p < b.length; p++) {
            len += (b[p]! & 0x7f) * mul;
            mul *= 128;
            if ((b[p]! & 0x80) === 0) break;
          }
          if (p >= b.length || p + 1 + len > b.length) break;
          if (b[off]! >> 4 === 4) {
            k.inFlight--;
            inFlightAll--;
            acked++;
            progressAt = performance.now();
          }
          off = p + 1 + len;
        }
        b = b.subarray(off);
        k.rest = b.length ? Buffer.from(b) : Buffer.alloc(0);
        if (acked === total) resolve();
        else pump(k);
      });
    }
    watchdog = setInterval(
      () => {
        if (inFlightAll === 0 || performance.now() - progressAt < stallMs) return;
        const waiting = conns
          .filter((k) => k.inFlight > 0)
          .map((k) => `${o.clients[k.c]!.clientId} (port ${o.clients[k.c]!.port ?? o.port}) ${k.inFlight} in flight`);
        reject(new Error(`${what}: no PUBACK in ${formatMs(stallMs)} after ${acked}/${total} acked; waiting: ${waiting.join(', ')}`));
      },
      Math.min(1000, stallMs),
    );
  });
  let timer: NodeJS.Timeout | undefined;
  if (o.ratePerSec) {
    const rate = o.ratePerSec;
    timer = setInterval(() => {
      allowed = Math.floor(((performance.now() - t0) / 1000) * rate);
      for (const k of conns) pump(k);
    }, 5);
  }
  for (const k of conns) pump(k);
  try {
    await done;
  } finally {
    clearInterval(timer);
    clearInterval(watchdog);
    // A finished load ends its connections; a failed one drops them (a stuck broker may never read a DISCONNECT).
    for (const s of sockets)
      if (acked === total) s.end();
      else s.destroy();
  }
  return { acked, secs: (performance.now() - t0) / 1000 };
}
