/**
 * Liveness and readiness, in the Cortex sidecar's shape (its clients test `status === "healthy"`
 * and read `components.graph` and `components.logic`), with engram's own components alongside:
 *
 *   GET /api/v1/health → 200 {status: "healthy", version,
 *                             components: {graph: {status: "healthy", message: "<n> triples"},
 *                                          logic: {status: "healthy", message},
 *                                          store: {status: "ok", kind, detail}, p2p: {status}}}
 *                      → 503 {status: "unhealthy", …} when the store reports it is not healthy
 *                        (graph "unhealthy", store "unavailable", with why)
 *
 * Another machine gets the same without the store's `detail` (it names the database file) and
 * without the triple count.
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

/** The triple count for the graph component's message; undefined when the store cannot say. */
function tripleCount (deps: ApiDeps): number | undefined {
  try {
    return deps.engine.store.stats().triples
  } catch {
    return undefined
  }
}

export function healthRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/health', async (request, reply) => {
    const store = storeHealth(deps)
    const local = fromThisMachine(request)
    const graphMessage = !store.ok
      ? (local ? store.detail : 'the store is unavailable')
      : (local ? `${tripleCount(deps) ?? '?'} triples` : 'the store answers')
    const body = {
      status: store.ok ? 'healthy' : 'unhealthy',
      version: deps.version,
      components: {
        graph: { status: store.ok ? 'healthy' : 'unhealthy', message: graphMessage },
        // engram has no rule engine: nothing there can fail
        logic: { status: 'healthy', message: 'no rule engine: nothing to evaluate' },
        store: { status: store.ok ? 'ok' : 'unavailable', kind: deps.engine.store.kind, ...(local ? { detail: store.detail } : {}) },
        p2p: { status: p2pEnabled(deps) ? 'enabled' : 'disabled' }
      }
    }
    return reply.code(store.ok ? 200 : 503).send(body)
  })
}
