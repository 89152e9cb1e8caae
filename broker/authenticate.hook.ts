/**
 * CONNECT: devices (client id = username = device id, password = secret) and service
 * accounts (username = account id, client id starting with it) against the registry.
 * Every refusal is CONNACK 5 "not authorized" — unknown id and wrong secret look the same
 * from outside (no oracle) — except a full broker, which says 3 "server unavailable".
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
      const delayMs = opts.countFailure ? guard.fail(id, address) : 0;
      logger.info({ clientId: id, username, address, reason }, 'connection refused');
      const err = refusal(reason, opts.returnCode ?? 5) as unknown as AuthenticateError;
      // Slow-down: a guesser waits longer for every wrong answer.
      if (delayMs > 0) setTimeout(() => done(err, false), delayMs);
      else done(err, false);
    };

    if (ctx.connectedClients() >= options.maxConnections) return refuse('max_connections', { returnCode: 3 });
    if (guard.isBlocked(id, address)) return refuse('blocked');
    if (!username || !password) return refuse('unknown_client', { countFailure: true });
    const secret = password.toString('utf8');

    let principal: Principal;
    const device = registry.getDevice(username);
    if (device) {
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
    } else if (registry.hasServiceAccount(username)) {
      // Several processes of one service may connect at once: `svc-ingest`, `svc-ingest-2`, …
      if (id !== username && !id.startsWith(`${username}-`)) return refuse('client_id_mismatch', { countFailure: true });
      const scopes = registry.verifyServiceAccount(username, secret);
      if (!scopes) return refuse('bad_credentials', { countFailure: true });
      principal = { kind: 'service', id: username, scopes };
    } else {
      return refuse('unknown_client', { countFailure: true });
    }

    guard.succeed(id);
    ctx.principals.set(client, principal);
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
