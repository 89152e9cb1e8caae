/**
 * Patched internals: the aedes client's packet listener on its parser and its socket reads
 * (aedes lib/client.js: `this._parser.on('packet', enqueue)`, `conn.on('readable', nextBatch)`,
 * `client._parser`, `client.conn`, `client._keepaliveTimer`). Checked against aedes 1.2.0.
 *
 * Why (issue 17): aedes reads a connection's next bytes only once the packets it already read
 * have called back. A telemetry publish parked at the spool bound (telemetry-spool.ts) does not
 * call back until the store catches up, so its connection's PINGREQs were never read: after
 * 1.5 × keepalive the device (and the broker's own keepalive timer) dropped the connection, and
 * a store stall longer than 45 s disconnected every device.
 *
 * While a client has a publish parked, this module reads its socket itself: a PINGREQ is handed
 * to aedes at once (PINGRESP, keepalive refreshed); every other packet waits here, in order,
 * and is handed to aedes once the client has nothing parked — so per-device order and "PUBACK
 * after the durable write" hold, and PUBACKs stay in PUBLISH order. Every packet read counts
 * for the broker's keepalive. Reading stops at `maxBytes` waiting here (TCP back-pressure then,
 * as before). Installed per client only while parked: no cost on the hot path.
 * Contract: tests/broker-patches.test.ts.
 */
import type { Client } from 'aedes';

interface Packet {
  readonly cmd: string;
  readonly length?: number;
}
type Listener = (this: unknown, packet: Packet) => void;
interface ParserLike {
  listeners(ev: 'packet'): Listener[];
  on(ev: 'packet', l: Listener): void;
  removeListener(ev: 'packet', l: Listener): void;
  parse(buf: Buffer): void;
}
interface ClientInternals {
  readonly closed: boolean;
  readonly _parser: ParserLike;
  readonly conn: {
    read(n: null): Buffer | null;
    on(ev: 'readable', l: () => void): void;
    removeListener(ev: 'readable', l: () => void): void;
  };
  readonly _keepaliveTimer: { refresh(): void } | null;
  readonly _keepaliveInterval: number;
}

interface Held {
  parked: number;
  readonly enqueue: Listener;
  readonly queue: Packet[];
  bytes: number;
  readonly onPacket: Listener;
  readonly onReadable: () => void;
}

export interface ReadWhileParked {
  /** A publish of `client` was parked (its hook does not call back yet). */
  parked(client: Client): void;
  /** One of its parked publishes called back (its PUBACK is written), or was dropped. */
  unparked(client: Client): void;
  /** Clients read by this module now (metrics, tests). */
  readonly holding: number;
}

export function readWhileParked(opts: { maxBytes: number }): ReadWhileParked {
  const held = new Map<Client, Held>();

  const read = (c: ClientInternals, h: Held): void => {
    while (!c.closed && h.bytes < opts.maxBytes && held.get(c as unknown as Client) === h) {
      const buf = c.conn.read(null);
      if (!buf) return;
      c._parser.parse(buf);
    }
  };

  const release = (client: Client, h: Held): void => {
    const c = client as unknown as ClientInternals;
    held.delete(client);
    c._parser.removeListener('packet', h.onPacket);
    c.conn.removeListener('readable', h.onReadable);
    if (c.closed) return; // aedes removed its own listeners; the packets die with the connection
    c._parser.on('packet', h.enqueue);
    // In read order, as aedes hands one socket read's packets on; one of them may park again.
    for (const p of h.queue) h.enqueue.call(c._parser, p);
  };

  return {
    get holding() {
      return held.size;
    },
    parked(client) {
      const existing = held.get(client);
      if (existing) {
        existing.parked++;
        return;
      }
      const c = client as unknown as ClientInternals;
      if (c.closed) return;
      const enqueue = c._parser.listeners('packet')[0];
      if (!enqueue) return;
      const h: Held = {
        parked: 1,
        enqueue,
        queue: [],
        bytes: 0,
        onPacket: (packet) => {
          if (c._keepaliveInterval > 0) c._keepaliveTimer?.refresh();
          if (packet.cmd === 'pingreq') return h.enqueue.call(c._parser, packet);
          h.queue.push(packet);
          h.bytes += (packet.length ?? 0) + 2;
        },
        onReadable: () => read(c, h),
      };
      held.set(client, h);
      c._parser.removeListener('packet', enqueue);
      c._parser.on('packet', h.onPacket);
      c.conn.on('readable', h.onReadable);
      // Bytes already waiting raise no new 'readable': read them, but not inside the hook that parked.
      setImmediate(() => read(c, h));
    },
    unparked(client) {
      const h = held.get(client);
      if (h && --h.parked <= 0) release(client, h);
    },
  };
}
