/**
 * Conflicts recorded by the keep-both strategy (docs/SYNC.md):
 *
 *   GET  /api/v1/conflicts                              → {conflicts: [entry…], total}
 *   POST /api/v1/conflicts/:id/resolve  {keep: "kept"|"other"}  → {resolved: entry, keep}
 *
 * An entry is {id, kind: "note"|"triple", key, kept, other, peer, detectedAt}; for notes `kept`
 * is the value that stayed current and `other` the one that lost, for triples `kept` is the
 * local triple and `other` the incoming one (both stay live until resolved).
 */
import type { FastifyInstance } from 'fastify'
import { INVALID_INPUT } from '../../core/errors.ts'
import type { ApiDeps } from '../types.ts'
import { objectBody, requireSync } from './sync.ts'

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[0-9a-f]{32}$', description: 'a conflict id: 32 lowercase hex digits' } }
} as const

export function conflictRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/conflicts', async () => {
    const conflicts = requireSync(deps).listConflicts()
    return { conflicts, total: conflicts.length }
  })

  app.post<{ Params: { id: string } }>('/api/v1/conflicts/:id/resolve', { schema: { params: idParams } }, async (request) => {
    const sync = requireSync(deps)
    const { keep } = objectBody(request.body, ['keep'])
    if (keep !== 'kept' && keep !== 'other') throw INVALID_INPUT('keep', 'must be "kept" or "other"')
    return { resolved: sync.resolveConflict(request.params.id, keep), keep }
  })
}
