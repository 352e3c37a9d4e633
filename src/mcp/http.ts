/**
 * `engram mcp --http`: MCP over Streamable HTTP at http://127.0.0.1:<port>/mcp, one MCP session
 * per client (the `mcp-session-id` header), each with its own Server from server.ts.
 *
 * It listens on loopback only and applies the REST API's rule (util/localRequest.ts, described in api/guard.ts): a request whose
 * Host does not name this machine (a web page reaching it through DNS rebinding), one from
 * another site (Origin, Sec-Fetch-Site) and a POST without a JSON body are refused (403).
 *
 * Sessions end when their client closes them, and otherwise after `idleMs` without a request
 * (none open meanwhile: an open notification stream keeps its session). When all `maxSessions`
 * are in use, a new client takes the place of the session idle the longest; only when every
 * session has a request open is it answered 503. A client whose session was reclaimed gets 404
 * and, as the protocol says, starts a new one.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { UNAVAILABLE } from '../core/errors.ts'
import type { Logger } from '../util/log.ts'
import { checkRequest } from '../util/localRequest.ts'
import { createSession, type SessionOptions } from './server.ts'

export const MCP_PATH = '/mcp'
export const DEFAULT_MCP_PORT = 19092
const HOST = '127.0.0.1'

export const MCP_HTTP_DEFAULTS = {
  /** Most concurrent MCP sessions. */
  maxSessions: 64,
  /** A session without a request for this long is closed, ms. */
  idleMs: 30 * 60_000
} as const

export interface HttpMcpOptions {
  readonly maxSessions?: number
  readonly idleMs?: number
  /** Host names besides the loopback ones that requests may name (api.allowedHosts). */
  readonly allowedHosts?: readonly string[]
}

export interface HttpMcp {
  readonly url: string
  /** Open sessions. */
  sessions (): number
  close (): Promise<void>
}

interface Session {
  readonly transport: StreamableHTTPServerTransport
  readonly dispose: () => void
  /** Requests of this session being answered now (a notification stream stays open). */
  open: number
  lastUsed: number
}

function reject (res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }))
}

export async function serveHttp (port: number, session: SessionOptions, log: Logger, opts: HttpMcpOptions = {}): Promise<HttpMcp> {
  const maxSessions = opts.maxSessions ?? MCP_HTTP_DEFAULTS.maxSessions
  const idleMs = opts.idleMs ?? MCP_HTTP_DEFAULTS.idleMs
  const rules = { allowedHosts: opts.allowedHosts ?? [] }
  const sessions = new Map<string, Session>()

  const idlest = (): [string, Session] | undefined => {
    let found: [string, Session] | undefined
    for (const entry of sessions) if (entry[1].open === 0 && (found === undefined || entry[1].lastUsed < found[1].lastUsed)) found = entry
    return found
  }
  const reclaim = async (id: string, s: Session, why: string): Promise<void> => {
    sessions.delete(id)
    log.info(`closed MCP session ${id}: ${why}`)
    await s.transport.close()
  }
  const sweep = setInterval(() => {
    const now = Date.now()
    for (const [id, s] of sessions) {
      if (s.open === 0 && now - s.lastUsed >= idleMs) void reclaim(id, s, `no request for ${Math.round(idleMs / 1000)} s`)
    }
  }, Math.max(50, Math.min(60_000, Math.floor(idleMs / 4))))
  sweep.unref()

  /** Answers `req` within session `s`, counting it as open until the response ends. */
  const within = async (s: Session, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    s.open++
    s.lastUsed = Date.now()
    res.once('close', () => { s.open--; s.lastUsed = Date.now() })
    await s.transport.handleRequest(req, res)
  }

  const open = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (sessions.size >= maxSessions) {
      const victim = idlest()
      if (victim === undefined) return reject(res, 503, `all ${maxSessions} sessions of this server are busy; retry shortly`)
      await reclaim(victim[0], victim[1], `a new client needed its place (${maxSessions} sessions at most)`)
    }
    const { server, dispose } = createSession(session)
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: id => { sessions.set(id, entry) }
    })
    const entry: Session = { transport, dispose, open: 0, lastUsed: Date.now() }
    transport.onclose = () => {
      if (transport.sessionId !== undefined && sessions.get(transport.sessionId) === entry) sessions.delete(transport.sessionId)
      dispose()
    }
    await server.connect(transport)
    await within(entry, req, res)
    // A first request that did not initialize a session leaves nothing behind.
    if (transport.sessionId === undefined) await server.close()
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!
    const refusal = checkRequest({ method: req.method ?? 'GET', route: path, scheme: 'http', fromLoopback: true, headers: req.headers }, rules)
    if (refusal !== undefined) return reject(res, 403, `forbidden: ${refusal.message}`)
    if (path !== MCP_PATH) return reject(res, 404, `no MCP endpoint at ${path}; use ${MCP_PATH}`)
    const id = req.headers['mcp-session-id']
    if (typeof id === 'string') {
      const s = sessions.get(id)
      if (s === undefined) return reject(res, 404, 'Session not found')
      return await within(s, req, res)
    }
    if (req.method !== 'POST') return reject(res, 400, 'Bad Request: no valid session ID provided')
    await open(req, res)
  }

  const http = createServer((req, res) => {
    handle(req, res).catch(e => {
      log.warn('an MCP request failed', { error: e instanceof Error ? e.message : String(e) })
      if (!res.headersSent) reject(res, 500, 'internal error')
      else res.end()
    })
  })
  await new Promise<void>((resolve, fail) => {
    http.once('error', (e: NodeJS.ErrnoException) => fail(e.code === 'EADDRINUSE'
      ? UNAVAILABLE(`port ${port} on ${HOST} is already in use; pick another with --port (0 picks a free one)`, { port })
      : e))
    http.listen(port, HOST, resolve)
  })
  const actualPort = (http.address() as AddressInfo).port
  return {
    url: `http://${HOST}:${actualPort}${MCP_PATH}`,
    sessions: () => sessions.size,
    async close () {
      clearInterval(sweep)
      for (const s of [...sessions.values()]) await s.transport.close()
      http.closeAllConnections()
      await new Promise<void>(resolve => http.close(() => resolve()))
    }
  }
}
