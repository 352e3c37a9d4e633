/**
 * A commit on a node with several sessions is read from the store once, not once per session's
 * stream (src/sync/native/FeedTail.ts): the feed reads of a node with four peers, counted over a
 * run of local writes, each waited for on every peer; so are the store's state (its last seq)
 * and the knowledge vector each page reads, once a turn for all the streams.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import type { Store } from '../../src/store/Store.ts'
import { MemoryNetwork } from '../../src/transport/memory/MemoryTransport.ts'
import { eventually, simNode, type SimNode } from './helpers.ts'

const running: SimNode[] = []
afterEach(async () => {
  await Promise.all(running.map(n => n.sync.stop()))
  running.length = 0
})

/** A MemoryStore whose feed reads, state reads (stats) and clock reads (clockMark: one for each knowledge vector sent) are counted. */
function counted (): { store: Store, reads: () => number, states: () => number, clocks: () => number } {
  const store = new MemoryStore()
  let reads = 0
  let states = 0
  let clocks = 0
  const proxy = new Proxy(store, {
    get: (target, key) => {
      const v = Reflect.get(target, key, target) as unknown
      if (key === 'changesSince') reads++
      if (key === 'stats') states++
      if (key === 'clockMark') clocks++
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v
    }
  })
  return { store: proxy, reads: () => reads, states: () => states, clocks: () => clocks }
}

describe('a change fanned out to every session', () => {
  it('is read from the store once, however many sessions stream it', async () => {
    const net = new MemoryNetwork()
    const feed = counted()
    const a = simNode(net, 'node-a', { store: feed.store })
    running.push(a)
    await a.sync.start()
    const peers: SimNode[] = []
    for (let i = 0; i < 4; i++) {
      const p = simNode(net, `node-p${i}`)
      running.push(p)
      await p.sync.start()
      p.sync.addPeer('mem:node-a')
      peers.push(p)
    }
    const add = (name: string): void => { a.engine.addTriples([{ subject: `user:${name}`, predicate: 'is', object: { kind: 'string', value: name } }]) }
    add('first')
    await eventually(() => peers.every(p => p.store.stats().triples === 1), 'the first triple on every peer')
    // the streams settle (acknowledgements, cursors): then the reads of a run of writes are counted
    await new Promise(resolve => setTimeout(resolve, 200))
    const before = feed.reads()
    const states0 = feed.states()
    const clocks0 = feed.clocks()
    const writes = 6
    for (let i = 0; i < writes; i++) {
      add(`w${i}`)
      await eventually(() => peers.every(p => p.store.stats().triples === i + 2), `write ${i} on every peer`)
    }
    const reads = feed.reads() - before
    const states = feed.states() - states0
    const clocks = feed.clocks() - clocks0
    assert.ok(reads <= writes, `${reads} feed reads for ${writes} writes streamed to 4 sessions: one per change, not one per stream`)
    // the feed's state and the knowledge vector: once for the turn a change wakes the streams in,
    // once for each turn an acknowledgement comes in (each stream read both twice per page before)
    const most = writes * (2 + peers.length)
    assert.ok(states <= most, `${states} reads of the store's state for ${writes} writes streamed to 4 sessions (at most ${most})`)
    assert.ok(clocks <= most, `${clocks} knowledge vectors read for ${writes} writes streamed to 4 sessions (at most ${most})`)
  })
})
