/**
 * Native P2P sync: status and manual peers. Sync peers probe the status to choose between
 * native and polled mode, so the "not enabled" answer keeps the Cortex form:
 * 404 {"error": "P2P not enabled", …}.
 *
 *   GET    /api/v1/p2p/status        → 200 status (docs/PROTOCOL.md §4) | 404 P2P not enabled
 *   GET    /api/v1/p2p/peers         → 200 {peers, book} (book: the peer book, every known peer with
 *                                      its source, addresses, last seen and last error)
 *   POST   /api/v1/p2p/peers {addr}  → 201 {peer, created: true} | 200 {peer, created: false} (already listed)
 *   DELETE /api/v1/p2p/peers/:id     → 200 {removed} — :id is a node id or the peer's address (%-encoded)
 *
 * `addr` is "host:port" (IPv4 or a host name), "[ipv6]:port" or a multiaddr.
 *
 * Another machine (with api.host widened) gets only what a peer's probe reads from the status:
 * `{node_id, enabled, port}` — no addresses, peers or counters.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import { MAX_ADDR_LENGTH } from '../../peers/addresses.ts'
import { errorBody } from '../errors.ts'
import { fromThisMachine } from '../remoteAccess.ts'
import type { P2pPeersAnswer } from '../contract.ts'
import type { ApiDeps, P2pApi } from '../types.ts'

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

export function p2pRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const notEnabled = (reply: FastifyReply): FastifyReply => reply.code(404).send(errorBody('NOT_FOUND', 'P2P not enabled', { what: 'p2p' }))
  const p2p = (): P2pApi | undefined => deps.p2p

  app.get('/api/v1/p2p/status', async (request, reply) => {
    const status = deps.p2p?.status() ?? deps.p2pStatus?.()
    if (status === undefined) return notEnabled(reply)
    if (fromThisMachine(request)) return status
    return { node_id: status.node_id, enabled: status.enabled, port: status.port }
  })

  app.get('/api/v1/p2p/peers', async (_request, reply) => {
    const native = p2p()
    if (native === undefined) return notEnabled(reply)
    const book = deps.p2pPeerBook?.()
    const answer: P2pPeersAnswer = { peers: native.listPeers(), ...(book !== undefined ? { book } : {}) }
    return answer
  })

  app.post<{ Body: { addr: string } }>('/api/v1/p2p/peers', { schema: { body: addPeerBody } }, async (request, reply) => {
    const native = p2p()
    if (native === undefined) return notEnabled(reply)
    const { peer, created } = native.addPeer(request.body.addr)
    return reply.code(created ? 201 : 200).send({ peer, created })
  })

  app.delete<{ Params: { id: string } }>('/api/v1/p2p/peers/:id', { schema: { params: peerIdParams } }, async (request, reply) => {
    const native = p2p()
    if (native === undefined) return notEnabled(reply)
    return { removed: await native.removePeer(request.params.id) }
  })
}
