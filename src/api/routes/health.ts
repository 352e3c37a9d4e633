/**
 * Liveness and readiness, Cortex-compatible:
 *
 *   GET /api/v1/health → 200 {status: "ok", version, components: {store: {status: "ok", kind, detail}, p2p: {status}}}
 *                      → 503 {status: "degraded", …} when the store reports it is not healthy
 *
 * Another machine gets the same without the store's `detail` (it names the database file).
 */
import type { FastifyInstance } from 'fastify'
import type { StoreHealth } from '../../store/Store.ts'
import { fromThisMachine } from '../remoteAccess.ts'
import type { ApiDeps } from '../types.ts'

export function storeHealth (deps: ApiDeps): StoreHealth {
  try {
    return deps.engine.store.health()
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message : String(err) }
  }
}

export function p2pEnabled (deps: ApiDeps): boolean {
  try {
    return deps.p2p !== undefined || deps.p2pStatus?.() !== undefined
  } catch {
    return false
  }
}

export function healthRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/health', async (request, reply) => {
    const store = storeHealth(deps)
    const body = {
      status: store.ok ? 'ok' : 'degraded',
      version: deps.version,
      components: {
        store: { status: store.ok ? 'ok' : 'unavailable', kind: deps.engine.store.kind, ...(fromThisMachine(request) ? { detail: store.detail } : {}) },
        p2p: { status: p2pEnabled(deps) ? 'enabled' : 'disabled' }
      }
    }
    return reply.code(store.ok ? 200 : 503).send(body)
  })
}
