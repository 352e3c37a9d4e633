/**
 * Hooks an agent calls (docs/API.md):
 *
 *   POST /api/v1/hooks/agent-end  {agent?, sessionId?}  → {triggered, reason}
 *
 * An agent session ended: with `sync.autoSync` on, a debounced sync with every peer starts
 * (never overlapping a run under way). The answer says whether one was triggered, and why not.
 */
import type { FastifyInstance } from 'fastify'
import { INVALID_INPUT } from '../../core/errors.ts'
import type { ApiDeps } from '../types.ts'
import { objectBody } from './sync.ts'

export function hookRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.post('/api/v1/hooks/agent-end', async (request) => {
    const body = objectBody(request.body, ['agent', 'sessionId'])
    for (const f of ['agent', 'sessionId'] as const) {
      if (body[f] !== undefined && (typeof body[f] !== 'string' || body[f].length > 256)) throw INVALID_INPUT(f, 'must be a string of at most 256 characters')
    }
    if (deps.sync === undefined) return { triggered: false, reason: 'sync is not running on this node' }
    return deps.sync.trigger(`agent-end${typeof body.agent === 'string' ? ` (${body.agent})` : ''}`)
  })
}
