/**
 * Internal read: `Aedes#clients` (aedes.js: `this.clients = {}`, set in `_finishRegisterClient`,
 * deleted in `deleteClient`), the connected clients by client id; aedes' types do not declare
 * it. Read only, never written. Checked against aedes 1.2.0.
 *
 * Why: kicking a disabled device and the registry sweep need the client object of a client
 * id; aedes has no public lookup. Contract: tests/broker-patches.test.ts.
 */
import type { Aedes, Client } from 'aedes';

/** The connected clients of this broker process, by client id. */
export function clientsById(aedes: Aedes): Readonly<Record<string, Client | undefined>> {
  return (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
}
