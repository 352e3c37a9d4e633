/**
 * Conformance: the knowledge vector, Rule A (`known`), records held aside, clock voids, Rule B
 * (`collectTombstones` with a stable mark), a node's own records and the clock repair — every
 * change atomic with the batch that makes it.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { NodeId } from '../../../src/core/ids.ts'
import type { HlcMark } from '../../../src/core/hlc.ts'
import type { MemoryRecord } from '../../../src/core/model.ts'
import { A, at, B, C, episode, mark, note, noteTomb, put, tomb, trace, triple, type StoreRef } from './fixtures.ts'

const known = (...entries: Array<[NodeId, number]>): Map<NodeId, HlcMark> => new Map(entries.map(([n, w]) => [n, mark(w)]))

export function knowledgeTests (ref: StoreRef): void {
  it('learns knowledge entries with a batch: each raises its entry, never lowers it; listed by node', () => {
    const { store } = ref
    assert.deepEqual(store.knowledge(), [])
    store.apply([], { clock: mark(0), learn: [{ node: C, wall: 50, counter: 2 }, { node: B, wall: 70, counter: 0 }] })
    store.apply([], { clock: mark(0), learn: [{ node: C, wall: 40, counter: 9 }, { node: B, wall: 70, counter: 1 }] })
    assert.deepEqual(store.knowledge(), [{ node: B, wall: 70, counter: 1 }, { node: C, wall: 50, counter: 2 }])
  })

  it('Rule A: a triple or note absent here that the knowledge covers is dropped; present ones merge; episodes and traces are kept', () => {
    const { store } = ref
    const present = triple('s:present', 'p', 'o', at(10, 0, B))
    put(store, present)
    const gone = triple('s:gone', 'p', 'o', at(20, 0, B))
    const fresh = triple('s:fresh', 'p', 'o', at(120, 0, B))
    const n = note('cfg:gone', 1, at(30, 0, B))
    const k = known([B, 100])
    const r = store.apply([gone, fresh, n, tomb(present, at(40, 0, B)), episode('e:1', { a: 1 }, at(50, 0, B)), trace('r', 't', 1, at(60, 0, B))],
      { clock: mark(120), via: B, known: k })
    assert.equal(r.forgotten, 2, 'the absent triple and note the vector covers')
    assert.equal(r.unchanged, 2)
    assert.equal(store.getTriple(gone.id), undefined)
    assert.equal(store.getNote('cfg:gone'), undefined)
    assert.equal(store.getTriple(fresh.id)?.deleted, false, 'not covered: new data')
    assert.equal(store.getTriple(present.id)?.deleted, true, 'present here: merged as always')
    assert.ok(store.getEpisode('e:1') !== undefined && store.listTraces({ limit: 10, offset: 0 }).total === 1)
    // another origin's entry does not cover it
    const other = triple('s:other', 'p', 'o', at(20, 0, C))
    assert.equal(store.apply([other], { clock: mark(120), via: B, known: k }).forgotten, 0)
  })

  it('holds records aside: invisible to reads and the feed, listed in stamp order, once each, released with the batch that applies them', () => {
    const { store } = ref
    const far2 = triple('s:far2', 'p', 'o', at(900, 1, B))
    const far1 = triple('s:far1', 'p', 'o', at(800, 0, C))
    const far = [far2, note('cfg:far', 2, at(900, 0, B)), far1]
    const r = store.apply([triple('s:near', 'p', 'o', at(100, 0, B))], { clock: mark(100), via: B, hold: { records: far, at: 5_000 }, cursor: { peer: B, seq: 3 } })
    assert.equal(r.held, 3)
    assert.equal(r.changed.length, 1)
    assert.equal(store.getCursor(B), 3, 'the cursor moves past held records')
    assert.equal(store.getTriple(far2.id), undefined)
    assert.equal(store.stats().lastSeq, 1)
    assert.equal(store.dump().length, 1)
    assert.equal(store.apply([], { clock: mark(100), via: C, hold: { records: [far[0]!], at: 6_000 } }).held, 0, 'the same state is held once')
    const held = store.held({ limit: 10 })
    assert.deepEqual(held.map(h => h.record), [far[2], far[1], far[0]])
    assert.deepEqual(held.map(h => [h.via, h.arrivedAt]), [[B, 5_000], [B, 5_000], [B, 5_000]])
    assert.deepEqual(store.held({ limit: 10, upToWall: 850 }).map(h => h.record), [far[2]])
    assert.deepEqual(store.held({ limit: 2 }).length, 2)
    assert.deepEqual(store.heldOrigins(), [
      { node: B, count: 2, min: mark(900, 0), max: mark(900, 1) },
      { node: C, count: 1, min: mark(800), max: mark(800) }
    ])
    const release = store.held({ limit: 10, upToWall: 850 })
    const applied = store.apply(release.map(h => h.record), { clock: mark(800), via: C, release: release.map(h => h.id) })
    assert.equal(applied.changed.length, 1)
    assert.equal(store.getTriple(far1.id)?.hlc.wall, 800)
    assert.equal(store.held({ limit: 10 }).length, 2)
  })

  it('a newer void drops what it voids from the held records and lowers the knowledge; an older one does nothing', () => {
    const { store } = ref
    const heldB = [triple('s:1', 'p', 'o', at(500, 0, B)), triple('s:2', 'p', 'o', at(700, 0, B))]
    store.apply([], { clock: mark(0), via: C, hold: { records: [...heldB, triple('s:3', 'p', 'o', at(700, 0, C))], at: 1 }, learn: [{ node: B, wall: 650, counter: 0 }, { node: C, wall: 650, counter: 0 }] })
    const r = store.apply([], { clock: mark(0), voids: [{ node: B, generation: 1, wall: 600, counter: 0 }] })
    assert.equal(r.voided, 1)
    assert.deepEqual(store.held({ limit: 10 }).map(h => h.record), [heldB[0], triple('s:3', 'p', 'o', at(700, 0, C))])
    assert.deepEqual(store.knowledge(), [{ node: B, wall: 600, counter: 0 }, { node: C, wall: 650, counter: 0 }])
    assert.deepEqual(store.voids(), [{ node: B, generation: 1, wall: 600, counter: 0 }])
    assert.equal(store.apply([], { clock: mark(0), voids: [{ node: B, generation: 1, wall: 100, counter: 0 }] }).voided, 0, 'the same generation again')
    assert.equal(store.held({ limit: 10 }).length, 2)
    assert.equal(store.apply([], { clock: mark(0), voids: [{ node: B, generation: 2, wall: 100, counter: 0 }] }).voided, 1)
    assert.deepEqual(store.voids(), [{ node: B, generation: 2, wall: 100, counter: 0 }])
  })

  it('a batch that fails changes neither knowledge, voids nor held records', () => {
    const { store } = ref
    store.apply([], { clock: mark(0), via: B, hold: { records: [triple('s:h', 'p', 'o', at(900, 0, B))], at: 1 } })
    assert.throws(() => store.apply([triple('s:x', 'p', 'o', at(10, 0, B))], {
      clock: mark(10),
      via: B,
      learn: [{ node: B, wall: 50, counter: 0 }],
      voids: [{ node: B, generation: 1, wall: 10, counter: 0 }],
      hold: { records: [triple('s:y', 'p', 'o', at(990, 0, B))], at: 2 },
      meta: () => { throw new Error('the hook fails') }
    }), /the hook fails/)
    assert.deepEqual(store.knowledge(), [])
    assert.deepEqual(store.voids(), [])
    assert.deepEqual(store.held({ limit: 10 }).map(h => h.record.hlc.wall), [900])
    assert.equal(store.stats().lastSeq, 0)
  })

  it('Rule B: collectTombstones with a stable mark keeps the tombstones above it', () => {
    const { store } = ref
    const t = triple('s:a', 'p', 'o', at(10))
    const u = triple('s:b', 'p', 'o', at(10))
    put(store, t, u, tomb(t, at(100, 0)), tomb(u, at(100, 5)), noteTomb('cfg:a', at(90)), noteTomb('cfg:b', at(300)))
    assert.equal(store.collectTombstones(1_000, mark(100, 2)), 2, 'the triple at (100, 0) and the note at 90')
    assert.equal(store.getTriple(t.id), undefined)
    assert.equal(store.getTriple(u.id)?.deleted, true, 'above the stable mark')
    assert.equal(store.getNote('cfg:b')?.deleted, true, 'above the stable mark')
    assert.equal(store.collectTombstones(200, mark(1_000)), 1, 'the TTL cut still applies')
    assert.equal(store.getNote('cfg:b')?.deleted, true)
    assert.ok(store.stats().feedFloor > 0)
  })

  it('stampedAfter: the current states stamped after a time, of one node or all, in stamp order, at most limit', () => {
    const { store } = ref
    const recs: MemoryRecord[] = [
      triple('s:a', 'p', 'o', at(300, 0, A)), note('cfg:a', 1, at(200, 0, A)), episode('e:a', { x: 1 }, at(250, 0, A)),
      trace('r', 't', 1, at(400, 0, A)), triple('s:b', 'p', 'o', at(500, 0, B)), triple('s:old', 'p', 'o', at(50, 0, A))
    ]
    store.apply(recs, { clock: mark(500) })
    assert.deepEqual(store.stampedAfter(100, { limit: 10, origin: A }).map(r => r.hlc.wall), [200, 250, 300, 400])
    assert.deepEqual(store.stampedAfter(100, { limit: 2, origin: A }).map(r => r.hlc.wall), [200, 250])
    assert.deepEqual(store.stampedAfter(0, { limit: 10, origin: B }).map(r => r.hlc.wall), [500])
    assert.deepEqual(store.stampedAfter(0, { limit: 10, origin: C }), [])
    assert.deepEqual(store.stampedAfter(250, { limit: 10 }).map(r => r.hlc.wall), [300, 400, 500])
  })

  it('repairClock: own records re-stamped lower (a trace replaced), the mark lowered, the void recorded, all new feed entries', () => {
    const { store } = ref
    const t = triple('s:a', 'p', 'o', at(9_000, 0, A))
    const n = note('cfg:a', 1, at(9_001, 0, A))
    const r = trace('run', 'step', 1, at(9_002, 0, A))
    put(store, t, n, r)
    store.apply([], { clock: mark(9_500) })
    const restamped = trace('run', 'step', 1, at(1_001, 2, A))
    const next = [{ ...t, hlc: at(1_001, 0, A) }, { ...n, hlc: at(1_001, 1, A) }, restamped]
    const result = store.repairClock({ clock: mark(1_001, 2), records: next, removeTraces: [r.id], void: { node: A, generation: 1, wall: 1_000, counter: 0 } })
    assert.deepEqual(result.changed.map(e => e.record), next)
    assert.deepEqual(result.changed.map(e => e.seq), [4, 5, 6])
    assert.deepEqual(store.getTriple(t.id), next[0])
    assert.deepEqual(store.getNote('cfg:a'), next[1])
    assert.equal(store.getTrace(r.id), undefined)
    assert.deepEqual(store.getTrace(restamped.id), restamped)
    assert.deepEqual(store.clockMark(), mark(1_001, 2))
    assert.deepEqual(store.voids(), [{ node: A, generation: 1, wall: 1_000, counter: 0 }])
    assert.equal(store.stats().traces, 1)
    assert.deepEqual(store.changesSince(0, { limit: 10 }).entries.map(e => e.seq), [4, 5, 6])
  })
}
