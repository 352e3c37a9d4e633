/**
 * The node's REST API as one part of its lifecycle: the fastify server of `api/server.ts`, built
 * over the node's parts when the part starts, behind the client-certificate gate when
 * `tls.requireClientCert` is on, listening on `api.host`:`api.port`. An address the node cannot
 * listen on is said in words with what to do (a port in use, a host that is not an address of
 * this machine, a privileged port), never as a bare errno. Its URL is known once it listens.
 */
import type { Server as TlsServer } from 'node:tls'
import type { FastifyInstance } from 'fastify'
import { createApiServer } from '../api/server.ts'
import type { ApiDeps } from '../api/types.ts'
import { CONFIG_UNUSABLE, UNAVAILABLE } from '../core/errors.ts'
import type { NodeTls } from '../tls/NodeTls.ts'
import { requireClientCertificates } from '../tls/serverGate.ts'
import type { Logger } from '../util/log.ts'
import { urlHost } from './apiInfo.ts'
import type { Startable } from './Lifecycle.ts'

export interface RestApiPart extends Startable {
  /** The base URL the API listens on (the actual port when api.port is 0); empty before it started. */
  url: () => string
}

/** The REST API part: `deps()` is called at start, so it may read parts made after this one. */
export function restApiPart (opts: {
  readonly deps: () => ApiDeps
  readonly host: string
  readonly port: number
  readonly tls: NodeTls | undefined
  readonly log: Logger
  readonly now: () => number
}): RestApiPart {
  let api: FastifyInstance | undefined
  let url = ''
  return {
    name: 'the REST API',
    url: () => url,
    start: async () => {
      const { tls } = opts
      api = await createApiServer({ ...opts.deps(), ...(tls !== undefined ? { https: tls.serverOptions() } : {}) })
      if (tls?.requireClientCert === true) {
        requireClientCertificates(api.server as unknown as TlsServer, { authority: tls.authority, log: opts.log.child({ part: 'tls' }), now: opts.now })
      }
      try {
        url = await listen(api, opts.host, opts.port, tls !== undefined ? 'https' : 'http')
      } catch (e) {
        await api.close().catch(() => {})
        throw e
      }
    },
    stop: async () => { await api?.close() }
  }
}

async function listen (api: FastifyInstance, host: string, port: number, scheme: 'http' | 'https'): Promise<string> {
  try {
    await api.listen({ host, port })
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE') {
      throw UNAVAILABLE(
        `port ${port} on ${host} is already in use; is another engram node running (engram status)? Otherwise pick another port with --port or ENGRAM_API_PORT`,
        { host, port })
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      throw CONFIG_UNUSABLE(`config api.host = ${JSON.stringify(host)}: not an address of this machine (${code}); use 127.0.0.1`, { host })
    }
    if (code === 'EACCES') {
      throw UNAVAILABLE(`not allowed to listen on ${host}:${port} (EACCES); ports below 1024 need privileges: use a port from 1024`, { host, port })
    }
    throw e
  }
  const addr = api.server.address()
  const actualPort = typeof addr === 'object' && addr !== null ? addr.port : port
  return `${scheme}://${urlHost(host)}:${actualPort}`
}
