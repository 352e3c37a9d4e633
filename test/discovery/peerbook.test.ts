/** The peer book: kept in the store's local metadata, read back defensively, bounded. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { NodeId } from '../../src/core/ids.ts'
import { MAX_ENTRIES, PEER_BOOK_META_KEY, PeerBook } from '../../src/discovery/PeerBook.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'

describe('PeerBook', () => {
  it('keeps every peer with its source, addresses, last seen and last error across a restart', () => {
    const store = new MemoryStore()
    let now = 1_000
    const book = new PeerBook(store, () => now)
    book.put('10.0.0.5:19091', 'mdns', { nodeId: 'node-b' as NodeId, addrs: ['10.0.0.5:19091', '[fd00::5]:19091'], seen: true })
    book.put('10.0.0.9:19091', 'static')
    book.put('laptop.lan:19091', 'manual')
    now = 2_000
    book.failed('10.0.0.9:19091', 'cannot connect to 10.0.0.9:19091: timed out')
    book.failed('10.0.0.5:19091', 'auth failed: wrong proof', { refused: true })
    const again = new PeerBook(store, () => now)
    assert.deepEqual(again.list(), book.list())
    const b = again.get('10.0.0.5:19091')
    assert.equal(b?.source, 'mdns')
    assert.deepEqual(b?.addrs, ['10.0.0.5:19091', '[fd00::5]:19091'])
    assert.equal(b?.lastSeen, 1_000)
    assert.equal(b?.refused, true)
    assert.equal(again.get('10.0.0.9:19091')?.lastErrorAt, 2_000)
    // a session with the node clears its error and refusal
    now = 3_000
    again.seenNode('node-b' as NodeId)
    assert.equal(again.get('10.0.0.5:19091')?.refused, false)
    assert.equal(again.get('10.0.0.5:19091')?.lastError, null)
    assert.equal(again.get('10.0.0.5:19091')?.lastSeen, 3_000)
    assert.ok(again.forget('10.0.0.9:19091'))
    assert.equal(new PeerBook(store, () => now).list().length, 2)
  })

  it('starts anew from unreadable metadata and skips entries it cannot read', () => {
    const store = new MemoryStore()
    store.setMeta(PEER_BOOK_META_KEY, '{not json')
    assert.deepEqual(new PeerBook(store, () => 0).list(), [])
    store.setMeta(PEER_BOOK_META_KEY, JSON.stringify([{ addr: 'a:1', source: 'mdns' }, { addr: 'b:1', source: 'evil' }, 7, null, { addr: '' }, { addr: 'c:1', source: 'static', lastSeen: 'x', addrs: [1, 'd:1'] }]))
    const list = new PeerBook(store, () => 0).list()
    assert.deepEqual(list.map(e => e.addr), ['a:1', 'c:1'])
    assert.deepEqual(list[1]?.addrs, ['c:1', 'd:1'])
    assert.equal(list[1]?.lastSeen, null)
  })

  it('holds at most MAX_ENTRIES peers, dropping the ones seen least recently (configured ones last)', () => {
    const store = new MemoryStore()
    let now = 0
    const book = new PeerBook(store, () => now)
    book.put('manual:1', 'manual')
    for (let i = 0; i < MAX_ENTRIES + 10; i++) { now++; book.put(`10.1.${i >> 8}.${i & 255}:1`, 'mdns', { seen: true }) }
    const list = book.list()
    assert.equal(list.length, MAX_ENTRIES)
    assert.ok(list.some(e => e.addr === 'manual:1'))
    assert.ok(!list.some(e => e.addr === '10.1.0.0:1'))
  })

  it('keeps the strongest source of a peer known several ways: manual, api, static, mdns', () => {
    const book = new PeerBook(new MemoryStore(), () => 0)
    book.put('10.0.0.5:19091', 'mdns')
    assert.equal(book.put('10.0.0.5:19091', 'static').source, 'static')
    assert.equal(book.put('10.0.0.5:19091', 'mdns').source, 'static')
    assert.equal(book.put('10.0.0.5:19091', 'manual').source, 'manual')
    assert.equal(book.put('10.0.0.5:19091', 'api').source, 'manual')
  })
})
