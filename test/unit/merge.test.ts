import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { jsonHash } from '../../src/core/canonical.ts'
import type { Hlc } from '../../src/core/hlc.ts'
import { asNodeId } from '../../src/core/ids.ts'
import { compareRecords, merge, mergeInto } from '../../src/core/merge.ts'
import type { EpisodeRecord, Json, JsonObject, MemoryRecord, NoteRecord, RecordKind, TripleContent, TripleRecord } from '../../src/core/model.ts'
import { canonicalRecord, makeTrace, makeTriple } from '../../src/core/records.ts'
import { assertProperty, jsonArb, narrowHlcArb, seedFor, textArb, tripleContentArb } from './arbitraries.ts'

/** Two states are the same state when their canonical text is (key order in JSON values does not count). */
const same = (a: MemoryRecord, b: MemoryRecord): boolean => canonicalRecord(a) === canonicalRecord(b)
function assertSame (a: MemoryRecord, b: MemoryRecord, what: string): void {
  assert.equal(canonicalRecord(a), canonicalRecord(b), what)
}

const fold = (states: readonly MemoryRecord[]): MemoryRecord => states.reduce((acc, s) => merge(acc, s))
/** The way a store folds states arriving one by one: mergeInto from nothing. */
function foldInto (states: readonly MemoryRecord[]): MemoryRecord {
  let current: MemoryRecord | undefined
  for (const s of states) current = mergeInto(current, s).result
  assert.ok(current !== undefined)
  return current
}

// Values chosen so that equal stamps often carry different values, including values that are
// equal as JSON but written with their keys in another order.
const noteValueArb: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, 0, 1, 'x', 'y', true, [], {}, { a: 1, b: 2 }, { b: 2, a: 1 }, [1, { c: null }]),
  jsonArb
)
const episodeDataArb: fc.Arbitrary<JsonObject> = fc.oneof(
  fc.constantFrom<JsonObject>({}, { summary: 'a' }, { summary: 'b' }, { summary: 'a', tags: ['x'] }, { tags: ['x'], summary: 'a' }),
  fc.dictionary(textArb(0, 4), jsonArb, { maxKeys: 3, noNullPrototype: true }) as fc.Arbitrary<JsonObject>
)
const traceDataArb: fc.Arbitrary<Json> = fc.oneof(fc.constantFrom<Json>({ a: 1, b: [2] }, 'step', null), jsonArb)

/**
 * Several states of ONE record of the given kind (same identity), with stamps from a tiny space
 * so that equal stamps with different contents are common.
 */
function statesArb (kind: RecordKind, min: number, max: number): fc.Arbitrary<MemoryRecord[]> {
  const n = { minLength: min, maxLength: max }
  switch (kind) {
    case 'triple':
      return tripleContentArb().chain(content =>
        fc.array(fc.tuple(narrowHlcArb, fc.boolean()).map(([h, d]) => makeTriple(content, h, d)), n))
    case 'note':
      return textArb(1, 6).chain(key => fc.array(fc.tuple(narrowHlcArb, fc.boolean(), noteValueArb).map(
        ([hlc, deleted, value]): NoteRecord => ({ kind: 'note', key, value: deleted ? null : value, hlc, deleted })), n))
    case 'episode':
      return textArb(1, 6).chain(id => fc.array(fc.tuple(narrowHlcArb, episodeDataArb).map(
        ([hlc, data]): EpisodeRecord => ({ kind: 'episode', id, data, hlc })), n))
    case 'trace':
      // A trace's id is the hash of all its content, so every state of one trace is a copy of
      // it (here: rebuilt, with the keys of its data in another order).
      return fc.tuple(textArb(1, 4), textArb(1, 4), traceDataArb, narrowHlcArb).chain(([runId, type, data, hlc]) =>
        fc.array(fc.boolean().map(reorder => makeTrace(runId, type, reorder ? reverseKeys(data) : data, hlc)), n))
  }
}

function reverseKeys (v: Json): Json {
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) return v.map(reverseKeys)
  return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)]))
}

const KINDS: readonly RecordKind[] = ['triple', 'note', 'episode', 'trace']

for (const [k, kind] of KINDS.entries()) {
  describe(`merge: ${kind}`, () => {
    const base = seedFor(0x3e76e + k * 1_000)

    test(`commutative (seed ${base})`, () => {
      assertProperty(fc.property(statesArb(kind, 2, 2), ([a, b]) => {
        assertSame(merge(a!, b!), merge(b!, a!), 'merge(a, b) = merge(b, a)')
        return true
      }), base, 1_000)
    })

    test(`associative (seed ${base + 1})`, () => {
      assertProperty(fc.property(statesArb(kind, 3, 3), ([a, b, c]) => {
        assertSame(merge(merge(a!, b!), c!), merge(a!, merge(b!, c!)), '(a·b)·c = a·(b·c)')
        return true
      }), base + 1, 1_000)
    })

    test(`idempotent (seed ${base + 2})`, () => {
      assertProperty(fc.property(statesArb(kind, 2, 2), ([a, b]) => {
        assertSame(merge(a!, a!), a!, 'a·a = a')
        const ab = merge(a!, b!)
        assertSame(merge(ab, b!), ab, '(a·b)·b = a·b')
        assertSame(merge(ab, a!), ab, '(a·b)·a = a·b')
        return true
      }), base + 2, 1_000)
    })

    test(`any order of arrival gives the same state (seed ${base + 3})`, () => {
      const arb = statesArb(kind, 1, 8).chain(states =>
        fc.tuple(fc.constant(states), fc.shuffledSubarray(states, { minLength: states.length, maxLength: states.length })))
      assertProperty(fc.property(arb, ([states, shuffled]) => {
        const r = fold(states)
        assertSame(fold(shuffled), r, 'fold of a permutation')
        assertSame(foldInto(shuffled), r, 'mergeInto fold of a permutation')
        // Duplicated deliveries change nothing either.
        assertSame(fold([...shuffled, ...states]), r, 'fold with every state delivered twice')
        // The result is one of the states and no state beats it.
        assert.ok(states.some(s => s === r))
        for (const s of states) assert.ok(compareRecords(r, s) >= 0)
        return true
      }), base + 3, 1_000)
    })

    test(`mergeInto reports a change exactly when the incoming state wins (seed ${base + 4})`, () => {
      assertProperty(fc.property(statesArb(kind, 2, 2), ([current, incoming]) => {
        const fresh = mergeInto(undefined, incoming!)
        assert.equal(fresh.changed, true)
        assert.equal(fresh.result, incoming)

        const out = mergeInto(current!, incoming!)
        const wins = compareRecords(incoming!, current!) > 0
        assert.equal(out.changed, wins)
        assert.equal(out.result, wins ? incoming : current)
        assertSame(out.result, merge(current!, incoming!), 'mergeInto agrees with merge')
        if (same(current!, incoming!)) assert.equal(out.changed, false, 'the same state again is not a change')

        const again = mergeInto(out.result, incoming!)
        assert.equal(again.changed, false, 'delivering the same state twice changes nothing the second time')
        return true
      }), base + 4, 1_000)
    })
  })
}

// ---- the rules themselves, by example ----

const A = asNodeId('node-a')
const B = asNodeId('node-b')
const h = (wall: number, counter = 0, node = A): Hlc => ({ wall, counter, node })
const content: TripleContent = { subject: 'user:alice', predicate: 'prefers:editor', object: { kind: 'string', value: 'vim' } }
const note = (value: Json, hlc: Hlc, deleted = false): NoteRecord =>
  ({ kind: 'note', key: 'k', value: deleted ? null : value, hlc, deleted })
const episode = (data: JsonObject, hlc: Hlc): EpisodeRecord => ({ kind: 'episode', id: 'ep-1', data, hlc })

describe('merge rules', () => {
  test('triple: a delete and an add with the same stamp resolve to the delete, in either order', () => {
    const add = makeTriple(content, h(10, 0, B))
    const del = makeTriple(content, h(10, 0, B), true)
    assert.equal(merge(add, del), del)
    assert.equal(merge(del, add), del)
    assert.equal(mergeInto(del, add).changed, false)
    assert.deepEqual(mergeInto(add, del), { result: del, changed: true })
  })

  test('triple: the later stamp wins between add and delete (re-add after delete, delete after add)', () => {
    const add1 = makeTriple(content, h(10))
    const del = makeTriple(content, h(11), true)
    const add2 = makeTriple(content, h(12))
    assert.equal(fold([add1, del]), del)
    assert.equal(fold([del, add1]), del)
    assert.equal(fold([add1, del, add2]), add2)
    assert.equal(fold([add2, del, add1]), add2)
  })

  test('triple: a tombstone keeps an older copy of the triple from coming back', () => {
    const tomb = makeTriple(content, h(20, 0, A), true)
    for (const old of [makeTriple(content, h(19, 9, B)), makeTriple(content, h(20, 0, asNodeId('node-0')))]) {
      assert.deepEqual(mergeInto(tomb, old), { result: tomb, changed: false })
    }
  })

  test('triple: the node id breaks a tie of wall and counter', () => {
    const fromA = makeTriple(content, h(10, 3, A), true)
    const fromB = makeTriple(content, h(10, 3, B))
    assert.equal(merge(fromA, fromB), fromB)
    assert.equal(merge(fromB, fromA), fromB)
  })

  test('note: the later stamp wins; a delete wins an exact tie', () => {
    assert.deepEqual(merge(note('old', h(1)), note('new', h(2))).value, 'new')
    const del = note(null, h(5, 1, B), true)
    const set = note('v', h(5, 1, B))
    assert.equal(merge(set, del), del)
    assert.equal(merge(del, set), del)
    assert.equal(merge(del, note('v', h(5, 2, A))).value, 'v')
  })

  test('note: equal stamps with different values converge on the larger value hash', () => {
    const stamp = h(7, 0, B)
    const values: Json[] = ['x', 'y', 1, { a: 1 }, [true], null]
    const expected = values.reduce((best, v) => (jsonHash(v) > jsonHash(best) ? v : best))
    for (const order of [values, [...values].reverse()]) {
      const r = fold(order.map(v => note(v, stamp))) as NoteRecord
      assert.deepEqual(r.value, expected)
    }
  })

  test('note: the same value with keys in another order is the same state', () => {
    const a = note({ a: 1, b: 2 }, h(3))
    const b = note({ b: 2, a: 1 }, h(3))
    assert.equal(compareRecords(a, b), 0)
    assert.equal(mergeInto(a, b).changed, false)
  })

  test('episode: never removed, the later stamp wins, equal stamps converge on the data hash', () => {
    const e1 = episode({ summary: 'one' }, h(1))
    const e2 = episode({ summary: 'two' }, h(2))
    assert.equal(merge(e1, e2), e2)
    assert.equal(merge(e2, e1), e2)
    const x = episode({ summary: 'x' }, h(9, 0, B))
    const y = episode({ summary: 'y' }, h(9, 0, B))
    const winner = jsonHash(x.data) > jsonHash(y.data) ? x : y
    assert.equal(merge(x, y), winner)
    assert.equal(merge(y, x), winner)
  })

  test('trace: a copy of an entry is ignored', () => {
    const t = makeTrace('run-1', 'tool_call', { tool: 'grep' }, h(4))
    const copy = makeTrace('run-1', 'tool_call', { tool: 'grep' }, h(4))
    assert.equal(t.id, copy.id)
    assert.deepEqual(mergeInto(t, copy), { result: t, changed: false })
    assert.deepEqual(mergeInto(undefined, copy), { result: copy, changed: true })
  })

  test('triple records of one id always have the same content', () => {
    const r: TripleRecord = makeTriple(content, h(1))
    assert.equal(makeTriple({ ...content }, h(99, 3, B), true).id, r.id)
  })
})
