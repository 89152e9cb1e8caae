/**
 * Patched internal: `QoSPacket#writeCallback` (aedes lib/qos-packet.js, set by lib/client.js
 * `deliverQoS` and lib/handlers/connect.js `emptyQueue` before they call the persistence's
 * `outgoingUpdate`). Checked against aedes 1.2.0.
 *
 * Why: aedes calls `writeCallback` once the delivery is written; in `deliverQoS` it is the
 * emitter's callback, and mqemitter holds one of its `concurrency` slots until every
 * subscriber's callback has run, while with ackAfterStore the publisher's PUBACK waits for
 * the same emit. A delivery that waits for its subscriber to free a message id
 * (journal.id-flow.ts) would so hold the whole broker up behind one slow subscriber. The
 * message is already in the session's queue (aedes enqueues before it emits), so the slot
 * is given back now and the later write calls a no-op. In `emptyQueue` the callback is the
 * queue stream's `next`: releasing it streams the rest of the session's queue into waiters
 * (at most the queue, in order). Contract: tests/broker-patches.test.ts.
 */

const noop = (): void => {};

/** Run the packet's write callback now and make the one aedes calls after the write a no-op. */
export function releaseWriteCallback(packet: object): void {
  const p = packet as { writeCallback?: unknown };
  const cb = p.writeCallback;
  if (typeof cb !== 'function') return;
  p.writeCallback = noop;
  (cb as () => void)();
}
