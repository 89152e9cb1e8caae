/**
 * Seeded pseudo-random numbers, pure and deterministic: the simulators, the fuzz tests and the
 * benches draw from a seed (never from Math.random), so the same seed gives the same city,
 * the same readings and the same fuzz cases on every run.
 */

/**
 * mulberry32: a tiny, fast 32-bit generator, good enough for simulation and fuzzing (not for
 * secrets). Returns a function that yields the next number in [0, 1) on each call.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
