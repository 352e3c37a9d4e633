/**
 * Conformance: metadata, stats, health, closing, reads by key, and the engine's triple adds
 * (assertTriples) over the store.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { isEngramError } from '../../../src/core/errors.ts'
import { compareHlc } from '../../../src/core/hlc.ts'
import type { TripleId } from '../../../src/core/ids.ts'
import { Engine } from '../../../src/engine/Engine.ts'
import { A, B, at, episode, mark, note, noteTomb, put, tomb, trace, triple, type StoreRef } from './fixtures.ts'

export function lifecycleTests (ref: StoreRef): void {
  it('meta: set, overwrite, delete; separate from records', () => {
    const { store } = ref
    assert.equal(store.getMeta('peers'), undefined)
    store.setMeta('peers', '[]')
    store.setMeta('peers', '["x"]')
    store.setMeta('other', '')
    assert.equal(store.getMeta('peers'), '["x"]')
    assert.equal(store.getMeta('other'), '')
    store.setMeta('peers', undefined)
    assert.equal(store.getMeta('peers'), undefined)
    assert.equal(store.stats().lastSeq, 0)
  })

  it('durability: a local write is durable when apply returns; a refetchable page is once flushed', () => {
    const { store } = ref
    put(store, triple('s:1', 'p', 'o', at(100)))
    assert.equal(store.durableSeq(), store.stats().lastSeq, 'a local write')
    store.apply([triple('s:2', 'p', 'o', at(101, 0, B)), note('k', 1, at(102, 0, B))], { clock: mark(0), via: B, cursor: { peer: B, seq: 7 }, refetchable: true })
    assert.ok(store.durableSeq() <= store.stats().lastSeq)
    assert.ok(store.durableSeq() >= 1, 'what was durable stays durable')
    store.flush()
    assert.equal(store.durableSeq(), 3)
    assert.equal(store.getCursor(B), 7)
    store.flush()
    assert.equal(store.durableSeq(), 3, 'flushing again changes nothing')
    put(store, note('k2', 2, at(103)))
    assert.equal(store.durableSeq(), 4)
  })

  it('reads by key: absent records, malformed triple ids', () => {
    const { store } = ref
    const t = triple('s:1', 'p', 'o', at(100))
    put(store, t)
    assert.equal(store.getTriple(t.id.toUpperCase() as TripleId), undefined)
    assert.equal(store.getTriple('abc' as TripleId), undefined)
    assert.equal(store.getTriple('0'.repeat(64) as TripleId), undefined)
    assert.equal(store.getNote('none'), undefined)
    assert.equal(store.getEpisode('none'), undefined)
    assert.equal(store.getTrace('none'), undefined)
    assert.equal(store.get('note', 'none'), undefined)
  })

  it('stats count live records and tombstones per kind', () => {
    const { store } = ref
    const ts = Array.from({ length: 5 }, (_, i) => triple(`s:${i}`, 'p', 'o', at(100)))
    put(store, ...ts, note('a', 1, at(100)), note('b', 1, at(100)), episode('e', {}, at(100)), trace('r', 't', 1, at(100)))
    put(store, tomb(ts[0]!, at(200)), tomb(ts[1]!, at(200)), noteTomb('a', at(200)))
    put(store, ts[0]!, { ...ts[1]!, hlc: at(300) })
    assert.deepEqual({ ...store.stats() }, {
      triples: 4, tripleTombstones: 1, notes: 1, noteTombstones: 1, episodes: 1, traces: 1, lastSeq: 13, feedFloor: 0
    })
  })

  it('health is ok while open; a closed store says so and refuses calls', () => {
    const { store } = ref
    assert.equal(store.health().ok, true)
    store.close()
    assert.equal(store.health().ok, false)
    const closed = (e: unknown): boolean => isEngramError(e) && e.code === 'STORE_UNAVAILABLE'
    assert.throws(() => store.stats(), closed)
    assert.throws(() => store.getNote('x'), closed)
    assert.throws(() => put(store, note('x', 1, at(1))), closed)
    store.close()
  })

  it('engine assertTriples: every add is a fresh assertion; created and reasserted say what happened; duplicates collapse', () => {
    const { store } = ref
    let now = 1_000
    const engine = new Engine({ store, node: A, maxDriftMs: 60_000, now: () => now })
    const changes: number[] = []
    engine.on('change', ev => changes.push(ev.entries.length))
    const input = (o: string): unknown => ({ subject: 'user:alice', predicate: 'likes', object: o })
    const first = engine.assertTriples([input('tea'), input('coffee')])
    const [tea, coffee] = first.triples
    assert.ok(tea !== undefined && coffee !== undefined)
    assert.deepEqual([first.created, first.reasserted], [2, 0])
    now = 2_000
    const again = engine.assertTriples([input('tea'), input('milk'), input('milk'), input('tea')])
    assert.deepEqual([again.created, again.reasserted], [1, 1], 'milk is new, tea was present')
    assert.equal(again.triples[0]!.id, tea.id)
    assert.ok(compareHlc(again.triples[0]!.hlc, tea.hlc) > 0, 'a present triple is re-stamped')
    assert.deepEqual(again.triples[3], again.triples[0])
    assert.deepEqual(again.triples[1], again.triples[2])
    assert.equal(again.triples[1]!.hlc.wall, 2_000)
    assert.deepEqual(store.getTriple(tea.id), again.triples[0])
    engine.deleteTriple(coffee.id)
    now = 3_000
    const back = engine.assertTriples([input('coffee')])
    assert.deepEqual([back.created, back.reasserted], [1, 0], 'a deleted triple added again counts as created')
    assert.equal(back.triples[0]!.deleted, false)
    assert.ok(back.triples[0]!.hlc.wall === 3_000 && back.triples[0]!.hlc.counter === 0)
    assert.deepEqual(store.getTriple(coffee.id), back.triples[0])
    assert.deepEqual(changes, [2, 2, 1, 1])
    assert.equal(store.stats().triples, 3)
    assert.ok(store.clockMark().wall >= 3_000)
    assert.deepEqual(engine.assertTriples([]), { triples: [], created: 0, reasserted: 0 })
  })

  it('engine: a restarted clock resumes above the persisted mark', () => {
    const { store } = ref
    store.apply([], { clock: mark(5_000, 7) })
    const engine = new Engine({ store, node: A, maxDriftMs: 60_000, now: () => 1_000 })
    const [t] = engine.addTriples([{ subject: 's:x', predicate: 'p', object: 1 }])
    assert.deepEqual(t!.hlc, at(5_000, 8))
  })
}
