/**
 * The seed rule of every seeded test: each runs with a fixed seed (named in its title) that
 * ENGRAM_FC_SEED overrides, so a failure is reproduced with `ENGRAM_FC_SEED=<seed> node --test <file>`.
 * On its own, without fast-check: a simulation that only needs its seed does not pay for building
 * the generators of test/unit/arbitraries.ts (over a second of CPU per process).
 */

/** The seed of a property: ENGRAM_FC_SEED when set, else the test's own fixed seed. */
export function seedFor (fixed: number): number {
  const env = process.env.ENGRAM_FC_SEED
  if (env === undefined || env === '') return fixed
  const n = Number(env)
  if (!Number.isSafeInteger(n)) throw new Error(`ENGRAM_FC_SEED must be an integer, got ${JSON.stringify(env)}`)
  return n
}
