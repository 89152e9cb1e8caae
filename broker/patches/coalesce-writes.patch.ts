/**
 * Patched internal: `Socket#uncork` (and `destroy`, `end`) on each TCP/TLS socket handed to
 * aedes, replaced per instance; relies on mqtt-packet's `writeToStream` calling
 * `stream.cork()` and `uncork` on the next tick (writeToStream.js). Checked against aedes
 * 1.2.0 with mqtt-packet 9.0.2 on Node 20. Contract: tests/broker-patches.test.ts.
 *
 * Why: one write syscall per event-loop turn and connection instead of one per MQTT packet.
 *
 * mqtt-packet's writeToStream corks the socket and uncorks it on the next tick, and aedes
 * writes each delivery from its own setImmediate callback (lib/client.js deliverQoS), with
 * the tick queue drained between callbacks: every PUBLISH to a subscriber became its own
 * writev, ~20 % of the broker's busy time in the QoS 1 bench. Here the uncork is deferred
 * to a setImmediate, so all packets written to one socket during a turn leave together.
 *
 * Nothing is reordered or dropped: bytes stay in the socket's own write buffer in order,
 * back-pressure is unchanged (write() still returns false past the high-water mark, so
 * aedes' drain timeout still applies), and end()/destroy() flush what is corked first, as
 * the next-tick uncork did before them (a refused CONNACK is written, then the socket
 * destroyed). The added latency is at most one event-loop turn.
 */
import type { Socket } from 'node:net';

export function coalesceWrites(socket: Socket): void {
  const uncork = socket.uncork.bind(socket);
  let owed = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    while (owed > 0) {
      owed--;
      uncork();
    }
  };
  socket.uncork = () => {
    owed++;
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  // Before the socket ends, everything corked goes out, even a cork whose next-tick uncork
  // has not run yet (that late uncork then finds nothing corked, which is harmless).
  const flushAll = () => {
    owed = 0;
    while (socket.writableCorked > 0) uncork();
  };
  const destroy = socket.destroy.bind(socket);
  socket.destroy = (error?: Error) => {
    flushAll();
    return destroy(error);
  };
  const end = socket.end.bind(socket) as (...args: unknown[]) => Socket;
  socket.end = (...args: unknown[]) => {
    flushAll();
    return end(...args);
  };
}
