/**
 * Node status for people and the CLI:
 *
 *   GET /api/v1/status → {nodeId, version, startedAt, dataDir,
 *                         store: {kind, path, sizeBytes, status, detail, stats: {triples, tripleTombstones, notes, …}},
 *                         p2p: {enabled},
 *                         provenance: {signing, refused: {bad-signature, not-signer, unsigned, revoked, system, total},
 *                                      accepted: {signed, unsigned}, known_signers, revoked, history, batches, unsigned_held},
 *                         clock: {now, mark, markAheadMs, maxDriftMs, agreesWithPeers, peers, held, lastRepair, members}}
 *
 * `provenance.refused` counts the records refused since start (GET /api/v1/refused lists them).
 */
import type { FastifyInstance } from 'fastify'
import { REFUSAL_REASONS } from '../../engine/provenance/RecordGate.ts'
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
    provenance: provenanceStatus(deps),
    ...(clock !== undefined ? { clock } : {})
  }
}

export function statusRoutes (app: FastifyInstance, deps: ApiDeps): void {
  app.get('/api/v1/status', async () => nodeStatusBody(deps))
}

function provenanceStatus (deps: ApiDeps): Record<string, unknown> {
  const p = deps.engine.provenance
  const held = deps.engine.store.provenanceStats()
  return {
    signing: p.signer !== undefined,
    refused: { ...p.counters.refused, total: REFUSAL_REASONS.reduce((n, r) => n + p.counters.refused[r], 0) },
    accepted: { signed: p.counters.signedAccepted, unsigned: p.counters.unsignedAccepted },
    known_signers: p.signers.size,
    revoked: p.revocations.size,
    history: held.history,
    batches: held.batches,
    unsigned_held: held.unsigned
  }
}
