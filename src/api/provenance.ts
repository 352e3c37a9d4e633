/**
 * Provenance as the REST API shows it, on every record it returns (docs/API.md, "Provenance"):
 *
 *   "provenance": { "origin": "12D3KooW…", "origin_name": "laptop", "time": "2026-…Z",
 *                   "via": "12D3KooW…" | null, "via_name": "desktop" | null,
 *                   "signed": true, "signer": "12D3KooW…", "signer_name": "laptop" }
 *
 * `origin` wrote the state (its stamp's node) at `time`; `via` is the peer it arrived through
 * (null: written on this node); `signed` whether it carries a verified signature, and `signer`
 * whose (the origin's own, except for a derived deletion: the node that derived it). Names are
 * the ones nodes published (node.name), null when unknown.
 */
import type { NodeId } from '../core/ids.ts'
import { compareRecords } from '../core/merge.ts'
import { recordKey, type MemoryRecord } from '../core/model.ts'
import type { Engine } from '../engine/Engine.ts'
import type { StoredState } from '../store/Store.ts'
import type { ProvenanceDto } from './contract.ts'

export type { ProvenanceDto }


/**
 * A reader of provenance for one request: the batches it looks up are kept for the request (a
 * page of records usually shares a few).
 */
export function provenanceReader (engine: Engine): { of: (r: MemoryRecord) => ProvenanceDto, ofState: (s: StoredState) => ProvenanceDto } {
  const signers = new Map<number, NodeId | undefined>()
  const nameOf = (node: NodeId | undefined): string | null => (node === undefined ? null : engine.provenance.names.nameOf(node) ?? null)
  const ofState = (s: StoredState): ProvenanceDto => {
    let signer: NodeId | undefined
    if (s.seal !== undefined) {
      if (!signers.has(s.seal.batch)) signers.set(s.seal.batch, engine.store.getBatch(s.seal.batch)?.header.signer)
      signer = signers.get(s.seal.batch)
    }
    const h = s.record.hlc
    return {
      origin: h.node,
      origin_name: nameOf(h.node),
      time: new Date(h.wall).toISOString(),
      via: s.via ?? null,
      via_name: nameOf(s.via),
      signed: signer !== undefined,
      ...(signer !== undefined ? { signer, signer_name: nameOf(signer) } : {})
    }
  }
  const of = (r: MemoryRecord): ProvenanceDto => {
    const key = recordKey(r)
    const current = engine.store.getState(r.kind, key)
    if (current !== undefined && compareRecords(current.record, r) === 0) return ofState(current)
    // A state of the past (an as-of read): its provenance is kept with it in history.
    const past = engine.store.history(r.kind, key).find(s => compareRecords(s.record, r) === 0)
    return ofState(past ?? { record: r })
  }
  return { of, ofState }
}
