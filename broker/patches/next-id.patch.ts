/**
 * Patched internal: `Client#_nextId` (aedes lib/client.js: drawn at random per connection;
 * lib/qos-packet.js gives a new QoS > 0 delivery `client._nextId` and increments it, wrapping
 * 65,535 → 1). Written here. Checked against aedes 1.2.0.
 *
 * Why: when the journal gives a delivery another id than aedes chose (the chosen one is still
 * held by an unacknowledged packet of the session, journal.queue.ts `assign`), the counter is
 * moved past the given id, so the next delivery does not start a scan over the same held run.
 * Contract: tests/broker-patches.test.ts.
 */

/** MQTT packet identifiers are 1…65535. */
const MAX_MESSAGE_ID = 65_535;

/** Number the client's next new delivery after `given` (no-op if the internal is absent). */
export function moveNextIdPast(client: object, given: number): void {
  const c = client as { _nextId?: unknown };
  if (typeof c._nextId === 'number') c._nextId = (given % MAX_MESSAGE_ID) + 1;
}
