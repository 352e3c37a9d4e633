/**
 * The Reindexer: rebuilds in slices while writes go on, reports progress (rate, ETA) and logs it,
 * takes a second start while one runs, resumes a rebuild a store asks for, and stops.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { Reindexer } from '../../src/search/Reindexer.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { parseQuery } from '../../src/text/query.ts'
import { createLogger } from '../../src/util/log.ts'

it('rebuilds in slices with progress while writes go on, and takes a second start', async () => {
  const store = new MemoryStore()
  const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000 })
  engine.addTriples(Array.from({ length: 500 }, (_, i) => ({ subject: `user:u${i}`, predicate: 'says', object: `word${i % 7} text` })))
  let clock = 0
  const lines: string[] = []
  const r = new Reindexer({ store, slice: 20, logEveryMs: 5, now: () => (clock += 1), log: createLogger({ sink: l => lines.push(l) }) })
  const first = r.start()
  assert.equal(first.rebuilding, true)
  assert.equal(first.upto, 500)
  engine.addTriples([{ subject: 'user:late', predicate: 'says', object: 'written during the rebuild' }])
  const mid = r.progress()
  assert.ok(mid.rebuilding)
  r.start() // again, while the first runs: starts over, no error
  await r.idle()
  const done = r.progress()
  assert.deepEqual(done, { docs: 501, rebuilding: false, done: 0, upto: 0 })
  assert.equal(store.searchText({ query: parseQuery('word3'), limit: 100 }).hits.length, 71)
  assert.equal(store.searchText({ query: parseQuery('during'), limit: 5 }).hits.length, 1)
  assert.ok(lines.some(l => /rebuilding the full-text index .*done=\d+ of=\d+ perSecond=\d+ etaSeconds=\d+/.test(l)), lines.join('\n'))
  assert.ok(lines.some(l => l.includes('the full-text index is complete') && l.includes('records=501')))
  assert.ok(!lines.some(l => l.includes('failed')))
})

it('resumes a rebuild the store asks for, and stops between slices', async () => {
  const store = new MemoryStore()
  const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000 })
  engine.addTriples(Array.from({ length: 300 }, (_, i) => ({ subject: `x:${i}`, predicate: 'p', object: 'o' })))
  store.startTextRebuild()
  const r = new Reindexer({ store, slice: 10 })
  r.resume()
  await r.stop()
  assert.equal(store.textIndex().rebuilding, true, 'stopped before the end')
  const again = new Reindexer({ store, slice: 50 })
  again.resume()
  await again.idle()
  assert.equal(store.textIndex().docs, 300)
})

it('waits while a catch-up keeps leaving records pending, then indexes them', async () => {
  const store = new MemoryStore()
  const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000 })
  const peer = asNodeId('node-b')
  let t = 1_000
  const lines: string[] = []
  const r = new Reindexer({ store, slice: 7, quietMs: 100, now: () => t, log: createLogger({ sink: l => lines.push(l) }) })
  engine.on('change', () => { r.changed() })
  const page = (from: number): void => {
    const records = Array.from({ length: 20 }, (_, i) => ({ kind: 'note' as const, key: `n:${from + i}`, value: `page word${from + i}`, deleted: false, hlc: { wall: t, counter: from + i, node: peer } }))
    engine.applyChecked(records, { via: peer, deferText: true })
  }
  page(0)
  assert.deepEqual(store.textIndex(), { docs: 0, rebuilding: true, done: 0, upto: 20 })
  // the range keeps growing: no slice runs however many turns pass
  for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
  t += 50
  page(20)
  for (let i = 0; i < 20; i++) await new Promise(resolve => setImmediate(resolve))
  assert.deepEqual(store.textIndex(), { docs: 0, rebuilding: true, done: 0, upto: 40 })
  t += 100 // quiet for quietMs: the rebuild goes on
  await r.idle()
  assert.deepEqual(store.textIndex(), { docs: 40, rebuilding: false, done: 0, upto: 0 })
  assert.equal(store.searchText({ query: parseQuery('page'), limit: 100 }).hits.length, 40)
  assert.ok(lines.some(l => /the full-text index is catching up .*done=0 of=40/.test(l)), lines.join('\n'))
  assert.ok(lines.some(l => l.includes('the full-text index is complete') && l.includes('records=40')), lines.join('\n'))
  await r.stop()
})
