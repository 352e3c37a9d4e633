/**
 * Conformance: writes that leave the store's secondary indexes out (ApplyOptions.deferIndexes,
 * the pages of a far-behind catch-up; replication/farBehind.ts). The store says how many are
 * left out until buildDeferredIndexes has built them, one per call; writes without the flag
 * leave that as it is; and every query answers as a store that never left them out, before,
 * between and after the builds. A property interleaves deferring pages, other pages, local
 * writes, deletes and builds.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import fc from 'fast-check'
import type { MemoryRecord, Term, TripleRecord } from '../../../src/core/model.ts'
import type { Store } from '../../../src/store/Store.ts'
import { assertProperty, seedFor } from '../../unit/arbitraries.ts'
import { at, B, mark, tomb, triple, type StoreOptions, type StoreRef } from './fixtures.ts'

const page = (s: Store, records: readonly MemoryRecord[], defer: boolean): void => {
  s.apply(records, { clock: mark(0), via: B, ...(defer ? { deferText: true, deferIndexes: true } : {}) })
}
const local = (s: Store, ...records: MemoryRecord[]): void => { s.apply(records, { clock: mark(0) }) }

const node = (value: string): Term => ({ kind: 'node', value })
const PAGE = { limit: 100, offset: 0 }

/** What the queries the indexes serve answer: by subject, subject + predicate, predicate, predicate + object, object, namespace. */
function answers (s: Store): unknown[] {
  const q = (p: Parameters<Store['queryTriples']>[0]): unknown => s.queryTriples(p, PAGE)
  const out: unknown[] = []
  for (const subject of ['ns1:a', 'ns2:b', 'ns1:c']) {
    out.push(q({ subject }), q({ subject, includeDeleted: true }))
    for (const predicate of ['knows', 'says']) out.push(q({ subject, predicate }))
  }
  for (const predicate of ['knows', 'says']) {
    out.push(q({ predicate }))
    for (const object of [node('ns1:a'), node('ns2:b'), { kind: 'string', value: 'x' } as Term]) out.push(q({ predicate, object }))
  }
  for (const object of [node('ns1:a'), node('ns2:b'), node('ns1:c')]) out.push(q({ object }), q({ object, includeDeleted: true }))
  for (const namespace of ['ns1', 'ns2']) out.push(q({ namespace }))
  return out
}

export function indexDeferTests (ref: StoreRef, open: (opts?: StoreOptions) => { store: Store, teardown?: () => void }): void {
  it('a deferring page leaves the indexes out until they are built, one per call; other writes keep that state', () => {
    const s = ref.store
    assert.equal(s.deferredIndexes(), 0)
    assert.equal(s.buildDeferredIndexes(), 0, 'nothing to build')
    local(s, triple('ns1:a', 'knows', node('ns2:b'), at(100)))
    page(s, [triple('ns2:b', 'knows', node('ns1:a'), at(101, 0, B))], true)
    const left = s.deferredIndexes()
    assert.ok(left > 0, 'left out')
    local(s, triple('ns1:c', 'says', 'x', at(102)))
    page(s, [triple('ns1:c', 'knows', node('ns1:a'), at(103, 0, B))], false)
    assert.equal(s.deferredIndexes(), left, 'writes without the flag do not build them')
    assert.equal(s.queryTriples({ object: node('ns1:a') }, PAGE).total, 2)
    for (let n = left; n > 0; n--) assert.equal(s.buildDeferredIndexes(), n - 1)
    assert.equal(s.deferredIndexes(), 0)
    assert.equal(s.queryTriples({ object: node('ns1:a') }, PAGE).total, 2)
    assert.equal(s.queryTriples({ subject: 'ns1:c', predicate: 'says' }, PAGE).total, 1)
  })

  it('property: deferring pages, other pages, local writes, deletes and builds answer every query as a store that never deferred', () => {
    const write = fc.record({
      s: fc.constantFrom('ns1:a', 'ns2:b', 'ns1:c'),
      p: fc.constantFrom('knows', 'says'),
      o: fc.constantFrom('ns1:a', 'ns2:b', 'ns1:c', 'x', 'y'),
      del: fc.boolean()
    })
    const op = fc.oneof(
      fc.record({ t: fc.constant('page' as const), writes: fc.array(write, { minLength: 1, maxLength: 4 }), defer: fc.boolean() }),
      fc.record({ t: fc.constant('local' as const), writes: fc.array(write, { minLength: 1, maxLength: 2 }), defer: fc.constant(false) }),
      fc.record({ t: fc.constant('build' as const) })
    )
    assertProperty(fc.property(fc.array(op, { maxLength: 25 }), ops => {
      // each case on empty stores of its own: `a` defers as told, `b` never
      const oa = open()
      const ob = open()
      const a = oa.store
      const b = ob.store
      try {
        let wall = 1000
        const made = new Map<string, TripleRecord>()
        const make = (w: { s: string, p: string, o: string, del: boolean }, fromPeer: boolean): MemoryRecord => {
          const hlc = at(++wall, 0, fromPeer ? B : undefined)
          const t = triple(w.s, w.p, w.o.includes(':') ? node(w.o) : w.o, hlc)
          const known = made.get(t.id)
          made.set(t.id, t)
          return w.del && known !== undefined ? tomb(known, hlc) : t
        }
        for (const o of ops) {
          if (o.t === 'build') { a.buildDeferredIndexes(); continue }
          const records = o.writes.map(w => make(w, o.t === 'page'))
          if (o.t === 'page') { page(a, records, o.defer); page(b, records, false) } else { local(a, ...records); local(b, ...records) }
          assert.deepEqual(answers(a), answers(b))
        }
        for (let i = 0; i < 10 && a.deferredIndexes() > 0; i++) a.buildDeferredIndexes()
        assert.equal(a.deferredIndexes(), 0)
        assert.equal(b.deferredIndexes(), 0)
        assert.deepEqual(answers(a), answers(b))
      } finally {
        a.close(); oa.teardown?.()
        b.close(); ob.teardown?.()
      }
    }), seedFor(1811), 100)
  })
}
