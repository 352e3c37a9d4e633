/**
 * fast-check generators for the core model, shared by the property tests, and the seed rule:
 * every property runs with a fixed seed (named in the test title) that ENGRAM_FC_SEED overrides,
 * so a failure is reproduced with `ENGRAM_FC_SEED=<seed> node --test <file>`.
 */
import fc from 'fast-check'
import { MAX_COUNTER, MAX_WALL, type Hlc } from '../../src/core/hlc.ts'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import type { EpisodeRecord, Json, JsonObject, MemoryRecord, NoteRecord, RecordKind, Term, TripleContent } from '../../src/core/model.ts'
import { makeTrace, makeTriple } from '../../src/core/records.ts'
import { MANGLED_KEYS } from '../../src/core/validate.ts'

export { seedFor } from '../support/seed.ts'

/**
 * How many cases each decoder fuzz property runs: FUZZ_RUNS when set, else 5,000 — every
 * generator branch many times over, on a fixed seed. `npm run fuzz` runs the deep pass
 * (FUZZ_RUNS=100000, the count docs/SECURITY.md promises) on the same seeds.
 */
export const FUZZ_RUNS = fuzzRuns()

function fuzzRuns (): number {
  const env = process.env.FUZZ_RUNS
  if (env === undefined || env === '') return 5_000
  const n = Number(env)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`FUZZ_RUNS must be a positive integer, got ${JSON.stringify(env)}`)
  return n
}

/** fc.assert with a seed; the seed is repeated in the failure message. */
export function assertProperty<Ts> (prop: fc.IProperty<Ts>, seed: number, numRuns: number): void {
  try {
    fc.assert(prop, { seed, numRuns })
  } catch (e) {
    // Counterexamples of long runs are huge: keep each line of the report short.
    const report = (e as Error).message.split('\n').map(l => (l.length > 2_000 ? `${l.slice(0, 2_000)}… (clipped)` : l)).join('\n')
    throw new Error(`property failed with seed ${seed} (rerun with ENGRAM_FC_SEED=${seed})\n${report}`, { cause: (e as Error).cause ?? e })
  }
}

const NODE_ID_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-'.split('')

/** Any valid node id. */
export const nodeIdArb: fc.Arbitrary<NodeId> =
  fc.string({ unit: fc.constantFrom(...NODE_ID_CHARS), minLength: 1, maxLength: 24 }).map(asNodeId)

/** Any valid stamp. */
export const hlcArb: fc.Arbitrary<Hlc> = fc.record({
  wall: fc.integer({ min: 0, max: MAX_WALL }),
  counter: fc.integer({ min: 0, max: MAX_COUNTER }),
  node: nodeIdArb
}, { noNullPrototype: true })

/** Stamps from a tiny space, so that equal stamps (and equal walls) are frequent. */
export const narrowHlcArb: fc.Arbitrary<Hlc> = fc.record({
  wall: fc.integer({ min: 1_000, max: 1_002 }),
  counter: fc.integer({ min: 0, max: 1 }),
  node: fc.constantFrom('node-a', 'node-b').map(asNodeId)
}, { noNullPrototype: true })

/** Code points below the surrogates (U+0000–U+D7FF), and how far the ones above them (U+E000–U+10FFFF) are shifted down. */
const BELOW_SURROGATES = 0xd800
const SURROGATES = 0x800

/**
 * One code point, never a lone surrogate: the same values, drawn the same way, as fast-check's
 * `unit: 'binary'` (an index into U+0000–U+D7FF then U+E000–U+10FFFF, mapped in order), so a seed
 * gives the same strings. fast-check's own unit maps a value back to its index through a table of
 * all 1,112,064 code points, which it builds the first time a string arbitrary is made in a
 * process (about a second of CPU in every test file that makes one); here the way back is arithmetic.
 */
const binaryUnit: fc.Arbitrary<string> = fc.nat({ max: 0x10ffff - SURROGATES }).map(
  i => String.fromCodePoint(i < BELOW_SURROGATES ? i : i + SURROGATES),
  v => {
    if (typeof v !== 'string' || v.length === 0 || v.length > 2) throw new Error('not one code point')
    const cp = v.codePointAt(0)!
    if (String.fromCodePoint(cp) !== v || (cp >= BELOW_SURROGATES && cp < BELOW_SURROGATES + SURROGATES)) throw new Error('not one code point')
    return cp < BELOW_SURROGATES ? cp : cp - SURROGATES
  })

/** Well-formed Unicode text (any code point, never a lone surrogate): fast-check's `fc.string({ unit: 'binary' })`, the same values for a seed. */
export const textArb = (minLength = 0, maxLength = 24): fc.Arbitrary<string> =>
  fc.string({ unit: binaryUnit, minLength, maxLength })

/** Text over a 3-letter alphabet: distinct values that differ only in where one field ends. */
export const tinyTextArb = (minLength = 0, maxLength = 4): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom('a', 'b', ':'), minLength, maxLength })

/** Whether a JSON value holds an object key no record may hold (core/validate.ts MANGLED_KEYS). */
const hasMangledKey = (v: unknown): boolean => typeof v === 'object' && v !== null &&
  (Array.isArray(v) ? v.some(hasMangledKey) : Object.entries(v).some(([k, x]) => MANGLED_KEYS.has(k) || hasMangledKey(x)))
export const jsonArb: fc.Arbitrary<Json> = (fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>).filter(v => !hasMangledKey(v))
export const jsonObjectArb: fc.Arbitrary<JsonObject> =
  (fc.dictionary(textArb(0, 8), jsonArb, { maxKeys: 5, noNullPrototype: true }) as fc.Arbitrary<JsonObject>).filter(v => !hasMangledKey(v))

const langTagArb: fc.Arbitrary<string> = fc.tuple(
  fc.stringMatching(/^[a-z]{2,3}$/),
  fc.option(fc.stringMatching(/^[a-z0-9]{2,4}$/), { nil: undefined })
).map(([a, b]) => (b === undefined ? a : `${a}-${b}`))

const datetimeArb: fc.Arbitrary<string> = fc.date({
  min: new Date('0000-01-01T00:00:00.000Z'),
  max: new Date('9999-12-31T23:59:59.999Z'),
  noInvalidDate: true
}).map(d => d.toISOString())

/** A term already in normalized form (what parseTerm returns). */
export const termArb = (text: fc.Arbitrary<string> = textArb()): fc.Arbitrary<Term> => fc.oneof(
  text.filter(s => s.length > 0).map(value => ({ kind: 'node', value }) as const),
  text.map(value => ({ kind: 'string', value }) as const),
  fc.tuple(text, langTagArb).map(([value, lang]) => ({ kind: 'lang', value, lang }) as const),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(v => ({ kind: 'number', value: Object.is(v, -0) ? 0 : v }) as const),
  fc.boolean().map(value => ({ kind: 'boolean', value }) as const),
  datetimeArb.map(value => ({ kind: 'datetime', value }) as const),
  jsonArb.map(value => ({ kind: 'json', value }) as const)
)

export const tripleContentArb = (text: fc.Arbitrary<string> = textArb()): fc.Arbitrary<TripleContent> => fc.record({
  subject: text.filter(s => s.length > 0),
  predicate: text.filter(s => s.length > 0),
  object: termArb(text)
}, { noNullPrototype: true })

/** A random valid record of the given kind. */
export function recordArb (kind: RecordKind, stamp: fc.Arbitrary<Hlc> = hlcArb): fc.Arbitrary<MemoryRecord> {
  switch (kind) {
    case 'triple':
      return fc.tuple(tripleContentArb(), stamp, fc.boolean()).map(([c, h, d]) => makeTriple(c, h, d))
    case 'note':
      return fc.tuple(textArb(1), jsonArb, stamp, fc.boolean()).map(([key, value, hlc, deleted]): NoteRecord =>
        ({ kind: 'note', key, value: deleted ? null : value, hlc, deleted }))
    case 'episode':
      return fc.tuple(textArb(1), jsonObjectArb, stamp).map(([id, data, hlc]): EpisodeRecord => ({ kind: 'episode', id, data, hlc }))
    case 'trace':
      return fc.tuple(textArb(1), textArb(1), jsonArb, stamp).map(([runId, type, data, hlc]) => makeTrace(runId, type, data, hlc))
  }
}

export const anyRecordArb: fc.Arbitrary<MemoryRecord> =
  fc.constantFrom<RecordKind>('triple', 'note', 'episode', 'trace').chain(k => recordArb(k))
