/** The paired REST peers of the peer registry: validation, persistence in the store's metadata, statuses, unpairing. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isEngramError } from '../../src/core/errors.ts'
import { asNodeId } from '../../src/core/ids.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { PeerRegistry } from '../../src/peers/PeerRegistry.ts'
import { MAX_PEERS, type RestPeers } from '../../src/peers/RestPeers.ts'
import type { Store } from '../../src/store/Store.ts'

const restPeers = (store: Store, now?: () => number): RestPeers => new PeerRegistry(store, now).rest
const code = (c: string) => (e: unknown): boolean => isEngramError(e) && e.code === c

describe('RestPeers', () => {
  it('adds peers with a normalized URL, lists them by name, and keeps them in the store', () => {
    const store = new MemoryStore()
    const book = restPeers(store, () => 1_000)
    const p = book.add({ name: 'laptop', url: 'http://10.0.0.5:19090/some/path', namespaces: ['user', 'project'] })
    assert.equal(p.url, 'http://10.0.0.5:19090')
    assert.deepEqual(p.namespaces, ['user', 'project'])
    assert.equal(p.status, 'active')
    assert.equal(p.addedAt, new Date(1_000).toISOString())
    book.add({ name: 'desk', url: 'https://desk.lan:8443' })
    assert.deepEqual(book.list().map(x => x.name), ['desk', 'laptop'])
    const again = restPeers(store)
    assert.deepEqual(again.list(), book.list(), 'persisted in the store metadata')
    assert.equal(store.stats().lastSeq, 0, 'not a replicated record')
  })

  it('refuses bad names, URLs and namespaces, naming the field', () => {
    const book = restPeers(new MemoryStore())
    const invalid = (field: string) => (e: unknown): boolean => isEngramError(e) && e.code === 'INVALID_INPUT' && e.details?.field === field
    assert.throws(() => book.add({ name: '', url: 'http://x:1' }), invalid('name'))
    assert.throws(() => book.add({ name: 'has space', url: 'http://x:1' }), invalid('name'))
    assert.throws(() => book.add({ name: 'a', url: 'ftp://x' }), invalid('url'))
    assert.throws(() => book.add({ name: 'a', url: 'not a url' }), invalid('url'))
    assert.throws(() => book.add({ name: 'a', url: 'http://user:pw@x:1' }), invalid('url'))
    assert.throws(() => book.add({ name: 'a', url: 'http://x:1', namespaces: ['user:alice'] }), invalid('namespaces'))
    assert.throws(() => book.add({ name: 'a', url: 'http://x:1', namespaces: 'user' }), invalid('namespaces'))
  })

  it('one URL is one peer; at most MAX_PEERS current peers', () => {
    const book = restPeers(new MemoryStore())
    book.add({ name: 'a', url: 'http://x:1' })
    assert.throws(() => book.add({ name: 'b', url: 'http://x:1' }), code('CONFLICT'))
    for (let i = 1; i < MAX_PEERS; i++) book.add({ name: `p${i}`, url: `http://h${i}:1` })
    assert.throws(() => book.add({ name: 'one-more', url: 'http://more:1' }), code('LIMIT_EXCEEDED'))
    book.remove('p1')
    book.add({ name: 'one-more', url: 'http://more:1' })
  })

  it('unpairing keeps the peer as removed; runs under way cannot revive it; pairing again does', () => {
    const book = restPeers(new MemoryStore(), () => 2_000)
    book.add({ name: 'a', url: 'http://x:1' })
    book.update('a', { nodeId: asNodeId('node-x'), feedId: 'f'.repeat(32), counters: { syncs: 3, failures: 1, received: 10, applied: 9, conflicts: 0 } })
    const removed = book.remove('a')
    assert.equal(removed.status, 'removed')
    assert.equal(removed.removedAt, new Date(2_000).toISOString())
    assert.deepEqual(book.current(), [])
    assert.equal(book.byNode('node-x'), undefined)
    book.update('a', { status: 'active' })
    assert.equal(book.get('a')?.status, 'removed', 'a late run result does not revive it')
    assert.throws(() => book.remove('a'), code('NOT_FOUND'))
    const back = book.add({ name: 'a', url: 'http://x:1' })
    assert.equal(back.status, 'active')
    assert.equal(back.removedAt, undefined)
    assert.equal(back.counters.syncs, 3, 'counters kept')
    assert.equal(back.nodeId, 'node-x', 'same URL: same node')
    const moved = book.add({ name: 'a', url: 'http://y:1' })
    assert.equal(moved.nodeId, undefined, 'another URL: identity learnt again')
  })

  it('pausing and resuming', () => {
    const book = restPeers(new MemoryStore())
    book.add({ name: 'a', url: 'http://x:1' })
    assert.equal(book.setPaused('a', true).status, 'paused')
    assert.equal(book.add({ name: 'a', url: 'http://x:1' }).status, 'paused', 'pairing again keeps it paused')
    assert.equal(book.setPaused('a', false).status, 'active')
    assert.throws(() => book.setPaused('nobody', true), code('NOT_FOUND'))
  })
})
