/**
 * Shared parts of the decoder fuzz tests: the rule (every input either decodes or is refused with
 * one of the documented error codes) and generators of hostile JSON. How long decoding takes is
 * reported (the slowest case, as a diagnostic), never asserted: speed is measured by
 * `npm run bench`, where a loaded machine cannot fail a test.
 */
import fc from 'fast-check'
import { isEngramError, type ErrorCode } from '../../src/core/errors.ts'

import { textArb } from '../unit/arbitraries.ts'

export { FUZZ_RUNS as RUNS } from '../unit/arbitraries.ts'

/**
 * Runs `decode`: ok true when it returned, false when it threw one of `allowed`; fails on any
 * other error. `ms` is how long it took (for the diagnostic of the slowest case).
 */
export function decodes (decode: () => unknown, allowed: ReadonlySet<ErrorCode>, what: () => string): { ok: boolean, ms: number } {
  const t0 = performance.now()
  let ok = false
  try {
    decode()
    ok = true
  } catch (e) {
    if (!isEngramError(e) || !allowed.has(e.code)) {
      throw new Error(`undocumented failure on ${what()}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`)
    }
  }
  return { ok, ms: performance.now() - t0 }
}

/** Any JSON value, with the strings and numbers that break naive parsers mixed in. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec(tie => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -0, 1e308, -1e308, 2 ** 53, -(2 ** 53), 0.5, '', '__proto__', 'constructor', '\u0000', '\ud800', 'a'.repeat(70_000)),
    fc.double(), fc.integer(), fc.string({ maxLength: 16 }), textArb(0, 8),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'kind', 'hlc', 'id')), tie('value'), { maxKeys: 4, noNullPrototype: true })
  )
})).value

type Path = ReadonlyArray<string | number>

/** A change to a valid value: one field (at any depth) replaced, removed or added. */
export interface Mutation {
  readonly path: readonly number[]
  readonly op: 'set' | 'drop' | 'add'
  readonly key: string
  readonly value: unknown
}

export const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  path: fc.array(fc.nat(), { maxLength: 3 }),
  op: fc.constantFrom('set' as const, 'drop' as const, 'add' as const),
  key: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'kind', 'id', 'hlc', 'wall', 'node')),
  value: hostileJson
})

/** Applies mutations to a deep copy of `v` (a JSON value). */
export function mutate (v: unknown, muts: readonly Mutation[]): unknown {
  let root = structuredClone(v)
  for (const m of muts) {
    // walk down by the indices of keys, modulo what is there
    let parent: unknown
    let key: string | number | undefined
    let cur = root
    const path: Path = []
    for (const i of m.path) {
      if (typeof cur !== 'object' || cur === null) break
      const keys = Array.isArray(cur) ? cur.map((_x, j) => j) : Object.keys(cur)
      if (keys.length === 0) break
      const k = keys[i % keys.length]!
      parent = cur
      key = k
      cur = (cur as Record<string | number, unknown>)[k]
      ;(path as Array<string | number>).push(k)
    }
    if (m.op === 'add') {
      if (typeof cur === 'object' && cur !== null && !Array.isArray(cur)) Object.defineProperty(cur, m.key, { value: m.value, enumerable: true, writable: true, configurable: true })
      else if (Array.isArray(cur)) cur.push(m.value)
      continue
    }
    if (parent === undefined || key === undefined) { root = m.op === 'set' ? m.value : root; continue }
    if (m.op === 'set') (parent as Record<string | number, unknown>)[key] = m.value
    else if (Array.isArray(parent)) parent.splice(key as number, 1)
    else delete (parent as Record<string | number, unknown>)[key]
  }
  return root
}
