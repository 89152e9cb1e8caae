/**
 * Patched internals: `Client#deliverQoS` and `Client#deliver0` (aedes lib/client.js: closures
 * set per instance in the constructor; a subscription captures `client.deliverQoS` or
 * `client.deliver0` when it is made, lib/handlers/subscribe.js `addSubs`), wrapped per
 * instance before the connection's CONNECT is read; and `Client#duplicates` (lib/client.js
 * `dedupe`: broker id → the brokerCounter last handed to this connection), written. Checked
 * against aedes 1.2.0.
 *
 * Why (issue 17: an incident the ingest published, which another subscriber received, never
 * reached the API): aedes drops a delivery unless its brokerCounter is above the last one
 * the connection was handed from the same broker. That is meant for the copies a client with
 * overlapping subscriptions gets of one message, and it assumes messages reach the emitter in
 * counter order. They do not: aedes numbers a publish when it starts (aedes-packet), a QoS 0
 * publish goes straight to the emitter, and a QoS 1 publish first waits for its store
 * (`enqueueOffline`; the journal writes once per loop turn, Redis is a round trip). aedes
 * handles the packets of one socket read concurrently (lib/client.js `enqueue`), so when the
 * ingest's incident (QoS 1) and a live-readings message (QoS 0) after it arrive together,
 * the live message, numbered later, reaches the API's connection first and the incident is
 * dropped for that connection — after the ingest had its PUBACK. It stays in the API
 * session's queue, so it arrived only when the API next connected (tests/broker-mixed-qos.test.ts).
 *
 * Here a delivery is dropped as a duplicate only when it carries the counter the connection
 * was last handed from that broker. Exact, because the copies of one message for one
 * connection are handed over back to back: mqemitter calls every matching subscription of
 * a message in one synchronous loop (`_do` → fastparallel), and aedes' subscription handler
 * → deliverQoS / deliver0 → dedupe runs synchronously; no other message comes between them.
 * Any other counter, lower or higher, is delivered. Contract: tests/broker-patches.test.ts.
 */

type Deliver = (packet: DeliveredPacket, cb: (err?: Error | null) => void) => void;

interface DeliveredPacket {
  readonly brokerId?: string | null;
  readonly brokerCounter?: number;
}

interface DedupeClient {
  deliverQoS?: Deliver;
  deliver0?: Deliver;
  duplicates?: Record<string, number | undefined>;
}

/**
 * Make aedes' dedupe of this connection's deliveries drop only a repeat of the message it
 * was handed last (per broker), never one that was overtaken. Call before the connection's
 * first subscription (app.ts: right after `aedes.handle`); no-op if the internals are absent.
 */
export function dedupeExactly(client: object): void {
  const c = client as DedupeClient;
  const wrap = (deliver: Deliver | undefined): Deliver | undefined => {
    if (typeof deliver !== 'function' || !c.duplicates) return deliver;
    return (packet, cb) => {
      const id = packet.brokerId;
      const counter = packet.brokerCounter;
      const duplicates = c.duplicates!;
      // Not the message handed over last: let aedes' `last < counter` test pass.
      if (id && typeof counter === 'number' && duplicates[id] !== counter) duplicates[id] = counter - 1;
      deliver(packet, cb);
    };
  };
  c.deliverQoS = wrap(c.deliverQoS);
  c.deliver0 = wrap(c.deliver0);
}
