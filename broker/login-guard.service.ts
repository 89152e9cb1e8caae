/**
 * Brute-force protection for CONNECT: failures are counted per client id and per remote
 * address inside a window; past the threshold the key is blocked for a while (refused
 * without looking at the credentials), and every failure slows the next refusal down.
 * Time comes from the injected clock, so tests drive it instead of sleeping.
 */
import type { Clock } from '../domain/clock.ts';
import type { BrokerOptions } from './options.ts';

interface Entry {
  failures: number[];
  blockedUntil: number;
}

export class LoginGuard {
  readonly #byKey = new Map<string, Entry>();
  #blocks = 0;

  constructor(
    private readonly clock: Clock,
    private readonly opts: Pick<
      BrokerOptions,
      'authFailuresPerClientId' | 'authFailuresPerAddress' | 'authWindowMs' | 'authBlockMs' | 'authFailureDelayMs' | 'authFailureDelayMaxMs'
    >,
  ) {}

  /** Is this client id or address currently blocked? */
  isBlocked(clientId: string, address: string | undefined): boolean {
    const now = this.clock.now();
    return [this.#key('id', clientId), address && this.#key('ip', address)].some((k) => {
      if (!k) return false;
      const e = this.#byKey.get(k);
      return !!e && e.blockedUntil > now;
    });
  }

  /** Record a failure; returns the delay (ms) to hold the refusal back. */
  fail(clientId: string, address: string | undefined): number {
    const n = this.#record(this.#key('id', clientId), this.opts.authFailuresPerClientId);
    if (address) this.#record(this.#key('ip', address), this.opts.authFailuresPerAddress);
    return Math.min(this.opts.authFailureDelayMaxMs, this.opts.authFailureDelayMs * n);
  }

  /** A good login clears the client id's history (not the address': one good device behind NAT proves nothing). */
  succeed(clientId: string): void {
    this.#byKey.delete(this.#key('id', clientId));
  }

  /** Keys blocked so far (a block is counted once, when it starts). */
  get blocksStarted(): number {
    return this.#blocks;
  }

  get blockedNow(): number {
    const now = this.clock.now();
    let n = 0;
    for (const e of this.#byKey.values()) if (e.blockedUntil > now) n++;
    return n;
  }

  /** Forget entries whose window and block are over (called by the broker's sampler). */
  prune(): void {
    const now = this.clock.now();
    for (const [k, e] of this.#byKey) {
      if (e.blockedUntil <= now && (e.failures.at(-1) ?? 0) + this.opts.authWindowMs <= now) this.#byKey.delete(k);
    }
  }

  #key(kind: 'id' | 'ip', v: string): string {
    return `${kind}:${v}`;
  }

  #record(key: string, limit: number): number {
    const now = this.clock.now();
    let e = this.#byKey.get(key);
    if (!e) this.#byKey.set(key, (e = { failures: [], blockedUntil: 0 }));
    e.failures = e.failures.filter((t) => t + this.opts.authWindowMs > now);
    e.failures.push(now);
    if (e.failures.length >= limit && e.blockedUntil <= now) {
      e.blockedUntil = now + this.opts.authBlockMs;
      e.failures = [];
      this.#blocks++;
    }
    return e.failures.length || limit;
  }
}
