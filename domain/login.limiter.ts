/**
 * The one login limiter of the platform, for people signing in to the API and for devices
 * and services CONNECTing to the broker (issue 13 finding 6, issue 15): it slows guessing and
 * can never be turned against a user, because there is no lock.
 *
 * - Failures are kept per (account, address) and per address. An attacker's failures slow
 *   only the attacker's own address for that account; the owner signing in from elsewhere is
 *   not affected. An address failing across many accounts (spraying, guessing the id space)
 *   is slowed on its own key, with a lower cap (a NAT's other users share that key).
 * - After `free…` failures each further one doubles the wait (base, 2×base, 4×base … up to
 *   the key's cap; each key has its own base and cap); a key is forgotten `forgetAfterMs` after its last failure, and a success
 *   forgets the pair. The right secret always works once the wait has passed.
 * - Memory is bounded by `maxKeys` (least recently failed dropped first), so a flood of
 *   addresses cannot grow it.
 *
 * Two ways to use it. The API asks first (`begin`: refused with HEAT_ERR_RATE_LIMITED while a
 * wait runs, before a password is hashed, and the attempt counts as a failure until it
 * succeeds, so parallel guesses cannot all slip in). The broker always checks the secret and
 * holds back only the refusal, by the wait `failed()` returns. Time is the injected clock.
 */
import type { Clock } from './clock.ts';
import { HeatError } from './errors.ts';

export interface LoginLimiterOptions {
  /** Failures of one account from one address before the waits start. */
  readonly freeFailuresPerAccountAddress: number;
  /** Failures from one address over all accounts before its waits start. */
  readonly freeFailuresPerAddress: number;
  /** The pair's first wait; each further failure doubles it. 0: never wait. */
  readonly baseDelayPerAccountAddressMs: number;
  readonly maxDelayPerAccountAddressMs: number;
  /** The address's first wait (0: never); the broker starts it at the maximum, the API doubles up to it. */
  readonly baseDelayPerAddressMs: number;
  /** Lower than the pair's for people: every user behind one NAT shares this key. */
  readonly maxDelayPerAddressMs: number;
  /** A key's failures are forgotten this long after its last one. */
  readonly forgetAfterMs: number;
  /** Keys kept at most (oldest dropped first). */
  readonly maxKeys: number;
}

/** The API's sign-in (people): three free guesses per account and address, then 1 s, 2 s, 4 s … 15 min. */
export const loginLimiterDefaults: LoginLimiterOptions = Object.freeze({
  freeFailuresPerAccountAddress: 3,
  freeFailuresPerAddress: 20,
  baseDelayPerAccountAddressMs: 1_000,
  maxDelayPerAccountAddressMs: 15 * 60_000,
  baseDelayPerAddressMs: 1_000,
  maxDelayPerAddressMs: 60_000,
  forgetAfterMs: 60 * 60_000,
  maxKeys: 100_000,
});

export interface LoginAttempt {
  failed(): void;
  succeeded(): void;
}

interface Entry {
  failures: number;
  lastAt: number;
}

export class LoginLimiter {
  readonly #keys = new Map<string, Entry>();
  #failuresTotal = 0;

  constructor(
    private readonly clock: Clock,
    private readonly opts: LoginLimiterOptions = loginLimiterDefaults,
  ) {}

  /** Milliseconds until this account may be tried from this address again (0: now). */
  waitMs(account: string, address: string | undefined): number {
    const now = this.clock.now();
    let wait = 0;
    for (const [key, e] of this.#entries(account, address, now)) wait = Math.max(wait, e.lastAt + this.#delay(key, e.failures) - now);
    return wait;
  }

  /** Count a failure; returns the wait it sets (the broker holds its refusal back that long). */
  failed(account: string, address: string | undefined): number {
    this.#failuresTotal++;
    const now = this.clock.now();
    let wait = 0;
    for (const key of this.#keyNames(account, address)) {
      const e = this.#get(key, now) ?? { failures: 0, lastAt: now };
      e.failures++;
      e.lastAt = now;
      // Re-insert: Map order is then least recently failed first, which is what gets dropped.
      this.#keys.delete(key);
      this.#keys.set(key, e);
      wait = Math.max(wait, this.#delay(key, e.failures));
    }
    while (this.#keys.size > this.opts.maxKeys) this.#keys.delete(this.#keys.keys().next().value!);
    return wait;
  }

  /**
   * The right secret: forget this pair's failures. `countedAsFailure`: the attempt was counted
   * in advance (`begin`), so it is also taken back off the address; the address's other
   * failures stay (a guesser who also knows one password does not clear its record).
   */
  succeeded(account: string, address: string | undefined, opts: { countedAsFailure?: boolean } = {}): void {
    const [pairKey, addrKey] = this.#keyNames(account, address);
    this.#keys.delete(pairKey!);
    if (opts.countedAsFailure) this.#failuresTotal--;
    if (!opts.countedAsFailure || !addrKey) return;
    const a = this.#keys.get(addrKey);
    if (a && --a.failures <= 0) this.#keys.delete(addrKey);
  }

  /**
   * Ask before checking a secret (the API): refused with HEAT_ERR_RATE_LIMITED and
   * `retryAfterSec` while a wait runs; otherwise the attempt counts as a failure at once, until
   * `succeeded()`.
   */
  begin(account: string, address: string | undefined): LoginAttempt {
    const wait = this.waitMs(account, address);
    if (wait > 0) throw new HeatError('HEAT_ERR_RATE_LIMITED', undefined, { retryAfterSec: Math.ceil(wait / 1000) });
    this.failed(account, address);
    let settled = false;
    return {
      failed: () => {
        settled = true;
      },
      succeeded: () => {
        if (settled) return;
        settled = true;
        this.succeeded(account, address, { countedAsFailure: true });
      },
    };
  }

  /** Failures counted since start (an attempt that then succeeded is not one). */
  get failuresTotal(): number {
    return this.#failuresTotal;
  }

  /** (account, address) pairs whose waits have started. */
  get throttledNow(): number {
    const now = this.clock.now();
    let n = 0;
    for (const [key, e] of this.#keys) {
      if (key.startsWith('p:') && now - e.lastAt < this.opts.forgetAfterMs && e.failures >= this.opts.freeFailuresPerAccountAddress) n++;
    }
    return n;
  }

  /** Drop keys whose failures are forgotten (reads do it lazily; a sampler calls this to free memory). */
  prune(): void {
    const now = this.clock.now();
    for (const [key, e] of this.#keys) if (now - e.lastAt >= this.opts.forgetAfterMs) this.#keys.delete(key);
  }

  #keyNames(account: string, address: string | undefined): string[] {
    const pair = `p:${account}\u0000${address ?? '?'}`;
    return address === undefined ? [pair] : [pair, `a:${address}`];
  }

  *#entries(account: string, address: string | undefined, now: number): Generator<[string, Entry]> {
    for (const key of this.#keyNames(account, address)) {
      const e = this.#get(key, now);
      if (e) yield [key, e];
    }
  }

  #get(key: string, now: number): Entry | undefined {
    const e = this.#keys.get(key);
    if (e && now - e.lastAt >= this.opts.forgetAfterMs) {
      this.#keys.delete(key);
      return undefined;
    }
    return e;
  }

  #delay(key: string, failures: number): number {
    const o = this.opts;
    const [free, base, max] = key.startsWith('p:')
      ? [o.freeFailuresPerAccountAddress, o.baseDelayPerAccountAddressMs, o.maxDelayPerAccountAddressMs]
      : [o.freeFailuresPerAddress, o.baseDelayPerAddressMs, o.maxDelayPerAddressMs];
    if (failures < free || base <= 0) return 0;
    return Math.min(max, base * 2 ** Math.min(30, failures - free));
  }
}
