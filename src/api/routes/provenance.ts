/**
 * Provenance, history and revert (docs/API.md, "Provenance and history"):
 *
 *   GET    /api/v1/records/<id>[?kind=]     → {kind, key, state, states}   a record in its current state (tombstones too)
 *   GET    /api/v1/history/<id>[?kind=]     → {kind, key, states: [...]}   every state held here, newest first
 *   POST   /api/v1/revert  {id, kind?, dryRun?} | {origin, since, until?, dryRun?}
 *                                           → {written, unchanged, skipped}
 *   GET    /api/v1/nodes                    → {self, nodes: [{node, name, self, signs, revoked_after}]}
 *   GET    /api/v1/revocations              → {quorum, revocations: [...]}
 *   POST   /api/v1/revocations  {node, after?, reason?}  → 201 {revocation}
 *   DELETE /api/v1/revocations/:node        → {withdrawn}
 *   GET    /api/v1/refused                  → {counters, refused: [...]}   records the gate refused, newest first
 *
 * `<id>` is a triple id, a note key, an episode id or a trace id (%-encoded); when it could be
 * two of them, `kind` says which. States carry `deleted`, their provenance and, once replaced,
 * `replaced_at` (the time of the state that replaced them).
 */
import type { FastifyInstance } from 'fastify'
import { CONFLICT, INVALID_INPUT, NOT_FOUND } from '../../core/errors.ts'
import { isNodeId, isTripleId, type NodeId } from '../../core/ids.ts'
import { RECORD_KINDS, recordKey, type MemoryRecord, type RecordKind } from '../../core/model.ts'
import { REFUSAL_REASONS } from '../../engine/provenance/RecordGate.ts'
import type { StoredState } from '../../store/Store.ts'
import { recordDto } from '../dto.ts'
import { recordViews } from '../provenance.ts'
import { provenanceReader } from '../provenance.ts'
import { timeProp } from '../schemas.ts'
import { parseTime } from '../time.ts'
import type { ApiDeps } from '../types.ts'

const kindQuery = {
  type: 'object',
  properties: { kind: { type: 'string', enum: RECORD_KINDS } },
  additionalProperties: false
} as const

const revertBody = {
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1 },
    kind: { type: 'string', enum: RECORD_KINDS },
    origin: { type: 'string', minLength: 1 },
    since: timeProp,
    until: timeProp,
    dryRun: { type: 'boolean' }
  },
  additionalProperties: false
} as const

const revokeBody = {
  type: 'object',
  required: ['node'],
  properties: { node: { type: 'string', minLength: 1 }, after: timeProp, reason: { type: 'string' } },
  additionalProperties: false
} as const

const deleted = (r: MemoryRecord): boolean => (r.kind === 'triple' || r.kind === 'note') && r.deleted
const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString())

export function provenanceRoutes (app: FastifyInstance, deps: ApiDeps): void {
  const { engine } = deps
  const { store } = engine

  /** The kind of the record `id` names (history: tombstones and collected ones count). */
  const kindOf = (id: string, kind: RecordKind | undefined): RecordKind => {
    if (kind !== undefined) return kind
    const candidates: RecordKind[] = isTripleId(id) ? ['triple', 'trace', 'note', 'episode'] : ['note', 'episode']
    const found = candidates.filter(k => store.history(k, id).length > 0)
    if (found.length === 0) throw NOT_FOUND('record', id)
    if (found.length > 1) throw CONFLICT(`${id} names a ${found.join(' and a ')}; say which with kind`, { id, kinds: found })
    return found[0]!
  }

  const stateView = (p: ReturnType<typeof provenanceReader>, s: StoredState, current: boolean): Record<string, unknown> => ({
    ...recordDto(s.record),
    deleted: deleted(s.record),
    current,
    replaced_at: s.until === undefined ? null : iso(s.until.wall),
    provenance: p.ofState(s)
  })

  app.get<{ Params: { '*': string }, Querystring: { kind?: RecordKind } }>('/api/v1/records/*', { schema: { querystring: kindQuery } }, async (request) => {
    const id = request.params['*']
    const kind = kindOf(id, request.query.kind)
    const states = store.history(kind, id)
    const current = store.getState(kind, id)
    const shown = current ?? states[0]
    if (shown === undefined) throw NOT_FOUND(kind, id)
    return { kind, key: id, state: stateView(provenanceReader(engine), shown, current !== undefined), states: states.length }
  })

  app.get<{ Params: { '*': string }, Querystring: { kind?: RecordKind } }>('/api/v1/history/*', { schema: { querystring: kindQuery } }, async (request) => {
    const id = request.params['*']
    const kind = kindOf(id, request.query.kind)
    const states = store.history(kind, id)
    if (states.length === 0) throw NOT_FOUND(kind, id)
    const p = provenanceReader(engine)
    const hasCurrent = store.getState(kind, id) !== undefined
    return { kind, key: id, states: states.map((s, i) => stateView(p, s, hasCurrent && i === 0)) }
  })

  app.post<{ Body: { id?: string, kind?: RecordKind, origin?: string, since?: string | number, until?: string | number, dryRun?: boolean } }>(
    '/api/v1/revert', { schema: { body: revertBody } }, async (request) => {
      const b = request.body
      const opts = { dryRun: b.dryRun === true }
      let result
      if (b.id !== undefined) {
        if (b.origin !== undefined || b.since !== undefined || b.until !== undefined) throw INVALID_INPUT('id', 'give either id (one record) or origin with since (a window), not both')
        result = engine.history.revertRecord(kindOf(b.id, b.kind), b.id, opts)
      } else {
        if (b.origin === undefined || b.since === undefined) throw INVALID_INPUT('origin', 'give id (one record), or origin and since (everything that node wrote from then)')
        const since = parseTime(b.since, 'since')
        const until = b.until === undefined ? Number.MAX_SAFE_INTEGER : parseTime(b.until, 'until')
        result = engine.history.revertWindow(b.origin, since, until, opts)
      }
      const view = recordViews(engine)
      return {
        dryRun: opts.dryRun,
        written: result.written.map(r => ({ ...(opts.dryRun ? recordDto(r) : view.any(r)), kind: r.kind, key: recordKey(r), deleted: deleted(r) })),
        unchanged: result.unchanged,
        skipped: result.skipped
      }
    })

  app.get('/api/v1/nodes', async () => {
    const p = engine.provenance
    const nodes = new Set<string>([engine.node, ...p.names.all().keys(), ...p.revocations.list().map(r => r.target)])
    return {
      self: engine.node,
      nodes: [...nodes].sort().map(n => ({
        node: n,
        name: p.names.nameOf(n as NodeId) ?? null,
        self: n === engine.node,
        signs: p.signers.has(n as NodeId),
        revoked_after: iso(p.revocations.revokedAfter(n as NodeId))
      }))
    }
  })

  app.get('/api/v1/revocations', async () => {
    const p = engine.provenance
    return {
      quorum: deps.revocationQuorum?.() ?? null,
      revocations: p.revocations.list().map(r => ({
        target: r.target,
        target_name: p.names.nameOf(r.target) ?? null,
        effective_after: iso(r.effectiveAfter),
        pending: r.pending ?? null,
        issued: r.issued.map(i => ({ issuer: i.issuer, issuer_name: p.names.nameOf(i.issuer) ?? null, after: iso(i.after), reason: i.reason ?? null, at: iso(i.hlc.wall) })),
        // Records of the target stamped from then that this node already held when it learnt of it: for review (revert them).
        held_after: r.effectiveAfter === undefined ? 0 : store.touchedBy(r.target, r.effectiveAfter, Number.MAX_SAFE_INTEGER).length
      }))
    }
  })

  app.post<{ Body: { node: string, after?: string | number, reason?: string } }>('/api/v1/revocations', { schema: { body: revokeBody } }, async (request, reply) => {
    const { node, after, reason } = request.body
    if (!isNodeId(node)) throw INVALID_INPUT('node', 'must be a node id')
    const note = engine.revoke(node, { ...(after !== undefined ? { after: parseTime(after, 'after') } : {}), ...(reason !== undefined ? { reason } : {}) })
    return reply.code(201).send({ revocation: recordViews(engine).note(note) })
  })

  app.delete<{ Params: { node: string } }>('/api/v1/revocations/:node', async (request) => {
    const note = engine.withdrawRevocation(request.params.node)
    return { withdrawn: recordKey(note) }
  })

  app.get('/api/v1/refused', async () => {
    const p = engine.provenance
    return {
      counters: { ...p.counters.refused, total: REFUSAL_REASONS.reduce((n, r) => n + p.counters.refused[r], 0) },
      refused: p.refusals.list().reverse()
    }
  })
}
