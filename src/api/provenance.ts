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
 * the ones nodes published (node.name), null when unknown. `recordViews` builds the record DTOs
 * of one request (dto.ts) with it.
 */
import type { NodeId } from '../core/ids.ts'
import { compareRecords } from '../core/merge.ts'
import { recordKey, type EpisodeRecord, type MemoryRecord, type NoteRecord, type TraceRecord, type TripleRecord } from '../core/model.ts'
import type { Engine } from '../engine/Engine.ts'
import type { StoredState } from '../store/Store.ts'
import { episodeDto, noteDto, recordDto, traceDto, tripleDto, type EpisodeDto, type NoteDto, type ProvenanceDto, type TraceDto, type TripleDto } from './dto.ts'

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

/** The DTOs of one request, each with its provenance. */
export function recordViews (engine: Engine): {
  triple: (t: TripleRecord) => TripleDto
  note: (n: NoteRecord) => NoteDto
  episode: (e: EpisodeRecord) => EpisodeDto
  trace: (t: TraceRecord) => TraceDto
  any: (r: MemoryRecord) => TripleDto | NoteDto | EpisodeDto | TraceDto
} {
  const p = provenanceReader(engine)
  return {
    triple: t => ({ ...tripleDto(t), provenance: p.of(t) }),
    note: n => ({ ...noteDto(n), provenance: p.of(n) }),
    episode: e => ({ ...episodeDto(e), provenance: p.of(e) }),
    trace: t => ({ ...traceDto(t), provenance: p.of(t) }),
    any: r => ({ ...recordDto(r), provenance: p.of(r) })
  }
}
