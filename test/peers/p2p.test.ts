/**
 * The P2P peers of the peer registry: kept in the store's local metadata, read back defensively,
 * bounded; configured and API peers dialled always, in order; one source per peer, the strongest.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isEngramError } from '../../src/core/errors.ts'
import type { NodeId } from '../../src/core/ids.ts'
import { MAX_DIALLED_ALWAYS, MAX_ENTRIES, type P2pPeers } from '../../src/peers/P2pPeers.ts'
import { PEER_KEYS, PeerRegistry } from '../../src/peers/PeerRegistry.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import type { Store } from '../../src/store/Store.ts'

const p2pPeers = (store: Store, now: () => number): P2pPeers => new PeerRegistry(store, now).p2p
const code = (c: string) => (e: unknown): boolean => isEngramError(e) && e.code === c

describe('P2pPeers', () => {
  it('keeps every peer with its source, addresses, last seen and last error across a restart', () => {
    const store = new MemoryStore()
    let now = 1_000
    const book = p2pPeers(store, () => now)
    book.put('10.0.0.5:19091', 'mdns', { nodeId: 'node-b' as NodeId, addrs: ['10.0.0.5:19091', '[fd00::5]:19091'], seen: true })
    book.put('10.0.0.9:19091', 'static')
    book.configure(['laptop.lan:19091'])
    now = 2_000
    book.failed('10.0.0.9:19091', 'cannot connect to 10.0.0.9:19091: timed out')
    book.failed('10.0.0.5:19091', 'auth failed: wrong proof', { refused: true })
    const again = p2pPeers(store, () => now)
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
    assert.ok(!again.forget('laptop.lan:19091'), 'a configured peer is removed from the configuration only')
    assert.equal(p2pPeers(store, () => now).list().length, 2)
    assert.equal(store.stats().lastSeq, 0, 'not a replicated record')
  })

  it('starts anew from unreadable metadata and skips entries it cannot read', () => {
    const store = new MemoryStore()
    store.setMeta(PEER_KEYS.p2p, '{not json')
    assert.deepEqual(p2pPeers(store, () => 0).list(), [])
    store.setMeta(PEER_KEYS.p2p, JSON.stringify([{ addr: 'a:1', source: 'mdns' }, { addr: 'b:1', source: 'evil' }, { addr: 'm:1', source: 'manual' }, 7, null, { addr: '' }, { addr: 'c:1', source: 'static', lastSeen: 'x', addrs: [1, 'd:1'] }]))
    const list = p2pPeers(store, () => 0).list()
    assert.deepEqual(list.map(e => e.addr), ['a:1', 'c:1'], 'an unknown source (the old "manual" included: only the migration reads it) is skipped')
    assert.deepEqual(list[1]?.addrs, ['c:1', 'd:1'])
    assert.equal(list[1]?.lastSeen, null)
  })

  it('holds at most MAX_ENTRIES peers, dropping the ones seen least recently (configured ones last)', () => {
    let now = 0
    const book = p2pPeers(new MemoryStore(), () => now)
    book.configure(['10.9.9.9:1'])
    for (let i = 0; i < MAX_ENTRIES + 10; i++) { now++; book.put(`10.1.${i >> 8}.${i & 255}:1`, 'mdns', { seen: true }) }
    const list = book.list()
    assert.equal(list.length, MAX_ENTRIES)
    assert.ok(list.some(e => e.addr === '10.9.9.9:1'))
    assert.ok(!list.some(e => e.addr === '10.1.0.0:1'))
  })

  it('keeps the strongest source of a peer known several ways: config, api, static, mdns', () => {
    const book = p2pPeers(new MemoryStore(), () => 0)
    book.put('10.0.0.5:19091', 'mdns')
    assert.equal(book.put('10.0.0.5:19091', 'static').source, 'static')
    assert.equal(book.put('10.0.0.5:19091', 'mdns').source, 'static')
    assert.equal(book.add('10.0.0.5:19091').peer.source, 'api', 'added through the API: dialled always from now on')
    assert.equal(book.put('10.0.0.5:19091', 'mdns').source, 'api')
    book.configure(['10.0.0.5:19091'])
    assert.equal(book.get('10.0.0.5:19091')?.source, 'config')
    assert.equal(book.put('10.0.0.5:19091', 'api').source, 'config')
  })

  it('dials configured peers in the order of the configuration, then API peers oldest first; configuration changes apply on the next start', () => {
    const store = new MemoryStore()
    let now = 10
    const book = p2pPeers(store, () => now)
    book.configure(['b.lan:1', 'a.lan:1', 'b.lan:1', ' ', ' c.lan:1 '])
    now = 20
    assert.equal(book.add('[fd00::7]:19091').created, true)
    now = 30
    book.add('/ip4/10.0.0.8/udp/19091/quic-v1')
    book.put('10.0.0.9:1', 'mdns')
    assert.deepEqual(book.dialledAlways().map(p => [p.addr, p.source]), [
      ['b.lan:1', 'config'], ['a.lan:1', 'config'], ['c.lan:1', 'config'],
      ['[fd00::7]:19091', 'api'], ['/ip4/10.0.0.8/udp/19091/quic-v1', 'api']
    ])
    assert.ok(book.isDialledAlways('a.lan:1') && !book.isDialledAlways('10.0.0.9:1'))
    // the next start's configuration no longer lists a.lan and c.lan: forgotten; API peers stay
    const next = p2pPeers(store, () => now)
    next.configure(['c.lan:1'])
    assert.deepEqual(next.dialledAlways().map(p => p.addr), ['c.lan:1', '[fd00::7]:19091', '/ip4/10.0.0.8/udp/19091/quic-v1'])
    assert.equal(next.get('10.0.0.9:1')?.source, 'mdns')
  })

  it('adds API peers idempotently, refuses bad addresses naming addr, and at most MAX_DIALLED_ALWAYS', () => {
    const book = p2pPeers(new MemoryStore(), () => 0)
    const invalid = (e: unknown): boolean => isEngramError(e) && e.code === 'INVALID_INPUT' && e.details?.field === 'addr'
    for (const bad of ['', '  ', 'no-port', 'host:0', 'host:70000', '::1:19091', '[nope]:1', 7, null]) {
      assert.throws(() => book.add(bad), invalid, String(bad))
    }
    assert.equal(book.add(' 10.0.0.5:19091 ').peer.addr, '10.0.0.5:19091')
    assert.equal(book.add('10.0.0.5:19091').created, false)
    book.configure(['cfg.lan:1'])
    assert.equal(book.add('cfg.lan:1').created, false, 'a configured peer is answered as it is')
    for (let i = 2; i < MAX_DIALLED_ALWAYS; i++) book.add(`10.2.${i >> 8}.${i & 255}:1`)
    assert.equal(book.dialledAlways().length, MAX_DIALLED_ALWAYS)
    assert.throws(() => book.add('10.3.0.0:1'), code('LIMIT_EXCEEDED'))
    book.remove('10.0.0.5:19091')
    book.add('10.3.0.0:1')
  })

  it('removes API peers only: a configured one is a conflict, an unknown one not found', () => {
    const store = new MemoryStore()
    const book = p2pPeers(store, () => 0)
    book.configure(['cfg.lan:1'])
    book.add('api.lan:1')
    book.put('mdns.lan:1', 'mdns')
    assert.throws(() => book.remove('cfg.lan:1'), code('CONFLICT'))
    assert.throws(() => book.remove('mdns.lan:1'), code('NOT_FOUND'))
    assert.throws(() => book.remove('nobody:1'), code('NOT_FOUND'))
    assert.equal(book.remove('api.lan:1').source, 'api')
    assert.equal(p2pPeers(store, () => 0).get('api.lan:1'), undefined, 'removed for good')
  })
})
