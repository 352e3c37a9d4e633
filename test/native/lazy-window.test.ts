/**
 * LazyWindow: changes queue up while commits come, are taken in in the background once commits
 * pause (in slices, large changes part by part, in order), and the index is exact either way.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import fc from 'fast-check'
import { asNodeId, asSeq } from '../../src/core/ids.ts'
import { makeTriple } from '../../src/core/records.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import type { FeedEntry } from '../../src/store/Store.ts'
import { LazyWindow } from '../../src/sync/native/LazyWindow.ts'
import { windowStartFor } from '../../src/protocol/native/windowElement.ts'
import { WindowIndex } from '../../src/protocol/native/WindowIndex.ts'
import { eventually } from '../support/eventually.ts'
import { assertProperty, seedFor } from '../unit/arbitraries.ts'
import { applyWindowOp, windowOp } from './windowOps.ts'

/** A full garbage collection, at once (V8's own gc(), taken from a fresh context once allowed). */
const collect = ((): () => void => {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
})()

const T0 = 1_763_631_000_000
const TTL = 24 * 3_600_000

/** Polls `cond` (test/support/eventually.ts: the one wait, with a deadline for a loaded machine). */
async function until (what: string, cond: () => boolean): Promise<void> {
  await eventually(cond, what, { everyMs: 5 })
}

function setup (opts: { idleMs: number, sliceEntries?: number, busy?: () => boolean, busyQueued?: number }): { engine: Engine, store: MemoryStore, window: LazyWindow, fresh: () => WindowIndex } {
  const store = new MemoryStore()
  const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => T0 })
  const window = new LazyWindow({ store, ttlMs: TTL, now: () => T0, ...opts })
  window.current() // built on the empty store, as a node does when it starts
  engine.on('change', e => { window.observe(e.entries) })
  return { engine, store, window, fresh: () => new WindowIndex({ store, ttlMs: TTL, now: () => T0 }) }
}

const write = (engine: Engine, from: number, n: number): void => {
  engine.addTriples(Array.from({ length: n }, (_, i) => ({ subject: `user:s${from + i}`, predicate: 'knows', object: from + i })))
}

describe('LazyWindow', () => {
  it('takes the queue in once commits pause, in slices, a large change part by part, and ends exact', async () => {
    const { engine, window, fresh } = setup({ idleMs: 20, sliceEntries: 300 })
    write(engine, 0, 1_000) // one change larger than a slice
    for (let i = 0; i < 10; i++) write(engine, 1_000 + i * 50, 50)
    assert.equal(window.pending, 1_500)
    await until('the queue taken in without a read', () => window.pending === 0)
    assert.deepEqual(window.index.digest(), fresh().digest())
    engine.deleteTriple(engine.store.dump().find(r => r.kind === 'triple')!.id as string)
    await until('the delete taken in', () => window.pending === 0)
    assert.deepEqual(window.index.digest(), fresh().digest())
    window.stop()
  })

  it('is exact when read at any point of a take-in, and leaves nothing queued after stop', async () => {
    const { engine, window, fresh } = setup({ idleMs: 10, sliceEntries: 100 })
    write(engine, 0, 2_000)
    await until('a take-in under way', () => window.pending < 2_000)
    write(engine, 2_000, 10) // a commit during the take-in
    assert.deepEqual(window.current().digest(), fresh().digest())
    assert.equal(window.pending, 0)
    window.stop()
    write(engine, 3_000, 10)
    assert.equal(window.pending, 10, 'after stop, entries wait for a read')
    assert.deepEqual(window.current().digest(), fresh().digest())
  })

  it('waits while a catch-up streams in (busy), then takes the queue in; exact when read meanwhile', async () => {
    let busy = true
    const { engine, window, fresh } = setup({ idleMs: 5, sliceEntries: 100, busy: () => busy })
    for (let i = 0; i < 5; i++) write(engine, i * 100, 100)
    // the idle wait passes many times over while busy: nothing is taken in
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(window.pending, 500, 'nothing taken in during the catch-up')
    busy = false
    await until('the queue taken in once the catch-up ended', () => window.pending === 0)
    assert.deepEqual(window.index.digest(), fresh().digest())
    busy = true
    write(engine, 500, 10)
    assert.deepEqual(window.current().digest(), fresh().digest(), 'a read takes the queue in, busy or not')
    assert.equal(window.pending, 0)
    window.stop()
  })

  it('during a catch-up, takes the queue in past busyQueued entries (the memory it holds stays bounded)', async () => {
    const { engine, window, fresh } = setup({ idleMs: 5, sliceEntries: 100, busy: () => true, busyQueued: 300 })
    write(engine, 0, 200)
    await new Promise(resolve => setTimeout(resolve, 60))
    assert.equal(window.pending, 200, 'below the bound: waits')
    write(engine, 200, 200)
    await until('the queue taken in past the bound, busy or not', () => window.pending === 0)
    assert.deepEqual(window.index.digest(), fresh().digest())
    window.stop()
  })

  it('keeps no record of a queued change alive: only what the index needs of it', async () => {
    const { store, window } = setup({ idleMs: 5, busy: () => true })
    window.current().digest() // built
    // changes as a catch-up commits them: the records are the page's, held by nothing else
    const entries = (from: number, n: number): FeedEntry[] => Array.from({ length: n }, (_, i) => ({
      seq: asSeq(from + i + 1),
      record: makeTriple({ subject: `user:s${from + i}`, predicate: 'knows', object: { kind: 'number', value: from + i } }, { wall: T0, counter: 0, node: asNodeId('node-b') })
    }))
    const refs: Array<WeakRef<object>> = []
    const commit = (from: number, n: number): void => {
      const page = entries(from, n)
      for (const e of page) refs.push(new WeakRef(e.record))
      window.observe(page)
    }
    commit(0, 300)
    commit(300, 200)
    // WeakRefs read in this turn hold their targets until it ends
    await new Promise(resolve => setImmediate(resolve))
    collect()
    assert.equal(window.pending, 500, 'the catch-up keeps them queued')
    assert.equal(refs.filter(r => r.deref() !== undefined).length, 0, 'no queued record is alive')
    const same = new WindowIndex({ store, ttlMs: TTL, now: () => T0 })
    same.digest()
    same.observe(entries(0, 300))
    same.observe(entries(300, 200))
    assert.equal(same.size, 500)
    assert.deepEqual(window.current().digest(), same.digest(), 'taken in as the records themselves would be')
    window.stop()
  })

  it('takes in a state stamped before the clock\'s window start but not before the index\'s, after the clock stepped back', () => {
    const clock = { now: T0 }
    const store = new MemoryStore()
    const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => clock.now })
    const window = new LazyWindow({ store, ttlMs: TTL, now: () => clock.now, idleMs: 0 })
    const ws = window.current().digest().ws
    clock.now = T0 + TTL / 4 // two quanta on, nothing read: the index still holds `ws`
    const wall = ws + TTL / 16 // inside the index's window, before the clock's
    assert.ok(wall < windowStartFor(clock.now, TTL))
    engine.on('change', e => { window.observe(e.entries) })
    applyWindowOp({ engine, clock }, { op: 'remote', s: 1, o: 1, age: clock.now - wall, deleted: false })
    clock.now = T0 // the clock steps back, within the index's quantum
    const d = window.current().digest()
    assert.equal(d.n, 1)
    assert.deepEqual(d, new WindowIndex({ store, ttlMs: TTL, now: () => clock.now }).digest())
  })

  it(`is exact after any changes taken in at any point, clock steps included (property) (seed ${seedFor(0x1a2)})`, () => {
    const seed = seedFor(0x1a2)
    assertProperty(fc.property(fc.array(fc.tuple(windowOp(TTL), fc.nat(3)), { maxLength: 40 }), (steps) => {
      const clock = { now: T0 }
      const store = new MemoryStore()
      const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => clock.now })
      const window = new LazyWindow({ store, ttlMs: TTL, now: () => clock.now, idleMs: 0 })
      window.current()
      engine.on('change', e => { window.observe(e.entries) })
      for (const [op, read] of steps) {
        applyWindowOp({ engine, clock }, op)
        // a read now and then (0: the whole queue, 1: the index alone, behind its queue)
        if (read === 0) assert.deepEqual(window.current().digest(), new WindowIndex({ store, ttlMs: TTL, now: () => clock.now }).digest())
        if (read === 1) window.index.digest()
      }
      assert.deepEqual(window.current().digest(), new WindowIndex({ store, ttlMs: TTL, now: () => clock.now }).digest())
      window.stop()
    }), seed, 300)
  })

  it('with idleMs 0 takes the queue in only when read', () => {
    const { engine, window, fresh } = setup({ idleMs: 0 })
    write(engine, 0, 100)
    assert.equal(window.pending, 100)
    assert.deepEqual(window.current().digest(), fresh().digest())
    assert.equal(window.pending, 0)
  })

  it('a lazy view reports what is taken in and counts the queue, taking nothing in', () => {
    const { engine, window, fresh } = setup({ idleMs: 0 })
    write(engine, 0, 100)
    window.current()
    const before = window.view()
    write(engine, 100, 50)
    assert.deepEqual(window.view(true), { ...before, pending: 50 })
    assert.equal(window.sizeTakenIn, 100)
    assert.equal(window.pending, 50, 'nothing taken in')
    const exact = window.view()
    assert.equal(exact.pending, undefined)
    assert.equal(exact.n, 150)
    assert.equal(exact.x, Buffer.from(fresh().digest().x).toString('hex'))
    assert.deepEqual(window.view(true), exact, 'with nothing queued, the lazy view is the exact one')
  })
})
