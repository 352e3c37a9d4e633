/** A small, fast, seedable PRNG (Mulberry32): the in-memory network, simulations, seeded tests and benches. */

/** Returns a generator of values in [0, 1), reproduced by its seed. */
export function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
