/**
 * Login throttle that cannot be turned against users (issue 13 finding 6). The old limiter
 * locked a *username* for 15 minutes after 5 failures from anywhere, so anybody could lock
 * anybody out, right password or not. This one:
 *
 * - keys guesses by (account, address): an attacker's failures slow only the attacker's own
 *   address for that account; the owner signing in from elsewhere is not affected;
 * - slows down instead of locking: after a few free failures each further one doubles the
 *   wait before the next attempt (1 s, 2 s, 4 s … up to a cap), and the right password works
 *   again as soon as the wait has passed;
 * - slows one address spraying many accounts, with a lower cap (a NAT's other users wait at
 *   most that long);
 * - counts an attempt as a failure the moment it starts (until it succeeds), so parallel
 *   guesses cannot all slip in before the first one is recorded.
 *
 * Waits run on the injected clock; state is in memory, bounded by `maxKeys`.
 */
import type { Clock } from '../domain/clock.ts';
import { HeatError } from '../domain/errors.ts';

export const throttleDefaults = Object.freeze({
  /** Failures of one account from one address before the waits start. */
  freeFailuresPerAccountAddress: 3,
  /** Failures from one address over all accounts before its waits start (spraying). */
  freeFailuresPerAddress: 20,
  /** The first wait; each further failure doubles it. */
  baseDelayMs: 1_000,
  maxDelayPerAccountAddressMs: 15 * 60_000,
  /** Lower: every user behind one NAT shares this key. */
  maxDelayPerAddressMs: 60_000,
  /** A key's failures are forgotten this long after its last one. */
  forgetAfterMs: 60 * 60_000,
  /** Keys kept at most (oldest dropped first), so a flood of addresses cannot grow memory. */
  maxKeys: 100_000,
});

export type ThrottleOptions = typeof throttleDefaults;

interface Entry {
  failures: number;
  lastAt: number;
}

export interface LoginAttempt {
  failed(): void;
  succeeded(): void;
}

export class LoginThrottle {
  readonly #keys = new Map<string, Entry>();
  constructor(
    private readonly clock: Clock,
    private readonly opts: ThrottleOptions = throttleDefaults,
  ) {}

  #get(key: string, now: number): Entry | undefined {
    const e = this.#keys.get(key);
    if (e && now - e.lastAt >= this.opts.forgetAfterMs) {
      this.#keys.delete(key);
      return undefined;
    }
    return e;
  }

  #delay(failures: number, free: number, maxMs: number): number {
    if (failures < free) return 0;
    return Math.min(maxMs, this.opts.baseDelayMs * 2 ** Math.min(30, failures - free));
  }

  /** Milliseconds until this account may be tried from this address again (0: now). */
  waitMs(account: string, address: string): number {
    const now = this.clock.now();
    const pair = this.#get(`p:${account}\u0000${address}`, now);
    const addr = this.#get(`a:${address}`, now);
    const waits = [
      pair
        ? pair.lastAt + this.#delay(pair.failures, this.opts.freeFailuresPerAccountAddress, this.opts.maxDelayPerAccountAddressMs) - now
        : 0,
      addr ? addr.lastAt + this.#delay(addr.failures, this.opts.freeFailuresPerAddress, this.opts.maxDelayPerAddressMs) - now : 0,
    ];
    return Math.max(0, ...waits);
  }

  /**
   * Start an attempt: refused with HEAT_ERR_RATE_LIMITED (and `retryAfterSec`) while a wait
   * runs, before any password is hashed. The attempt counts as a failure until `succeeded()`.
   */
  begin(account: string, address: string): LoginAttempt {
    const wait = this.waitMs(account, address);
    if (wait > 0) throw new HeatError('HEAT_ERR_RATE_LIMITED', undefined, { retryAfterSec: Math.ceil(wait / 1000) });
    const now = this.clock.now();
    const pairKey = `p:${account}\u0000${address}`;
    const addrKey = `a:${address}`;
    for (const key of [pairKey, addrKey]) {
      const e = this.#get(key, now) ?? { failures: 0, lastAt: now };
      e.failures++;
      e.lastAt = now;
      // Re-insert: Map order is then least recently failed first, which is what gets dropped.
      this.#keys.delete(key);
      this.#keys.set(key, e);
    }
    while (this.#keys.size > this.opts.maxKeys) this.#keys.delete(this.#keys.keys().next().value!);
    let settled = false;
    return {
      failed: () => {
        settled = true;
      },
      succeeded: () => {
        if (settled) return;
        settled = true;
        // The owner got in: forget this pair, and take this attempt back off the address.
        this.#keys.delete(pairKey);
        const a = this.#keys.get(addrKey);
        if (a && --a.failures <= 0) this.#keys.delete(addrKey);
      },
    };
  }
}
