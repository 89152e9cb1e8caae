/**
 * Per-client publish allowance: a token bucket refilled at `ratePerSec` up to `burst`.
 * `take()` says how long the publish must wait (0 = now) or that the client is flooding.
 */
import type { Clock } from '../domain/clock.ts';

export type TakeResult = { readonly waitMs: number } | 'flood';

/** The common answer, shared: no allocation per publish. */
export const NO_WAIT: TakeResult = Object.freeze({ waitMs: 0 });

export class PublishBucket {
  #tokens: number;
  #at: number;

  constructor(
    private readonly clock: Clock,
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly floodCutoff: number,
  ) {
    this.#tokens = burst;
    this.#at = clock.now();
  }

  take(): TakeResult {
    const now = this.clock.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.ratePerSec);
    this.#at = now;
    this.#tokens -= 1;
    if (this.#tokens >= 0) return NO_WAIT;
    // Tokens below zero are publishes already granted on credit: the debt sets the wait.
    if (-this.#tokens > this.floodCutoff) return 'flood';
    return { waitMs: Math.ceil((-this.#tokens / this.ratePerSec) * 1000) };
  }
}
