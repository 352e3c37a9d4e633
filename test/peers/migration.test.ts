/**
 * Peers kept by earlier versions move into the peer registry on the first start, and none is lost.
 *
 * The fixture test/fixtures/peers-before-registry.db.gz is a real SQLite store written by the
 * version before the registry (commit 846ad1b), by its own classes: the REST peer book
 * (`sync.peers`: laptop, active, with counters and a node id; desk, paused; old, unpaired), the
 * list of P2P peers added through the API (`p2p.peers`: 127.0.0.21:9, [::1]:9), and the discovery
 * peer book (`p2p.peerBook`: 127.0.0.20:9 from the configuration as `manual`, the two API peers,
 * 127.0.0.30:9 announced on mDNS with two addresses, 127.0.0.31:9 from the static list with an
 * error). It holds one triple too (user:alice likes tea).
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { gunzipSync } from 'node:zlib'
import { defaultConfig } from '../../src/config/load.ts'
import { EngramNode } from '../../src/node/EngramNode.ts'
import { LEGACY_KEYS, legacyP2pPeers, migrateLegacyPeers } from '../../src/peers/legacy.ts'
import { PEER_KEYS, PeerRegistry } from '../../src/peers/PeerRegistry.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import { createLogger } from '../../src/util/log.ts'
import { freePorts } from '../native/daemons.ts'

const FIXTURE = new URL('../fixtures/peers-before-registry.db.gz', import.meta.url)
const root = mkdtempSync(join(tmpdir(), 'engram-peers-migration-'))
after(() => { rmSync(root, { recursive: true, force: true }) })

/** A copy of the fixture at `<dir>/engram.db`. */
function oldStore (dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const file = join(dir, 'engram.db')
  writeFileSync(file, gunzipSync(readFileSync(FIXTURE)), { mode: 0o600 })
  return file
}

const P2P_AFTER = [
  ['127.0.0.20:9', 'config'],
  ['127.0.0.21:9', 'api'],
  ['[::1]:9', 'api'],
  ['127.0.0.30:9', 'mdns'],
  ['127.0.0.31:9', 'static']
]

describe('peers of an earlier version', () => {
  it('are migrated from a real SQLite file: every peer kept with what was known of it, the old keys gone', () => {
    const file = oldStore(join(root, 'unit'))
    let store = SqliteStore.open(file)
    assert.ok(store.getMeta(LEGACY_KEYS.book) !== undefined, 'the fixture is in the old layout')
    const reg = new PeerRegistry(store, () => 1_800_000_000_000)
    const rest = reg.rest.list()
    assert.deepEqual(rest.map(p => [p.name, p.url, p.status]), [['desk', 'https://localhost:9', 'paused'], ['laptop', 'http://127.0.0.5:9', 'active'], ['old', 'http://127.0.0.6:9', 'removed']])
    const laptop = reg.rest.get('laptop')
    assert.equal(laptop?.nodeId, 'node-laptop')
    assert.deepEqual(laptop?.counters, { syncs: 7, failures: 1, received: 40, applied: 39, conflicts: 1 })
    assert.deepEqual(laptop?.namespaces, ['user'])
    assert.deepEqual(reg.p2p.list().map(e => [e.addr, e.source]), P2P_AFTER)
    const api = reg.p2p.get('127.0.0.21:9')
    assert.equal(api?.nodeId, 'node-api', 'what the old peer book knew of an API peer is kept')
    assert.equal(api?.addedAt, Date.parse('2023-11-14T22:13:21.000Z'), 'added when the old list says')
    assert.equal(reg.p2p.get('[::1]:9')?.addedAt, Date.parse('2023-11-14T22:13:22.000Z'))
    assert.deepEqual(reg.p2p.get('127.0.0.30:9')?.addrs, ['127.0.0.30:9', '[::1]:10'])
    assert.equal(reg.p2p.get('127.0.0.31:9')?.lastError, 'cannot connect to 127.0.0.31:9: timed out')
    for (const k of Object.values(LEGACY_KEYS)) assert.equal(store.getMeta(k), undefined, `${k} deleted`)
    assert.equal(store.stats().triples, 1, 'the data is untouched')
    // the next start reads the registry's keys and migrates nothing again
    const restored = reg.p2p.list()
    store.close()
    store = SqliteStore.open(file)
    try {
      const again = new PeerRegistry(store, () => 1_900_000_000_000)
      assert.deepEqual(again.rest.list(), rest)
      assert.deepEqual(again.p2p.list(), restored)
    } finally {
      store.close()
    }
  })

  it('are kept by a node started over the old store: its API lists them under the new source names', async () => {
    const dir = join(root, 'node')
    oldStore(dir)
    const [p2pPort] = await freePorts(1)
    const config = defaultConfig({
      dataDir: dir,
      'api.port': 0,
      'p2p.enabled': true,
      'p2p.seed': 'Kq3-migration-test_seed-8Wm2',
      'p2p.host': '127.0.0.1',
      'p2p.port': p2pPort,
      'p2p.manualPeers': ['127.0.0.20:9'],
      'sync.peers': ['127.0.0.31:9']
    })
    const node = await EngramNode.start(config, { log: createLogger({ sink: () => {} }) })
    try {
      const sync = await (await fetch(`${node.apiUrl}/api/v1/sync/status`)).json() as { peers: Array<{ name: string, status: string }> }
      // An active peer is pulled from at once on start; the fixture's laptop (127.0.0.5:9) refuses,
      // so by the time of this read it is `active` or, after that first attempt, `unreachable`.
      // Either way it was migrated as a peer to pull from; paused and removed stay as they were.
      const statuses = sync.peers.map(p => [p.name, p.status])
      assert.deepEqual(statuses.map(([name]) => name), ['desk', 'laptop', 'old'])
      assert.deepEqual(statuses[0], ['desk', 'paused'])
      const laptop = statuses[1]?.[1] ?? 'missing'
      assert.ok(['active', 'unreachable'].includes(laptop), `laptop is active or unreachable, not ${laptop}`)
      assert.deepEqual(statuses[2], ['old', 'removed'])
      const p2p = await (await fetch(`${node.apiUrl}/api/v1/p2p/peers?format=engram`)).json() as { peers: Array<{ addr: string, source: string }>, book: Array<{ addr: string, source: string }> }
      assert.deepEqual(p2p.book.map(e => [e.addr, e.source]), P2P_AFTER)
      assert.deepEqual(p2p.peers.slice(0, 3).map(p => [p.addr, p.source]), [['127.0.0.20:9', 'config'], ['127.0.0.21:9', 'api'], ['[::1]:9', 'api']],
        'native sync dials the configured peer and both API peers')
    } finally {
      await node.stop()
    }
  })

  it('a migration cut short is finished by the next start, and never writes over a section already moved', () => {
    const store = new MemoryStore()
    const moved = [{ name: 'new', url: 'http://127.0.0.9:9', status: 'active', addedAt: '2024-01-01T00:00:00.000Z', failures: 0, counters: { syncs: 0, failures: 0, received: 0, applied: 0, conflicts: 0 } }]
    store.setMeta(PEER_KEYS.rest, JSON.stringify(moved))
    store.setMeta(LEGACY_KEYS.rest, JSON.stringify([{ ...moved[0], name: 'stale' }]))
    store.setMeta(LEGACY_KEYS.added, JSON.stringify([{ addr: '127.0.0.21:9', addedAt: '2024-01-02T00:00:00.000Z' }, { addr: 'no port' }, 7]))
    migrateLegacyPeers(store, PEER_KEYS, () => 0)
    const reg = new PeerRegistry(store, () => 0)
    assert.deepEqual(reg.rest.list().map(p => p.name), ['new'])
    assert.deepEqual(reg.p2p.list().map(e => [e.addr, e.source, e.addedAt]), [['127.0.0.21:9', 'api', Date.parse('2024-01-02T00:00:00.000Z')]])
    for (const k of Object.values(LEGACY_KEYS)) assert.equal(store.getMeta(k), undefined)
  })

  it('reads the old lists defensively: unreadable values, unknown sources, an API peer the list no longer names', () => {
    const book = [
      { addr: '127.0.0.20:9', source: 'manual' },
      { addr: '127.0.0.21:9', source: 'api', nodeId: 'node-api' },
      { addr: '127.0.0.22:9', source: 'api' },
      { addr: '127.0.0.23:9', source: 'evil' },
      null
    ]
    const added = [{ addr: '127.0.0.21:9', addedAt: 'not a date' }, { addr: '127.0.0.20:9', addedAt: '2024-01-01T00:00:00.000Z' }]
    const out = legacyP2pPeers(book, added, 42)
    assert.deepEqual(out.map(e => [e.addr, e.source]), [['127.0.0.20:9', 'config'], ['127.0.0.21:9', 'api']],
      'an API peer the old list no longer named was being removed; a configured one stays the configuration\'s')
    assert.equal(out[1]?.nodeId, 'node-api')
    assert.equal(out[1]?.addedAt, 0, 'no readable time in the list: the book\'s')
    assert.deepEqual(legacyP2pPeers('{garbage', undefined, 42), [])
    const store = new MemoryStore()
    store.setMeta(LEGACY_KEYS.rest, '{not json')
    store.setMeta(LEGACY_KEYS.book, '[')
    const reg = new PeerRegistry(store, () => 0)
    assert.deepEqual([reg.rest.list(), reg.p2p.list()], [[], []])
    for (const k of Object.values(LEGACY_KEYS)) assert.equal(store.getMeta(k), undefined)
  })
})
