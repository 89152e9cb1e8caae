/**
 * CONNECT: service accounts (username = account id, client id starting with it) and then
 * devices (client id = username = device id, password = secret) against the registry.
 * Service accounts are resolved first and own the `svc-` namespace outright, so no device
 * record can ever stand in for one (issue 13, finding 2).
 *
 * Every refusal is CONNACK 5 "not authorized" — unknown id and wrong secret look the same
 * from outside (no oracle) — except a full broker, which says 3 "server unavailable", and a
 * zero-length client id asking for a persistent session, which says 2 [MQTT-3.1.3-8].
 * The credentials are always checked: failures only slow their own refusals down
 * (login-guard.service.ts), so no one can lock a device or a service out.
 */
import type { AuthenticateError, Client } from 'aedes';
import type { Principal, RefusalReason } from './access.rules.ts';
import { refusal, remoteAddress, type BrokerContext } from './context.ts';
import { PublishBucket } from './rate-limit.ts';

type Done = (error: AuthenticateError | null, success: boolean | null) => void;

export function createAuthenticate(ctx: BrokerContext) {
  const { registry, guard, metrics, options, logger } = ctx;

  return function authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: Done): void {
    const id = client.id;
    const address = remoteAddress(client);
    const refuse = (reason: RefusalReason, opts: { countFailure?: boolean; returnCode?: number } = {}) => {
      metrics.refuse(reason);
      const delayMs = opts.countFailure ? guard.failed(id, address) : 0;
      logger.info({ clientId: id, username, address, reason, delayMs }, 'connection refused');
      const err = refusal(reason, opts.returnCode ?? 5) as unknown as AuthenticateError;
      // Slow-down: a guesser waits longer for every wrong answer. aedes drops the answer
      // itself when the connection closed meanwhile (handlers/connect.js `negate`).
      if (delayMs > 0) setTimeout(() => done(err, false), delayMs);
      else done(err, false);
    };

    // [MQTT-3.1.3-8]: a zero-length client id with CleanSession 0 → CONNACK 0x02, then close.
    if (ctx.emptyClientId.has(client) && !client.clean) return refuse('identifier_rejected', { returnCode: 2 });
    if (ctx.connectedClients() >= options.maxConnections) return refuse('max_connections', { returnCode: 3 });
    if (!username || !password) return refuse('unknown_client', { countFailure: true });
    const secret = password.toString('utf8');

    let principal: Principal;
    if (registry.hasServiceAccount(username)) {
      // Several processes of one service may connect at once: `svc-ingest`, `svc-ingest-2`, …
      if (id !== username && !id.startsWith(`${username}-`)) return refuse('client_id_mismatch', { countFailure: true });
      const scopes = registry.verifyServiceAccount(username, secret);
      if (!scopes) return refuse('bad_credentials', { countFailure: true });
      principal = { kind: 'service', id: username, scopes };
    } else {
      const device = registry.getDevice(username);
      if (!device) return refuse('unknown_client', { countFailure: true });
      if (username !== id) return refuse('client_id_mismatch', { countFailure: true });
      if (!registry.verifyDevice(id, secret)) return refuse('bad_credentials', { countFailure: true });
      if (!device.enabled) return refuse('disabled');
      const isGateway = device.kind === 'gateway';
      principal = {
        kind: 'device',
        id,
        isGateway,
        gatewayDevices: isGateway ? new Set(registry.listDevices({ gatewayId: id }).map((d) => d.id)) : new Set(),
      };
    }

    guard.succeeded(id, address);
    ctx.principals.set(client, principal);
    ctx.authenticated(client);
    // The per-client rate is for devices: the platform's own services (ingest fan-out,
    // replay at 1000×) are trusted and sized separately.
    if (principal.kind === 'device') {
      ctx.buckets.set(
        client,
        new PublishBucket(ctx.rateClock, options.publishRatePerSec, options.publishBurst, options.publishFloodCutoff),
      );
    }
    done(null, true);
  };
}
