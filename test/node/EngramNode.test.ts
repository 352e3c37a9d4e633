/** EngramNode in-process: start, API, api.json, tombstone collection, clean stop. */
import assert from 'node:assert/strict'
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { defaultConfig } from '../../src/config/load.ts'
import type { ConfigFlags } from '../../src/config/load.ts'
import { isEngramError } from '../../src/core/errors.ts'
import { EngramNode } from '../../src/node/EngramNode.ts'
import { createLogger } from '../../src/util/log.ts'
import { DEFAULT_DEADLINE_MS, eventually } from '../support/eventually.ts'
import { freePorts } from '../native/daemons.ts'

/** Polls `cond` until it holds (test/support/eventually.ts, never less than its default deadline). */
async function waitFor (cond: () => boolean, ms: number, what: string): Promise<void> {
  await eventually(cond, what, Math.max(ms, DEFAULT_DEADLINE_MS))
}

describe('EngramNode', () => {
  let root: string
  before(() => { root = mkdtempSync(join(tmpdir(), 'engram-node-')) })
  after(() => rmSync(root, { recursive: true, force: true }))

  const config = (name: string, more: ConfigFlags = {}) => defaultConfig({ dataDir: join(root, name), 'api.port': 0, ...more })

  it('starts on a free port, serves the API, publishes api.json, logs one start line, and stops cleanly', async () => {
    const lines: string[] = []
    const log = createLogger({ sink: l => lines.push(l) })
    const node = await EngramNode.start(config('a'), { log })
    const dataDir = join(root, 'a')
    try {
      assert.equal(statSync(dataDir).mode & 0o777, 0o700)
      assert.match(node.apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/)
      const health = await (await fetch(`${node.apiUrl}/api/v1/health`)).json() as { status: string }
      assert.equal(health.status, 'healthy')
      const info = JSON.parse(readFileSync(join(dataDir, 'api.json'), 'utf8')) as { url: string, pid: number, nodeId: string }
      assert.deepEqual([info.url, info.pid, info.nodeId], [node.apiUrl, process.pid, node.nodeId])
      const start = lines.filter(l => l.includes('engram node started'))
      assert.equal(start.length, 1)
      assert.ok(start[0]!.includes(`node=${node.nodeId}`) && start[0]!.includes(`dataDir=${dataDir}`) && start[0]!.includes(`api=${node.apiUrl}`))
      node.engine.addTriples([{ subject: 'user:a', predicate: 'p', object: 'x' }])
    } finally {
      await node.stop()
      await node.stop() // idempotent
    }
    assert.ok(!existsSync(join(dataDir, 'api.json')), 'api.json removed')
    assert.ok(!existsSync(join(dataDir, 'engram.db-wal')), 'the store was closed (WAL checkpointed and removed)')
    await assert.rejects(fetch(`${node.apiUrl}/api/v1/health`))
    // Same identity and data after a restart.
    const again = await EngramNode.start(config('a'), { log })
    try {
      assert.equal(again.nodeId, node.nodeId)
      assert.equal(again.engine.store.stats().triples, 1)
    } finally {
      await again.stop()
    }
  })

  it('sets the data directory to 0700 and its files to 0600 whatever they were, and creates the API token', async () => {
    const dataDir = join(root, 'modes')
    mkdirSync(dataDir, { mode: 0o755 })
    chmodSync(dataDir, 0o755)
    const lines: string[] = []
    const first = await EngramNode.start(config('modes'), { log: createLogger({ sink: l => lines.push(l) }) })
    await first.stop()
    // A database copied in by hand, readable by everyone.
    chmodSync(join(dataDir, 'engram.db'), 0o644)
    chmodSync(dataDir, 0o755)
    const node = await EngramNode.start(config('modes'), { log: createLogger({ sink: l => lines.push(l) }) })
    try {
      assert.equal(statSync(dataDir).mode & 0o777, 0o700)
      for (const f of ['engram.db', 'engram.db-wal', 'engram.db-shm', 'api.token', 'api.json']) {
        assert.equal(statSync(join(dataDir, f)).mode & 0o777, 0o600, f)
      }
      assert.match(readFileSync(join(dataDir, 'api.token'), 'utf8'), /^[A-Za-z0-9_-]{43}\n$/)
      assert.ok(lines.some(l => l.includes(`${join(dataDir, 'engram.db')} could be read by other users (mode 644); set its mode to 600`)), lines.join('\n'))
    } finally {
      await node.stop()
    }
  })

  it('with api.requireToken, answers programs on this machine only with the token', async () => {
    const node = await EngramNode.start(config('token', { 'api.requireToken': true }), { log: createLogger({ sink: () => {} }) })
    try {
      const token = readFileSync(join(root, 'token', 'api.token'), 'utf8').trim()
      assert.equal((await fetch(`${node.apiUrl}/api/v1/status`)).status, 401)
      assert.equal((await fetch(`${node.apiUrl}/api/v1/status`, { headers: { authorization: `Bearer ${token}` } })).status, 200)
      assert.equal((await fetch(`${node.apiUrl}/api/v1/health`)).status, 200, 'what other machines may reach needs none')
    } finally {
      await node.stop()
    }
  })

  it('listens for P2P on p2p.host', async () => {
    const [port] = await freePorts(1)
    const node = await EngramNode.start(config('p2phost', { 'p2p.enabled': true, 'p2p.seed': 'Kq3-host-test_seed-8Wm2', 'p2p.host': '127.0.0.1', 'p2p.port': port }),
      { log: createLogger({ sink: () => {} }) })
    try {
      const status = await (await fetch(`${node.apiUrl}/api/v1/p2p/status`)).json() as { listen_addrs: string[] }
      assert.ok(status.listen_addrs.length > 0)
      for (const a of status.listen_addrs) assert.match(a, /^\/ip4\/127\.0\.0\.1\//)
    } finally {
      await node.stop()
    }
  })

  it('refuses p2p.enabled without p2p.seed', async () => {
    await assert.rejects(EngramNode.start(config('b', { 'p2p.enabled': true }), { log: createLogger({ sink: () => {} }) }), (e: unknown) => {
      assert.ok(isEngramError(e))
      assert.equal(e.code, 'CONFIG_INVALID')
      assert.match(e.message, /p2p\.seed .*must be set because p2p\.enabled is true/)
      return true
    })
    assert.ok(!existsSync(join(root, 'b', 'api.json')))
  })

  it('refuses a second node on a data directory whose node is running', async () => {
    const log = createLogger({ sink: () => {} })
    const node = await EngramNode.start(config('c'), { log })
    try {
      await assert.rejects(EngramNode.start(config('c'), { log }), /another engram node .* is already running on/)
    } finally {
      await node.stop()
    }
  })

  it('says when the port is taken', async () => {
    const log = createLogger({ sink: () => {} })
    const node = await EngramNode.start(config('d'), { log })
    try {
      const port = Number(new URL(node.apiUrl).port)
      await assert.rejects(EngramNode.start(config('e', { 'api.port': port }), { log }), /port \d+ on 127\.0\.0\.1 is already in use/)
    } finally {
      await node.stop()
    }
  })

  it('collects tombstones older than the TTL', async () => {
    let offset = 0
    const now = (): number => Date.now() + offset
    const node = await EngramNode.start(config('f', { 'sync.tombstoneTtlHours': 1 / 3600 }), { log: createLogger({ sink: () => {} }), now })
    try {
      const [t] = node.engine.addTriples([{ subject: 'user:a', predicate: 'p', object: 'gone' }])
      node.engine.deleteTriple(t!.id)
      assert.equal(node.engine.store.stats().tripleTombstones, 1)
      offset = 10_000 // ten seconds later: past the one-second TTL
      await waitFor(() => node.engine.store.stats().tripleTombstones === 0, 5000, 'tombstone collection')
    } finally {
      await node.stop()
    }
  })
})
