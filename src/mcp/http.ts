/**
 * `engram mcp --http`: MCP over Streamable HTTP at http://127.0.0.1:<port>/mcp, one MCP session
 * per client (the `mcp-session-id` header), each with its own Server from server.ts.
 *
 * It listens on loopback only, and refuses a request whose Host is not this address (a web
 * page reaching it through DNS rebinding) or whose Origin is another site's (403).
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { UNAVAILABLE } from '../core/errors.ts'
import type { Logger } from '../util/log.ts'
import { createSession, type SessionOptions } from './server.ts'

export const MCP_PATH = '/mcp'
export const DEFAULT_MCP_PORT = 19092
const HOST = '127.0.0.1'
/** Most concurrent MCP sessions. */
const MAX_SESSIONS = 64

export interface HttpMcp {
  readonly url: string
  close (): Promise<void>
}

interface Session { transport: StreamableHTTPServerTransport, dispose: () => void }

function reject (res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }))
}

export async function serveHttp (port: number, session: SessionOptions, log: Logger): Promise<HttpMcp> {
  const sessions = new Map<string, Session>()
  let actualPort = port
  const hosts = (): Set<string> => new Set([`${HOST}:${actualPort}`, `localhost:${actualPort}`])
  const origins = (): Set<string> => new Set([...hosts()].map(h => `http://${h}`))

  const open = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (sessions.size >= MAX_SESSIONS) return reject(res, 503, `this server already has ${MAX_SESSIONS} sessions, its maximum`)
    const { server, dispose } = createSession(session)
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: id => { sessions.set(id, { transport, dispose }) }
    })
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId)
      dispose()
    }
    await server.connect(transport)
    await transport.handleRequest(req, res)
    // A first request that did not initialize a session leaves nothing behind.
    if (transport.sessionId === undefined) await server.close()
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== MCP_PATH) return reject(res, 404, `no MCP endpoint at ${path}; use ${MCP_PATH}`)
    if (!hosts().has(req.headers.host ?? '')) return reject(res, 403, 'forbidden: unexpected Host header')
    const origin = req.headers.origin
    if (origin !== undefined && !origins().has(origin)) return reject(res, 403, 'forbidden: requests from other sites are not allowed')
    const id = req.headers['mcp-session-id']
    if (typeof id === 'string') {
      const s = sessions.get(id)
      if (s === undefined) return reject(res, 404, 'Session not found')
      return await s.transport.handleRequest(req, res)
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
  actualPort = (http.address() as AddressInfo).port
  return {
    url: `http://${HOST}:${actualPort}${MCP_PATH}`,
    async close () {
      for (const s of [...sessions.values()]) await s.transport.close()
      http.closeAllConnections()
      await new Promise<void>(resolve => http.close(() => resolve()))
    }
  }
}
