/**
 * Native P2P sync: status and manual peers, in the shapes the Cortex sidecar answers, so that
 * Cortex clients (a Mayros-style `sync pair`, `sync status`, dashboards) read them unchanged;
 * engram's own fields ride alongside. Sync peers probe the status to choose between native and
 * polled mode, so the "not enabled" answer keeps the Cortex form: 404 {"error": "P2P not enabled", …}.
 *
 *   GET    /api/v1/p2p/status        → 200 status (docs/PROTOCOL.md §4) | 404 P2P not enabled
 *   GET    /api/v1/p2p/peers         → 200 [{addr, connected: true, …engram's view}], the peers with
 *                                      an open session (Cortex lists its connected peers)
 *          ?format=engram            → 200 {peers, book}: every dialled peer, and the peer book
 *   POST   /api/v1/p2p/peers {addr}  → 200 {status: "connected", addr, peer, created} once a session
 *                                      is open; the dial's error (503) or a timeout (504) otherwise —
 *                                      the peer stays listed and is dialled again with backoff
 *   DELETE /api/v1/p2p/peers/:id     → 200 {status: "disconnected", removed} — :id is a node id or
 *                                      address, or, as Cortex matches, a part of exactly one
 *
 * `addr` is "host:port" (IPv4 or a host name), "[ipv6]:port" or a multiaddr.
 *
 * Another machine (with api.host widened) gets only what a peer's probe reads from the status:
 * `{node_id, enabled, port}` — no addresses, peers or counters.
 */
import { setTimeout as delay } from 'node:timers/promises'
import type { FastifyInstance, FastifyReply } from 'fastify'
import { CONFLICT, TIMEOUT, UNAVAILABLE } from '../../core/errors.ts'
import { MAX_ADDR_LENGTH, validatePeerAddr } from '../../peers/addresses.ts'
import { errorBody } from '../errors.ts'
import { fromThisMachine } from '../remoteAccess.ts'
import type { P2pPeersAnswer, P2pPeerView } from '../contract.ts'
import type { ApiDeps, P2pApi } from '../types.ts'

/** How long POST /api/v1/p2p/peers waits for a session with the new peer. */
export const PEER_CONNECT_TIMEOUT_MS = 15_000
/** How often it looks whether the session opened or the dial failed. */
const PEER_CONNECT_POLL_MS = 50

const addPeerBody = {
  type: 'object',
  required: ['addr'],
  properties: { addr: { type: 'string', minLength: 1, maxLength: MAX_ADDR_LENGTH } },
  additionalProperties: false
} as const

const peerIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: MAX_ADDR_LENGTH } }
} as const

const peersQuery = {
  type: 'object',
  properties: { format: { type: 'string', enum: ['cortex', 'engram'] } },
  additionalProperties: false
} as const

const views = (p2p: P2pApi): readonly P2pPeerView[] => p2p.listPeers()

/**
 * Waits until the session with the peer at `addr` is open (answers its view), or its dial failed
 * more than `failuresBefore` times in a row (UNAVAILABLE with the dial's error), or the deadline.
 */
async function connected (p2p: P2pApi, addr: string, failuresBefore: number, timeoutMs: number): Promise<P2pPeerView | { addr: string, node_id: string | null, connected: true }> {
  const stays = `it stays listed and is dialled again with backoff (DELETE /api/v1/p2p/peers/${encodeURIComponent(addr)} removes it)`
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const st = p2p.dialState(addr)
    if (st === undefined) throw UNAVAILABLE(`P2P peer ${addr} is listed but not dialled: native sync is not running`, { addr, listed: true })
    if (st.open) return views(p2p).find(p => p.node_id === st.nodeId && p.connected === true) ?? { addr, node_id: st.nodeId ?? null, connected: true }
    if (st.failures > failuresBefore) {
      throw UNAVAILABLE(`could not connect to P2P peer ${addr}: ${st.lastError ?? 'the dial failed'}; ${stays}`, { addr, listed: true })
    }
    if (Date.now() >= deadline) throw TIMEOUT(`waiting for a session with P2P peer ${addr} (${stays})`, timeoutMs)
    await delay(PEER_CONNECT_POLL_MS)
  }
}

/**
 * What to remove for `id`: `id` itself when it is a peer's address or node id, else (as Cortex
 * matches) the node id or address of the one peer whose address or node id contains it.
 * Undefined when none does; CONFLICT when several do.
 */
function resolvePeer (p2p: P2pApi, id: string): string | undefined {
  const all = views(p2p)
  if (all.some(p => p.addr === id || p.node_id === id)) return id
  const partial = [...new Set(all.filter(p => p.addr.includes(id) || (p.node_id ?? '').includes(id)).map(p => p.node_id ?? p.addr))]
  if (partial.length > 1) throw CONFLICT(`"${id}" matches ${partial.length} P2P peers (${partial.join(', ')}); give one's whole address or node id`, { matches: partial })
  return partial[0]
}

export function p2pRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const notEnabled = (reply: FastifyReply): FastifyReply => reply.code(404).send(errorBody('NOT_FOUND', 'P2P not enabled', { what: 'p2p' }))
  const p2p = (): P2pApi | undefined => deps.p2p

  app.get('/api/v1/p2p/status', async (request, reply) => {
    const status = deps.p2p?.status() ?? deps.p2pStatus?.()
    if (status === undefined) return notEnabled(reply)
    if (fromThisMachine(request)) return status
    return { node_id: status.node_id, enabled: status.enabled, port: status.port }
  })

  app.get<{ Querystring: { format?: 'cortex' | 'engram' } }>('/api/v1/p2p/peers', { schema: { querystring: peersQuery } }, async (request, reply) => {
    const native = p2p()
    if (native === undefined) return notEnabled(reply)
    if (request.query.format !== 'engram') return views(native).filter(p => p.connected === true)
    const book = deps.p2pPeerBook?.()
    const answer: P2pPeersAnswer = { peers: native.listPeers(), ...(book !== undefined ? { book } : {}) }
    return answer
  })

  app.post<{ Body: { addr: string } }>('/api/v1/p2p/peers', { schema: { body: addPeerBody } }, async (request, reply) => {
    const native = p2p()
    if (native === undefined) return notEnabled(reply)
    const { created } = native.addPeer(request.body.addr)
    // the address the registry keeps and dials (the view's may be the session's); a dial cannot have failed yet for a new peer
    const addr = validatePeerAddr(request.body.addr)
    const view = await connected(native, addr, native.dialState(addr)?.failures ?? 0, PEER_CONNECT_TIMEOUT_MS)
    return { status: 'connected', addr: request.body.addr, peer: view, created }
  })

  app.delete<{ Params: { id: string } }>('/api/v1/p2p/peers/:id', { schema: { params: peerIdParams } }, async (request, reply) => {
    const native = p2p()
    if (native === undefined) return notEnabled(reply)
    const addr = resolvePeer(native, request.params.id)
    return { status: 'disconnected', removed: await native.removePeer(addr ?? request.params.id) }
  })
}
