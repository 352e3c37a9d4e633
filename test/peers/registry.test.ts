/**
 * The peer registry over each store the node can have (the in-memory one and a real SQLite file):
 * both sections kept in local metadata under their own keys, never replicated, read back whole
 * after a restart, and one section's writes never touching the other's.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { NodeId } from '../../src/core/ids.ts'
import { PEER_KEYS, PeerRegistry } from '../../src/peers/PeerRegistry.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import type { Store } from '../../src/store/Store.ts'

interface Harness {
  readonly name: string
  /** The store; `reopen` gives the same data after a restart. */
  open (): Store
  reopen (store: Store): Store
  close (store: Store): void
}

const root = mkdtempSync(join(tmpdir(), 'engram-peers-'))
after(() => { rmSync(root, { recursive: true, force: true }) })

const harnesses: Harness[] = [
  { name: 'MemoryStore', open: () => new MemoryStore(), reopen: s => s, close: () => {} },
  (() => {
    let n = 0
    let file = ''
    return {
      name: 'SqliteStore (a file)',
      open: () => { file = join(root, `peers-${n++}.db`); return SqliteStore.open(file) },
      reopen: (s: Store) => { (s as SqliteStore).close(); return SqliteStore.open(file) },
      close: (s: Store) => { (s as SqliteStore).close() }
    }
  })()
]

for (const h of harnesses) {
  describe(`PeerRegistry over ${h.name}`, () => {
    it('keeps the REST and the P2P peers across a restart, as local metadata only', () => {
      let store = h.open()
      let now = 5_000
      const reg = new PeerRegistry(store, () => now)
      reg.rest.add({ name: 'laptop', url: 'http://10.0.0.5:19090' })
      reg.rest.update('laptop', { nodeId: 'node-l' as NodeId })
      reg.p2p.configure(['desk.lan:19091'])
      reg.p2p.add('[fd00::7]:19091')
      now = 6_000
      reg.p2p.put('10.0.0.9:19091', 'mdns', { nodeId: 'node-m' as NodeId, seen: true })
      const rest = reg.rest.list()
      const p2p = reg.p2p.list()
      assert.equal(store.stats().lastSeq, 0, 'nothing replicated')
      store = h.reopen(store)
      try {
        const again = new PeerRegistry(store, () => now)
        assert.deepEqual(again.rest.list(), rest)
        assert.deepEqual(again.p2p.list(), p2p)
        assert.deepEqual(again.p2p.dialledAlways().map(p => [p.addr, p.source]), [['desk.lan:19091', 'config'], ['[fd00::7]:19091', 'api']])
        assert.equal(again.rest.byNode('node-l')?.name, 'laptop')
      } finally {
        h.close(store)
      }
    })

    it('writes each section under its own key: what a dial observes never rewrites the paired peers', () => {
      const store = h.open()
      try {
        const reg = new PeerRegistry(store, () => 0)
        reg.rest.add({ name: 'laptop', url: 'http://10.0.0.5:19090' })
        const restBefore = store.getMeta(PEER_KEYS.rest)
        reg.p2p.put('10.0.0.9:19091', 'static')
        reg.p2p.failed('10.0.0.9:19091', 'timed out')
        assert.equal(store.getMeta(PEER_KEYS.rest), restBefore)
        const p2pBefore = store.getMeta(PEER_KEYS.p2p)
        reg.rest.setPaused('laptop', true)
        assert.equal(store.getMeta(PEER_KEYS.p2p), p2pBefore)
        assert.notEqual(store.getMeta(PEER_KEYS.rest), restBefore)
      } finally {
        h.close(store)
      }
    })

    it('starts empty over a new store, and writes nothing until a peer is known', () => {
      const store = h.open()
      try {
        const reg = new PeerRegistry(store, () => 0)
        assert.deepEqual([reg.rest.list(), reg.p2p.list()], [[], []])
        assert.equal(store.getMeta(PEER_KEYS.rest), undefined)
        assert.equal(store.getMeta(PEER_KEYS.p2p), undefined)
      } finally {
        h.close(store)
      }
    })
  })
}
