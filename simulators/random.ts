/**
 * Deterministic randomness for the simulators: every city, fault and noise value comes from a
 * seed, never from Math.random, so the same seed gives the same city and the same readings.
 */
import { mulberry32 } from '../domain/random.ts';

/** A seeded generator with the helpers the generator and model use. */
export class Rng {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  next(): number {
    return this.#next();
  }
  /** Integer in [min, max], inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.#next() * (max - min + 1));
  }
  range(min: number, max: number): number {
    return min + this.#next() * (max - min);
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#next() * items.length)]!;
  }
  /** Approximately normal (sum of three uniforms), mean 0, sd ≈ 1. */
  normal(): number {
    return (this.#next() + this.#next() + this.#next() - 1.5) * 2;
  }
}

/** FNV-1a 32-bit hash of a string: derives stable per-entity seeds without a shared stream. */
export function hash32(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Stateless noise in [-1, 1) for (key, n): the same reading always gets the same jitter. */
export function noise(key: number, n: number): number {
  let h = (key ^ Math.imul(n | 0, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2147483648 - 1;
}
