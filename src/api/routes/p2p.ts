/**
 * Native P2P status. Sync peers probe this to choose between native and polled mode, so the
 * "not enabled" answer keeps the Cortex form: 404 {"error": "P2P not enabled", …}.
 *
 *   GET /api/v1/p2p/status → 200 <status of the P2P engine> | 404 P2P not enabled
 */
import type { FastifyInstance } from 'fastify'
import { errorBody } from '../errors.ts'
import type { ApiDeps } from '../types.ts'

export function p2pRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/p2p/status', async (_request, reply) => {
    const status = deps.p2pStatus?.()
    if (status === undefined) return reply.code(404).send(errorBody('NOT_FOUND', 'P2P not enabled', { what: 'p2p' }))
    return status
  })
}
