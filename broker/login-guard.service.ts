/**
 * Brute-force throttle for CONNECT (issue 13, finding 6) that nobody can turn against a
 * user: there is no block. The credentials are always checked, and correct ones always get
 * in at once. Only refusals are slowed down, by a delay that doubles with every failure of
 * the same client id *from the same address* inside a window — so an attacker guessing a
 * device's (or `svc-ingest`'s) secret from elsewhere slows down only himself, and 100
 * failures from one NAT address slow down only the failing connections behind it. An
 * address that fails across many client ids (guessing the id space) gets the longest delay
 * on its refusals, still without touching correct logins.
 *
 * The delay bounds the guessing rate together with the per-address cap on connections
 * without a completed CONNECT (`maxPendingPerAddress`): a connection waiting out its delayed
 * refusal counts against that cap. Time comes from the injected clock.
 */
import type { Clock } from '../domain/clock.ts';
import type { BrokerOptions } from './options.ts';

type GuardOptions = Pick<BrokerOptions, 'authFailuresPerAddress' | 'authWindowMs' | 'authFailureDelayMs' | 'authFailureDelayMaxMs'>;

export class LoginGuard {
  /** Failure times per (client id, address) and per address, inside the window. */
  readonly #byKey = new Map<string, number[]>();
  readonly #byAddress = new Map<string, number[]>();
  #failures = 0;

  constructor(
    private readonly clock: Clock,
    private readonly opts: GuardOptions,
  ) {}

  /** Record a failed CONNECT; returns how long (ms) to hold its refusal back. */
  fail(clientId: string, address: string | undefined): number {
    this.#failures++;
    const n = this.#record(this.#byKey, this.#key(clientId, address));
    const perAddress = address ? this.#record(this.#byAddress, address) : 0;
    const { authFailureDelayMs: base, authFailureDelayMaxMs: max } = this.opts;
    if (base <= 0) return 0;
    if (perAddress > this.opts.authFailuresPerAddress) return max;
    // 2^(n-1) × base, capped (n ≤ 31 keeps the shift in range).
    return Math.min(max, base * 2 ** Math.min(n - 1, 30));
  }

  /** A good login forgets that client id's failures from that address (not the address' own tally). */
  succeed(clientId: string, address: string | undefined): void {
    this.#byKey.delete(this.#key(clientId, address));
  }

  /** Failed CONNECTs since start. */
  get failuresTotal(): number {
    return this.#failures;
  }

  /** (client id, address) pairs whose next refusal would be delayed beyond the base delay. */
  get throttledNow(): number {
    const now = this.clock.now();
    let n = 0;
    for (const f of this.#byKey.values()) if (f.filter((t) => t + this.opts.authWindowMs > now).length > 1) n++;
    return n;
  }

  /** Forget failures whose window is over (called by the broker's sampler). */
  prune(): void {
    const now = this.clock.now();
    for (const m of [this.#byKey, this.#byAddress]) {
      for (const [k, f] of m) if ((f.at(-1) ?? 0) + this.opts.authWindowMs <= now) m.delete(k);
    }
  }

  #key(clientId: string, address: string | undefined): string {
    return `${address ?? '?'}\0${clientId}`;
  }

  #record(m: Map<string, number[]>, key: string): number {
    const now = this.clock.now();
    const kept = (m.get(key) ?? []).filter((t) => t + this.opts.authWindowMs > now);
    kept.push(now);
    // Only the count matters beyond a point; keep the list bounded.
    if (kept.length > 1024) kept.splice(0, kept.length - 1024);
    m.set(key, kept);
    return kept.length;
  }
}
