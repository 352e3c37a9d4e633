/**
 * `engram mcp --http` reclaims sessions its clients abandoned (src/mcp/http.ts): a session with
 * no request for `idleMs` is closed, and when all sessions are taken a new client takes the place
 * of the one idle the longest, so abandoned sessions never lock new clients out. A client whose
 * session was reclaimed gets 404 and can start a new one. Real MCP SDK clients over Streamable
 * HTTP, against a real daemon.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { ApiClient } from '../../src/client/ApiClient.ts'
import { DaemonEvents } from '../../src/mcp/daemonEvents.ts'
import { COMPAT } from '../../src/mcp/compat.ts'
import { GraphStore } from '../../src/mcp/GraphStore.ts'
import { serveHttp, type HttpMcp } from '../../src/mcp/http.ts'
import { GraphMapping } from '../../src/mcp/mapping.ts'
import { RestApi } from '../../src/client/RestApi.ts'
import { silentLogger } from '../../src/util/log.ts'
import { daemonInSandbox, waitFor, type Daemon, type InSandbox } from '../cli/helpers.ts'

describe('engram mcp --http sessions', () => {
  let running: InSandbox | undefined
  let daemon: Daemon
  let events: DaemonEvents
  const servers: HttpMcp[] = []

  const serve = async (opts: { maxSessions: number, idleMs: number }): Promise<HttpMcp> => {
    const api = new RestApi(new ApiClient(daemon.url))
    const http = await serveHttp(0, { ctx: { api, graph: new GraphStore(api, new GraphMapping('kg')), compat: COMPAT.released }, events, log: silentLogger }, silentLogger, opts)
    servers.push(http)
    return http
  }

  /**
   * A client that connects, lists the tools once, and goes away without ending its session (as a
   * crashed or killed client does: its connections close, no DELETE is sent). Returns the
   * session id it had.
   */
  const abandoned = async (url: string): Promise<string> => {
    const client = new Client({ name: 'abandoned', version: '1.0.0' })
    const transport = new StreamableHTTPClientTransport(new URL(url))
    await client.connect(transport)
    await client.listTools()
    const id = transport.sessionId!
    await client.close()
    return id
  }

  /** The status of a request in session `id`. */
  const inSession = async (url: string, id: string): Promise<number> => (await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': id, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' })
  })).status

  before(async () => {
    ;({ daemon } = running = await daemonInSandbox())
    events = new DaemonEvents(daemon.url, { namespace: 'kg', log: silentLogger })
  })

  after(async () => {
    for (const s of servers) await s.close()
    await events.stop()
    await running?.close()
  })

  it('closes sessions idle for idleMs', async () => {
    const http = await serve({ maxSessions: 8, idleMs: 1_000 })
    const ids = []
    for (let i = 0; i < 4; i++) ids.push(await abandoned(http.url))
    assert.ok(http.sessions() >= 1, 'the sessions were open')
    await waitFor(() => http.sessions() === 0, 10_000, 'idle sessions reclaimed')
    for (const id of ids) assert.equal(await inSession(http.url, id), 404)
  })

  it('lets a new client take the place of the idlest session when all are taken; the old client gets 404 and starts again', async () => {
    const http = await serve({ maxSessions: 3, idleMs: 3_600_000 })
    const old = await abandoned(http.url)
    for (let i = 0; i < 2; i++) await abandoned(http.url)
    assert.equal(http.sessions(), 3)
    assert.equal(await inSession(http.url, old), 200, 'an idle session still answers while it has its place')
    // Far more new clients than places: each one is served (abandoned() asserts its tools/list).
    for (let i = 0; i < 10; i++) await abandoned(http.url)
    assert.equal(http.sessions(), 3)
    assert.equal(await inSession(http.url, old), 404, 'the reclaimed session is gone')
    await abandoned(http.url)
  })
})
