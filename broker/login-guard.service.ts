/**
 * The broker's brute-force throttle for CONNECT (issue 13, finding 6): the platform's login
 * limiter (domain/login.limiter.ts) with the broker's options. Nobody can turn it against a
 * user: the credentials are always checked and correct ones always get in at once; only
 * refusals are held back, by a delay that doubles with every failure of the same client id
 * *from the same address* — so an attacker guessing a device's (or `svc-ingest`'s) secret
 * from elsewhere slows down only himself, and failures from one NAT address slow down only
 * the failing connections behind it. An address failing across more than
 * `authFailuresPerAddress` client ids (guessing the id space) gets the longest delay on every
 * refusal, still without touching correct logins.
 *
 * The delay bounds the guessing rate together with the per-address cap on connections
 * without a completed CONNECT (`maxPendingPerAddress`): a connection waiting out its delayed
 * refusal counts against that cap. Time comes from the injected clock.
 */
import type { Clock } from '../domain/clock.ts';
import { LoginLimiter } from '../domain/login.limiter.ts';
import type { BrokerOptions } from './options.ts';

type GuardOptions = Pick<BrokerOptions, 'authFailuresPerAddress' | 'authWindowMs' | 'authFailureDelayMs' | 'authFailureDelayMaxMs'>;

export type LoginGuard = LoginLimiter;

export function createLoginGuard(clock: Clock, o: GuardOptions): LoginGuard {
  return new LoginLimiter(clock, {
    // The first refusal already waits the base delay: a device retries on its own, a guesser must not get free tries.
    freeFailuresPerAccountAddress: 1,
    baseDelayPerAccountAddressMs: o.authFailureDelayMs,
    maxDelayPerAccountAddressMs: o.authFailureDelayMaxMs,
    // Past `authFailuresPerAddress` an address guessing across ids waits the longest on every refusal.
    freeFailuresPerAddress: o.authFailuresPerAddress + 1,
    baseDelayPerAddressMs: o.authFailureDelayMs > 0 ? o.authFailureDelayMaxMs : 0,
    maxDelayPerAddressMs: o.authFailureDelayMaxMs,
    forgetAfterMs: o.authWindowMs,
    // A flood of source addresses cannot grow the broker's memory without bound.
    maxKeys: 100_000,
  });
}
