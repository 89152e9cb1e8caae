/**
 * Every timer reads an injected clock (ARCHITECTURE.md "Time"). Live it is the wall clock;
 * in replay and tests it is driven, so tests never sleep to wait for time to pass.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** A clock driven by hand or by the event time of a replay. */
export class ManualClock implements Clock {
  #now: number;
  constructor(startMs: number) {
    this.#now = startMs;
  }
  now(): number {
    return this.#now;
  }
  set(ms: number): void {
    if (ms < this.#now) throw new RangeError(`clock cannot go back: ${ms} < ${this.#now}`);
    this.#now = ms;
  }
  advance(ms: number): void {
    this.set(this.#now + ms);
  }
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
