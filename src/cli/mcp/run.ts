/**
 * Runs `engram mcp`: finds (or starts) the daemon, follows its change stream, and serves MCP on
 * stdio, or over Streamable HTTP with `http`, until the client goes away (stdin ends) or the
 * process is told to stop (SIGINT, SIGTERM).
 *
 * On stdio, stdout carries the protocol only; everything for people goes to stderr.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import type { CliIo } from '../io.ts'
import type { Values } from '../args.ts'
import { createLogger } from '../../util/log.ts'
import type { Compat } from '../../mcp/compat.ts'
import { connectDaemon } from './daemon.ts'
import { DaemonEvents } from '../../mcp/daemonEvents.ts'
import { GraphStore } from '../../mcp/GraphStore.ts'
import { serveHttp } from '../../mcp/http.ts'
import { GraphMapping } from '../../mcp/mapping.ts'
import { RestApi } from '../../client/RestApi.ts'
import { createSession, type SessionOptions } from '../../mcp/server.ts'

export interface McpRunOptions {
  /** Serve Streamable HTTP on this port of 127.0.0.1 instead of stdio. */
  readonly httpPort?: number
  readonly namespace: string
  readonly startDaemon: boolean
  readonly provenanceText: boolean
  /** The memory server release the memory tools follow. */
  readonly compat: Compat
}

/** Resolves when it is time to stop: a signal, or `extra` (e.g. the end of stdin). */
function untilStopped (extra: (stop: () => void) => void): Promise<void> {
  return new Promise(resolve => {
    const stop = (): void => {
      process.off('SIGINT', stop).off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop).on('SIGTERM', stop)
    extra(stop)
  })
}

export async function runMcp (values: Values, io: CliIo, opts: McpRunOptions): Promise<void> {
  const log = createLogger({ level: 'info', sink: line => io.err(line + '\n') }).child({ component: 'mcp' })
  const client = await connectDaemon(values, io, { startDaemon: opts.startDaemon, log })
  const api = new RestApi(client)
  // Started by the first subscriber of the graph resource.
  const events = new DaemonEvents(api.url, { namespace: opts.namespace, log, tls: client.tls, headers: client.headers })
  const session: SessionOptions = {
    ctx: { api, graph: new GraphStore(api, new GraphMapping(opts.namespace)), compat: opts.compat },
    events,
    log,
    provenanceText: opts.provenanceText
  }
  try {
    if (opts.httpPort !== undefined) {
      const http = await serveHttp(opts.httpPort, session, log)
      log.info(`serving MCP over Streamable HTTP at ${http.url}`, { daemon: api.url, namespace: opts.namespace, compat: opts.compat.release })
      await untilStopped(() => {})
      await http.close()
      return
    }
    const { server, dispose } = createSession(session)
    const transport = new StdioServerTransport()
    const closed = untilStopped(stop => {
      process.stdin.once('end', stop).once('close', stop)
      server.onclose = stop
    })
    await server.connect(transport)
    log.info('serving MCP on stdio', { daemon: api.url, namespace: opts.namespace, compat: opts.compat.release })
    await closed
    dispose()
    await server.close()
  } finally {
    await events.stop()
  }
}
