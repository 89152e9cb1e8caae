/**
 * Patched internal: `Aedes#publish` on the broker instance (aedes.js `publish(packet, client,
 * done)`), replaced by a wrapper. Checked against aedes 1.2.0.
 *
 * Why (durable first, options.ackAfterStore; README "Durable first"): aedes writes a QoS 1
 * PUBACK before `broker.publish` stores the message for persistent subscribers
 * (lib/handlers/publish.js `enqueuePublish` → `client.broker.publish`), so a broker killed in
 * between lost acknowledged messages. The publish hook runs the real publish itself before it
 * calls back (`publishBeforeAck`); the publish aedes attempts after the PUBACK is for the same
 * packet object and is answered as done. Spool mode marks the packets it made durable itself
 * the same way (`skip`). Relies on: the hook and `broker.publish` get the same packet object,
 * and handlers look `client.broker.publish` up on the instance. Contract:
 * tests/broker-patches.test.ts.
 */
import type { Aedes, Client } from 'aedes';

type PublishFn = (packet: object, client: Client | null, done: (err?: Error) => void) => void;

export interface PublishOnce {
  /** aedes' real publish now; the publish aedes attempts later for this packet object is skipped. */
  publishBeforeAck(client: Client | null, packet: object, done: (err: Error | null) => void): void;
  /** The packet is already handled (e.g. spooled): aedes' later publish of it is skipped. */
  skip(packet: object): void;
}

/**
 * The mark on a packet object that aedes' next publish of it is already done. A symbol-keyed
 * flag, not a WeakSet: every telemetry packet is marked and unmarked, and a WeakSet entry per
 * message cost a hash insert and delete plus ephemeron work in every GC (issue 19 profile).
 */
const DONE = Symbol('published early');
type Marked = { [DONE]?: boolean };

export function patchPublishOnce(aedes: Aedes): PublishOnce {
  const publish = aedes.publish.bind(aedes) as unknown as PublishFn;
  (aedes as unknown as { publish: unknown }).publish = (packet: object, client: unknown, done?: (err?: Error) => void) => {
    const cb = typeof client === 'function' ? (client as (err?: Error) => void) : done;
    if ((packet as Marked)[DONE]) {
      (packet as Marked)[DONE] = false; // once: the flag is spent (false, not delete: no shape change)
      return cb?.();
    }
    publish(packet, typeof client === 'function' ? null : (client as Client | null), cb ?? (() => {}));
  };
  return {
    publishBeforeAck: (client, packet, done) =>
      publish(packet, client, (err) => {
        if (err) return done(err);
        (packet as Marked)[DONE] = true;
        done(null);
      }),
    skip: (packet) => void ((packet as Marked)[DONE] = true),
  };
}
