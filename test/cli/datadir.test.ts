/**
 * An explicit --data-dir never reaches another node: with node A running on the configured port,
 * a command for a stopped or mistyped data directory fails with exit 3 and writes nothing
 * anywhere, and `engram mcp --start-daemon --data-dir X` starts X's own daemon (never A's).
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ApiClient } from '../../src/client/ApiClient.ts'
import { closedPort, engram, sandbox, startDaemon, type Daemon, type Sandbox } from './helpers.ts'
import { call, connectMcp } from '../mcp/helpers.ts'

describe('--data-dir names one node', () => {
  let box: Sandbox
  let a: Daemon
  let env: Record<string, string>
  let client: ApiClient

  const count = async (): Promise<number> => (await client.status()).store.stats.triples

  before(async () => {
    box = sandbox()
    // Node A listens on the port every command falls back to (api.port from the environment).
    const port = await closedPort()
    env = { ...box.env, ENGRAM_API_PORT: String(port) }
    a = await startDaemon(join(box.root, 'a'), env, ['--port', String(port)])
    client = new ApiClient(a.url)
    await client.addTriple('node:a', 'holds', 'its own data')
  })

  after(async () => {
    await a?.stop()
    box?.remove()
  })

  it('a command for a data directory with no running daemon exits 3 and writes nothing anywhere', async () => {
    const before = await count()
    const stopped = join(box.root, 'b')
    const b = await startDaemon(stopped, env)
    await b.stop()
    for (const dir of [stopped, join(box.root, 'mistyped')]) {
      const add = await engram(['add', 'user:x', 'likes', 'tea', '--data-dir', dir], env)
      assert.equal(add.code, 3, add.stderr)
      assert.match(add.stderr, /no engram daemon reachable at .* \(no engram daemon is running for this data directory/)
      const status = await engram(['status', '--data-dir', dir], env)
      assert.equal(status.code, 3, status.stderr)
      const note = await engram(['note', 'set', 'k:x', 'v', '--data-dir', dir], env)
      assert.equal(note.code, 3, note.stderr)
    }
    assert.equal(await count(), before, 'node A received nothing')
    assert.ok(!existsSync(join(box.root, 'mistyped')), 'the mistyped directory was not created')
    // Without --data-dir, the configured address still finds node A.
    const plain = await engram(['status', '--json'], env)
    assert.equal(plain.code, 0, plain.stderr)
  })

  it('engram mcp --start-daemon --data-dir X starts X\'s daemon and writes there', async () => {
    const before = await count()
    const x = join(box.root, 'x')
    const mcp = await connectMcp(['--start-daemon', '--data-dir', x], env)
    try {
      await call(mcp.client, 'create_entities', { entities: [{ name: 'Xavier', entityType: 'person', observations: ['lives in X'] }] })
    } finally {
      await mcp.close()
    }
    const info = JSON.parse(readFileSync(join(x, 'api.json'), 'utf8')) as { url: string, pid: number }
    assert.notEqual(info.url, a.url, 'X has a daemon of its own')
    const xClient = new ApiClient(info.url)
    try {
      assert.ok((await xClient.status()).store.stats.triples > 0, 'the agent\'s memory is in X')
      assert.equal(await count(), before, 'node A received nothing')
    } finally {
      process.kill(info.pid, 'SIGTERM')
    }
  })
})
