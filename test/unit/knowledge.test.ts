/**
 * The pure rules of core/knowledge.ts: Rule A's `covers` (with a lower bound), what a received
 * vector may teach (`toLearn`: never this node's own entry, clamped below what is held aside and
 * by voids, only what advances), a peer's vector as evidence (`asKnowledge`), Rule B's stable
 * mark and the members declared gone, and the wire rows (`parseKnowledge`, `parseVoids`).
 * Properties run with fixed seeds, printed on failure.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { compareMark, type HlcMark } from '../../src/core/hlc.ts'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import {
  asKnowledge, covers, goneMembers, knowledgeRows, markBelow, parseKnowledge, parseVoids, stableMark, toLearn, voidRows,
  type ClockVoid, type Knowledge, type KnowledgeEntry, type SentKnowledgeEntry
} from '../../src/core/knowledge.ts'
import { assertProperty, seedFor } from './arbitraries.ts'

const A = asNodeId('node-a')
const B = asNodeId('node-b')
const C = asNodeId('node-c')
const NODES = [A, B, C, asNodeId('node-d')]
const DAY = 86_400_000
const T0 = 1_763_631_000_000

const mark = (wall: number, counter = 0): HlcMark => ({ wall, counter })
const sent = (node: NodeId, wall: number, generation = 0, counter = 0): SentKnowledgeEntry => ({ node, wall, counter, generation })

describe('covers (Rule A)', () => {
  test('a stamp at or below its origin\'s entry is covered; above it, or of an unknown origin, is not', () => {
    const k: Knowledge = new Map([[B, mark(100, 2)]])
    assert.equal(covers(k, { node: B, wall: 100, counter: 2 }), true)
    assert.equal(covers(k, { node: B, wall: 99, counter: 9 }), true)
    assert.equal(covers(k, { node: B, wall: 100, counter: 3 }), false)
    assert.equal(covers(k, { node: C, wall: 1, counter: 0 }), false)
  })

  test('an entry with a lower bound covers only the stamps above it (a store that lacks its own history)', () => {
    const k: Knowledge = new Map([[A, { ...mark(500), from: markBelow(mark(300)) }]])
    assert.equal(covers(k, { node: A, wall: 299, counter: 5 }), false, 'before the store was created')
    assert.equal(covers(k, { node: A, wall: 300, counter: 0 }), true)
    assert.equal(covers(k, { node: A, wall: 500, counter: 0 }), true)
    assert.equal(covers(k, { node: A, wall: 501, counter: 0 }), false)
  })

  test('markBelow is the mark just below: nothing lies between', () => {
    assert.deepEqual(markBelow(mark(10, 3)), mark(10, 2))
    assert.deepEqual(markBelow(mark(10, 0)), mark(9, 65_535))
    assert.deepEqual(markBelow(mark(0, 0)), mark(0, 0))
  })
})

describe('toLearn', () => {
  const ctx = (over: Partial<Parameters<typeof toLearn>[1]> = {}): Parameters<typeof toLearn>[1] => ({
    current: new Map(), voidOf: () => undefined, heldMin: () => undefined, self: A, ...over
  })

  test('never this node\'s own entry; only entries that advance what is known', () => {
    const out = toLearn([sent(A, 900), sent(B, 100), sent(C, 50)], ctx({ current: new Map([[C, mark(60)]]) }))
    assert.deepEqual(out, [{ node: B, wall: 100, counter: 0 }])
  })

  test('clamped below the lowest stamp of the origin held aside here', () => {
    const out = toLearn([sent(B, 1000)], ctx({ heldMin: n => (n === B ? mark(400, 0) : undefined) }))
    assert.deepEqual(out, [{ node: B, wall: 399, counter: 65_535 }])
  })

  test('a void the sender had not learnt clamps its entry; one of a generation this node has not learnt is skipped', () => {
    const v: ClockVoid = { node: B, generation: 2, wall: 300, counter: 0 }
    assert.deepEqual(toLearn([sent(B, 1000, 1)], ctx({ voidOf: () => v })), [{ node: B, wall: 300, counter: 0 }])
    assert.deepEqual(toLearn([sent(B, 1000, 2)], ctx({ voidOf: () => v })), [{ node: B, wall: 1000, counter: 0 }])
    assert.deepEqual(toLearn([sent(B, 1000, 3)], ctx({ voidOf: () => v })), [])
  })

  test('property: what is learnt advances the current entry and never passes what was sent, a void or a held stamp', () => {
    const entryArb = fc.record({ node: fc.constantFrom(...NODES), wall: fc.integer({ min: 0, max: 1000 }), counter: fc.integer({ min: 0, max: 3 }), generation: fc.integer({ min: 0, max: 2 }) })
    const markArb = fc.record({ wall: fc.integer({ min: 0, max: 1000 }), counter: fc.integer({ min: 0, max: 3 }) })
    const seed = seedFor(0x6b0e)
    assertProperty(fc.property(
      fc.array(entryArb, { maxLength: 6 }), fc.dictionary(fc.constantFrom(...NODES), markArb), fc.dictionary(fc.constantFrom(...NODES), markArb),
      fc.dictionary(fc.constantFrom(...NODES), fc.record({ generation: fc.integer({ min: 1, max: 2 }), wall: fc.integer({ min: 0, max: 1000 }), counter: fc.constant(0) })),
      (received, currentObj, heldObj, voidObj) => {
        const current = new Map(Object.entries(currentObj) as Array<[NodeId, HlcMark]>)
        const voidOf = (n: NodeId): ClockVoid | undefined => (voidObj[n] !== undefined ? { node: n, ...voidObj[n] } : undefined)
        const out = toLearn(received, { current, voidOf, heldMin: n => heldObj[n], self: A })
        for (const e of out) {
          assert.notEqual(e.node, A)
          const cur = current.get(e.node)
          if (cur !== undefined) assert.ok(compareMark(e, cur) > 0, 'advances')
          assert.ok(received.some(r => r.node === e.node && compareMark(e, r) <= 0 && r.generation <= (voidOf(e.node)?.generation ?? 0)), 'below an entry sent, of a generation known')
          const held = heldObj[e.node]
          if (held !== undefined) assert.ok(compareMark(e, held) < 0, 'below what is held aside')
          const v = voidOf(e.node)
          if (v !== undefined && received.every(r => r.node !== e.node || r.generation < v.generation)) assert.ok(compareMark(e, v) <= 0, 'clamped by the void')
        }
      }), seed, 300)
  })
})

describe('asKnowledge', () => {
  test('a peer\'s vector as evidence: clamped by voids it had not learnt, unknown generations left out', () => {
    const v: ClockVoid = { node: B, generation: 1, wall: 200, counter: 0 }
    const k = asKnowledge([sent(B, 900, 0), sent(C, 50), sent(A, 70, 0)], n => (n === B ? v : undefined))
    assert.deepEqual(k.get(B), mark(200))
    assert.deepEqual(k.get(C), mark(50))
    assert.deepEqual(k.get(A), mark(70))
    assert.equal(asKnowledge([sent(B, 900, 2)], () => v).has(B), false)
  })
})

describe('Rule B: the stable mark and members gone', () => {
  const e = (node: NodeId, wall: number): KnowledgeEntry => ({ node, wall, counter: 0 })

  test('the lowest entry of the members that are not gone; this node\'s own entry never counts', () => {
    const entries = [e(A, 10), e(B, T0 - 2 * DAY), e(C, T0 - 60 * DAY)]
    assert.deepEqual(stableMark(entries, A, T0, 30 * DAY), mark(T0 - 2 * DAY))
    assert.deepEqual(goneMembers(entries, A, T0, 30 * DAY), [C])
    assert.deepEqual(stableMark(entries, A, T0, 90 * DAY), mark(T0 - 60 * DAY), 'not gone yet: it is waited for')
    assert.equal(stableMark([e(A, 5)], A, T0, DAY), undefined, 'a node alone: nothing constrains')
  })

  test('a node that was itself away finds every entry equally old and declares no one gone', () => {
    const entries = [e(B, T0 - 60 * DAY), e(C, T0 - 61 * DAY)]
    assert.deepEqual(goneMembers(entries, A, T0, 30 * DAY), [])
    assert.deepEqual(stableMark(entries, A, T0, 30 * DAY), mark(T0 - 61 * DAY))
  })

  test('property: the stable mark is at or below every member not gone, and is one of their entries', () => {
    const seed = seedFor(0x57ab)
    assertProperty(fc.property(
      fc.array(fc.record({ node: fc.constantFrom(...NODES), wall: fc.integer({ min: T0 - 100 * DAY, max: T0 }), counter: fc.integer({ min: 0, max: 3 }) }), { maxLength: 6 }),
      fc.integer({ min: 1, max: 60 }),
      (raw, goneDays) => {
        const byNode = new Map(raw.map(r => [r.node, r]))
        const entries = [...byNode.values()]
        const gone = new Set(goneMembers(entries, A, T0, goneDays * DAY))
        const s = stableMark(entries, A, T0, goneDays * DAY)
        const members = entries.filter(x => x.node !== A && !gone.has(x.node))
        if (members.length === 0) { assert.equal(s, undefined); return }
        assert.ok(s !== undefined)
        for (const m of members) assert.ok(compareMark(s, m) <= 0)
        assert.ok(members.some(m => compareMark(s, m) === 0))
      }), seed, 300)
  })
})

describe('wire rows', () => {
  test('a vector and voids survive their rows; duplicate nodes keep their largest entry', () => {
    const k = [sent(B, 100, 0, 2), sent(C, 7, 3)]
    assert.deepEqual(parseKnowledge(knowledgeRows(k), 'k'), k)
    assert.deepEqual(parseKnowledge([[B, 5, 0], [B, 9, 1], [B, 7, 0]], 'k'), [sent(B, 9, 0, 1)])
    const v: ClockVoid[] = [{ node: B, generation: 1, wall: 50, counter: 0 }]
    assert.deepEqual(parseVoids(voidRows(v), 'vd'), v)
  })

  test('bad rows are refused, naming the field', () => {
    assert.throws(() => parseKnowledge('x', 'changes.k'), /changes\.k must be an array/)
    assert.throws(() => parseKnowledge([[B, 1]], 'changes.k'), /changes\.k\[0\] must be/)
    assert.throws(() => parseKnowledge([['not a node id!', 1, 0]], 'changes.k'), /changes\.k\[0\]\[0\] must be a node id/)
    assert.throws(() => parseKnowledge([[B, -1, 0]], 'changes.k'), /changes\.k\[0\]: wall/)
    assert.throws(() => parseKnowledge(Array.from({ length: 4097 }, () => [B, 1, 0]), 'changes.k'), /4097 entries; at most 4096/)
    assert.throws(() => parseVoids([[B, 0, 1, 0]], 'changes.vd'), /generation \(from 1\)/)
    assert.throws(() => parseVoids([[B, 1, 1]], 'changes.vd'), /changes\.vd\[0\] must be/)
  })
})
