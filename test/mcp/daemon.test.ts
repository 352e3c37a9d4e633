/**
 * How `engram mcp` finds its daemon: a clear error when none answers, --start-daemon starting
 * one, and the Streamable HTTP transport (--http) with its loopback-only guards.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { isRunning } from '../../src/node/apiInfo.ts'
import { BIN, closedPort, engram, sandbox, startDaemon, waitFor, type Daemon, type Sandbox } from '../cli/helpers.ts'
import { call, callFails, connectMcp, rest } from './helpers.ts'

describe('engram mcp and its daemon', () => {
  let box: Sandbox
  before(() => { box = sandbox() })
  after(() => box.remove())

  it('says how to start a daemon when none answers, and exits 3', async () => {
    const port = await closedPort()
    const r = await engram(['mcp', '--url', `http://127.0.0.1:${port}`], box.env)
    assert.equal(r.code, 3, r.stderr)
    assert.equal(r.stdout, '', 'nothing on the protocol stream')
    const line = r.stderr.trim()
    assert.ok(!line.includes('\n'), `one line: ${r.stderr}`)
    assert.ok(line.includes(`no engram daemon reachable at http://127.0.0.1:${port}`), line)
    assert.match(line, /start one with `engram start`/)
    assert.match(line, /--start-daemon/)
    assert.match(line, /\(UNAVAILABLE\)$/)

    // The same through an MCP client: the connection fails and stderr tells why.
    await assert.rejects(connectMcp(['--url', `http://127.0.0.1:${port}`], box.env), /no engram daemon reachable/)

    // With a data directory whose daemon is on a free port (api.port 0) and not running.
    const none = await engram(['mcp', '--data-dir', join(box.root, 'absent')], { ...box.env, ENGRAM_API_PORT: '0' })
    assert.equal(none.code, 3, none.stderr)
    assert.match(none.stderr, /no engram daemon reachable at .*absent\/api\.json .*--start-daemon/)
  })

  it('starts a daemon with --start-daemon, which keeps running for other agents', async () => {
    const dataDir = join(box.root, 'started')
    const env = { ...box.env, ENGRAM_API_PORT: '0' }
    const mcp = await connectMcp(['--data-dir', dataDir, '--start-daemon'], env)
    let pid: number | undefined
    try {
      await call(mcp.client, 'create_entities', { entities: [{ name: 'Started', entityType: 'test', observations: [] }] })
      const info = JSON.parse(readFileSync(join(dataDir, 'api.json'), 'utf8')) as { url: string, pid: number }
      pid = info.pid
      assert.match(mcp.stderr(), /started one/)
      assert.equal((await rest(info.url, 'POST', '/api/v1/query', { subject: 'kg:Started' })).total, 1)
      await mcp.close()
      assert.ok(isRunning(info.pid), 'the daemon outlives the MCP server')
      // A second agent finds the running daemon through api.json and starts nothing.
      const second = await connectMcp(['--data-dir', dataDir, '--start-daemon'], env)
      assert.doesNotMatch(second.stderr(), /started one/)
      await second.close()
    } finally {
      await mcp.close()
      if (pid !== undefined && isRunning(pid)) {
        process.kill(pid, 'SIGTERM')
        await waitFor(() => !isRunning(pid!), 10_000, 'the started daemon to stop')
      }
    }
  })

  it('survives a daemon restart: tools say the daemon is gone, then work again, and subscribers hear of it', async () => {
    const dataDir = join(box.root, 'restarted')
    const port = String(await closedPort())
    let daemon = await startDaemon(dataDir, box.env, ['--port', port])
    const mcp = await connectMcp(['--url', daemon.url], box.env)
    try {
      const updates: string[] = []
      mcp.client.setNotificationHandler(ResourceUpdatedNotificationSchema, n => { updates.push(n.params.uri) })
      await mcp.client.subscribeResource({ uri: 'memory://knowledge-graph' })
      await daemon.stop()
      const down = await callFails(mcp.client, 'read_graph', {})
      assert.match(down, /no engram daemon reachable at .*start one with `engram start`.*\(UNAVAILABLE\)$/)
      daemon = await startDaemon(dataDir, box.env, ['--port', port])
      // Changes made while the stream was down may have been missed: a reconnection notifies.
      await waitFor(() => updates.length > 0, 15_000, 'resources/updated after the reconnection')
      await call(mcp.client, 'create_entities', { entities: [{ name: 'Back', entityType: 'test', observations: [] }] })
    } finally {
      await mcp.close()
      await daemon.stop()
    }
  })

  describe('--http', () => {
    let daemon: Daemon
    before(async () => { daemon = await startDaemon(join(box.root, 'http-node'), box.env) })
    after(async () => { await daemon?.stop() })

    it('serves MCP over Streamable HTTP on loopback, and refuses foreign hosts and origins', async () => {
      const child = spawn(process.execPath, [BIN, 'mcp', '--http', '--port', '0', '--url', daemon.url], { env: box.env, stdio: ['ignore', 'pipe', 'pipe'] })
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
      child.stdout.resume()
      const exited = new Promise(resolve => child.on('exit', resolve))
      try {
        const url = await waitFor(() => stderr.match(/Streamable HTTP at (http:\/\/127\.0\.0\.1:\d+\/mcp)/)?.[1], 20_000, 'the MCP URL on stderr')
        const client = new Client({ name: 'engram-test', version: '1.0.0' })
        await client.connect(new StreamableHTTPClientTransport(new URL(url)))
        const updates: string[] = []
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, n => { updates.push(n.params.uri) })
        await client.subscribeResource({ uri: 'memory://knowledge-graph' })
        assert.equal((await client.listTools()).tools.length, 18)
        await call(client, 'create_entities', { entities: [{ name: 'OverHttp', entityType: 'test', observations: ['yes'] }] })
        assert.equal((await rest(daemon.url, 'POST', '/api/v1/query', { subject: 'kg:OverHttp' })).total, 2)
        await waitFor(() => updates.length > 0, 10_000, 'resources/updated over HTTP')
        await client.close()

        const port = new URL(url).port
        assert.equal(await status(port, { host: 'evil.example' }), 403)
        assert.equal(await status(port, { host: `127.0.0.1:${port}`, origin: 'https://evil.example' }), 403)
        assert.equal(await status(port, { host: `127.0.0.1:${port}` }, '/elsewhere'), 404)
      } finally {
        child.kill('SIGTERM')
        await exited
      }
    })
  })
})

/** The status of a bare POST to the MCP endpoint with the given headers. */
function status (port: string, headers: Record<string, string>, path = '/mcp'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: Number(port), path, method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, res => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on('error', reject)
    req.end('{}')
  })
}
