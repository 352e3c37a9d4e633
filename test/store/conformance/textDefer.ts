/**
 * Conformance: writes whose full-text indexing is deferred (ApplyOptions.deferText, the pages of
 * a far-behind catch-up; store/textPending.ts). Their records are pending — not found, search
 * partial — while ordinary writes between them are found at once; a rebuild's slices index the
 * pending ones, and then every live record is found exactly once, with the answers (hits, scores,
 * counts) of a store that never deferred. A property interleaves deferred pages, local writes,
 * overwrites, deletes, rebuild slices and restarted rebuilds.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import fc from 'fast-check'
import { recordKey, type MemoryRecord } from '../../../src/core/model.ts'
import type { Store } from '../../../src/store/Store.ts'
import type { TextSearchResult } from '../../../src/store/textSearch.ts'
import { parseQuery } from '../../../src/text/query.ts'
import { assertProperty, seedFor } from '../../unit/arbitraries.ts'
import { at, B, mark, note, noteTomb, tomb, triple, type StoreOptions, type StoreRef } from './fixtures.ts'

const QUERIES = ['alpha', 'beta gamma', 'delta OR omega', '"alpha beta"', 'gam*', 'alpha -beta', 'user OR note']

const search = (s: Store, q: string): TextSearchResult => s.searchText({ query: parseQuery(q), limit: 50 })
const keys = (s: Store, q: string): string[] => search(s, q).hits.map(h => recordKey(h.record)).sort()

/** A peer's page: its records' indexing deferred or not. */
const page = (s: Store, records: readonly MemoryRecord[], defer: boolean): void => {
  s.apply(records, { clock: mark(0), via: B, ...(defer ? { deferText: true } : {}) })
}
const local = (s: Store, ...records: MemoryRecord[]): void => { s.apply(records, { clock: mark(0) }) }

/** Runs the pending range's rebuild to its end in slices of `slice`. */
function finish (s: Store, slice: number): void {
  for (let i = 0; i < 10_000 && s.textIndex().rebuilding; i++) s.continueTextRebuild(slice)
  assert.equal(s.textIndex().rebuilding, false)
}

export function textDeferTests (ref: StoreRef, open: (opts?: StoreOptions) => { store: Store, teardown?: () => void }): void {
  it('deferred pages are pending until the rebuild reaches them; writes between them are found at once; then each record once', () => {
    const s = ref.store
    const early = triple('user:early', 'says', 'alpha before', at(100))
    local(s, early)
    const p1 = [triple('user:p1', 'says', 'alpha one', at(101, 0, B)), note('n:p1', 'beta gamma', at(102, 0, B))]
    page(s, p1, true)
    assert.deepEqual(s.textIndex(), { docs: 1, rebuilding: true, done: 1, upto: 3 })
    assert.equal(search(s, 'alpha').partial, true)
    assert.deepEqual(keys(s, 'alpha'), [early.id], 'a pending record is not found')
    const mine = triple('user:mine', 'says', 'alpha local', at(103))
    local(s, mine)
    assert.deepEqual(keys(s, 'alpha'), [early.id, mine.id].sort(), 'a local write is found from its commit')
    const two = triple('user:p2', 'says', 'alpha two', at(104, 0, B))
    const p2 = [two, note('n:p1', 'delta now', at(105, 0, B))]
    page(s, p2, true)
    assert.deepEqual(keys(s, 'alpha'), [early.id, mine.id].sort(), 'the local write stays found across the next deferred page')
    // the kept local write changes, a pending record is deleted, the early one is replaced, all while pending
    local(s, tomb(mine, at(106)), tomb(p1[0] as ReturnType<typeof triple>, at(107)))
    const early2 = note('n:early', 'omega', at(108))
    page(s, [early2], false)
    assert.deepEqual(keys(s, 'alpha'), [early.id])
    assert.deepEqual(keys(s, 'omega'), ['n:early'], 'a page indexed as written is found at once')
    assert.equal(search(s, 'omega').partial, true)
    finish(s, 2)
    assert.equal(search(s, 'alpha').partial, false)
    assert.deepEqual(keys(s, 'alpha'), [early.id, two.id].sort())
    assert.deepEqual(keys(s, 'delta'), ['n:p1'])
    assert.deepEqual(keys(s, 'gamma'), [], 'the replaced pending state is not found')
    const docs = s.textIndex().docs
    const answers = QUERIES.map(q => search(s, q))
    s.startTextRebuild()
    finish(s, 1000)
    assert.equal(s.textIndex().docs, docs, 'no record counted twice')
    assert.deepEqual(QUERIES.map(q => search(s, q)), answers, 'the answers of a full rebuild')
  })

  it('property: deferred pages, local writes, overwrites, deletes, slices and restarted rebuilds answer as a store that never deferred', () => {
    const words = fc.constantFrom('alpha', 'beta', 'gamma', 'delta', 'omega')
      const text = fc.array(words, { minLength: 1, maxLength: 3 }).map(w => w.join(' '))
      const write = fc.record({
        kind: fc.constantFrom('triple', 'note', 'noteTomb', 'tripleTomb'),
        key: fc.integer({ min: 0, max: 5 }),
        text
      })
      const op = fc.oneof(
        fc.record({ t: fc.constant('page' as const), writes: fc.array(write, { minLength: 1, maxLength: 4 }), defer: fc.boolean() }),
        fc.record({ t: fc.constant('local' as const), writes: fc.array(write, { minLength: 1, maxLength: 2 }), defer: fc.constant(false) }),
        fc.record({ t: fc.constant('slice' as const), n: fc.integer({ min: 1, max: 4 }) }),
        fc.record({ t: fc.constant('reindex' as const) })
      )
      assertProperty(fc.property(fc.array(op, { maxLength: 30 }), fc.integer({ min: 1, max: 6 }), (ops, last) => {
        // each case on empty stores of its own: `a` defers as told, `b` never
        const oa = open()
        const ob = open()
        const a = oa.store
        const b = ob.store
        try {
          let wall = 1000
          const triples = new Map<number, ReturnType<typeof triple>>()
          const make = (w: { kind: string, key: number, text: string }, origin: boolean): MemoryRecord => {
            const hlc = at(++wall, 0, origin ? B : undefined)
            if (w.kind === 'note') return note(`note:k${w.key}`, w.text, hlc)
            if (w.kind === 'noteTomb') return noteTomb(`note:k${w.key}`, hlc)
            const t = triples.get(w.key) ?? triple(`user:u${w.key}`, 'says', w.text, hlc)
            triples.set(w.key, t)
            return w.kind === 'tripleTomb' ? tomb(t, hlc) : { ...t, hlc }
          }
          for (const o of ops) {
            if (o.t === 'slice') { if (a.textIndex().rebuilding) a.continueTextRebuild(o.n); continue }
            if (o.t === 'reindex') { a.startTextRebuild(); continue }
            const records = o.writes.map(w => make(w, o.t === 'page'))
            if (o.t === 'page') { page(a, records, o.defer); page(b, records, false) } else { local(a, ...records); local(b, ...records) }
            assert.equal(search(a, 'alpha').partial, a.textIndex().rebuilding)
          }
          finish(a, last)
          assert.equal(a.textIndex().docs, b.textIndex().docs, 'records indexed')
          for (const q of QUERIES) assert.deepEqual(search(a, q), search(b, q), q)
        } finally {
          a.close(); oa.teardown?.()
          b.close(); ob.teardown?.()
        }
      }), seedFor(1707), 150)
  })
}
