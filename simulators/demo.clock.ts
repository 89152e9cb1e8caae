/**
 * The demo's own clock. A fresh demo opens on a morning the platform has already lived:
 * the clock starts `prerollMs` in the past and is driven forward step by step while the
 * devices publish that morning through the real broker and ingest (demo.runner.ts); once
 * it reaches the wall clock it is released and reads the wall clock from then on.
 *
 * One clock for the ingest, the rules, the API's SLA timers and the fleet, so event time,
 * order deadlines and device stamps agree at every moment: nothing is compressed, the rules
 * see hours of readings take hours of event time.
 */
import type { Clock } from '../domain/clock.ts';

export class DemoClock implements Clock {
  #driven: number | undefined;
  #last: number;
  readonly #wall: () => number;

  constructor(startMs: number, wall: () => number = Date.now) {
    this.#driven = startMs;
    this.#last = startMs;
    this.#wall = wall;
  }

  now(): number {
    if (this.#driven !== undefined) return this.#driven;
    // Monotonic even if the wall clock steps back (NTP): timers never see time reverse.
    const t = Math.max(this.#wall(), this.#last);
    this.#last = t;
    return t;
  }

  /** True while the pre-roll drives it. */
  get driven(): boolean {
    return this.#driven !== undefined;
  }

  /** Drive it to `ms` (never backwards); reaching the wall clock releases it. */
  set(ms: number): void {
    if (this.#driven === undefined) return;
    if (ms < this.#driven) throw new RangeError(`demo clock cannot go back: ${ms} < ${this.#driven}`);
    if (ms >= this.#wall()) this.release();
    else this.#driven = this.#last = ms;
  }

  /** From now on: the wall clock. */
  release(): void {
    if (this.#driven === undefined) return;
    this.#last = Math.max(this.#driven, this.#last);
    this.#driven = undefined;
  }
}
