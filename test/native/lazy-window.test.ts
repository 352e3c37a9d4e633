/**
 * LazyWindow: changes queue up while commits come, are taken in in the background once commits
 * pause (in slices, large changes part by part, in order), and the index is exact either way.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { LazyWindow } from '../../src/sync/native/LazyWindow.ts'
import { WindowIndex } from '../../src/protocol/native/WindowIndex.ts'
import { eventually } from '../support/eventually.ts'

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
