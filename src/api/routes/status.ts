/**
 * Node status for people and the CLI:
 *
 *   GET /api/v1/status → {nodeId, version, startedAt, dataDir,
 *                         store: {kind, path, sizeBytes, status, detail, stats: {triples, tripleTombstones, notes, …}},
 *                         p2p: {enabled},
 *                         clock: {now, mark, markAheadMs, maxDriftMs, agreesWithPeers, peers, held, lastRepair, members}}
 */
import type { FastifyInstance } from 'fastify'
import type { ApiDeps } from '../types.ts'
import { p2pEnabled, storeHealth } from './health.ts'

/** The body of GET /api/v1/status (also in the live status stream). */
export function nodeStatusBody (deps: ApiDeps): Record<string, unknown> {
  const node = deps.status()
  const health = storeHealth(deps)
  const clock = deps.clock?.()
  return {
    ...node,
    store: {
      ...node.store,
      status: health.ok ? 'ok' : 'unavailable',
      detail: health.detail,
      stats: deps.engine.store.stats()
    },
    p2p: { enabled: p2pEnabled(deps) },
    ...(clock !== undefined ? { clock } : {})
  }
}

export function statusRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/status', async () => nodeStatusBody(deps))
}
