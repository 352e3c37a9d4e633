/**
 * Record builders for the store conformance suite.
 */
import type { Hlc, HlcMark } from '../../../src/core/hlc.ts'
import { asNodeId, type NodeId } from '../../../src/core/ids.ts'
import type { EpisodeRecord, Json, JsonObject, NoteRecord, Term, TraceRecord, TripleRecord } from '../../../src/core/model.ts'
import { makeTrace, makeTriple } from '../../../src/core/records.ts'
import type { Store } from '../../../src/store/Store.ts'

export const A: NodeId = asNodeId('node-a')
export const B: NodeId = asNodeId('node-b')
export const C: NodeId = asNodeId('node-c')

export const at = (wall: number, counter = 0, node: NodeId = A): Hlc => ({ wall, counter, node })
export const mark = (wall: number, counter = 0): HlcMark => ({ wall, counter })

export const str = (value: string): Term => ({ kind: 'string', value })

export function triple (subject: string, predicate: string, object: Term | string, hlc: Hlc, deleted = false): TripleRecord {
  return makeTriple({ subject, predicate, object: typeof object === 'string' ? str(object) : object }, hlc, deleted)
}

export const tomb = (t: TripleRecord, hlc: Hlc): TripleRecord => ({ ...t, hlc, deleted: true })

export function note (key: string, value: Json, hlc: Hlc): NoteRecord {
  return { kind: 'note', key, value, hlc, deleted: false }
}

export function noteTomb (key: string, hlc: Hlc): NoteRecord {
  return { kind: 'note', key, value: null, hlc, deleted: true }
}

export function episode (id: string, data: JsonObject, hlc: Hlc): EpisodeRecord {
  return { kind: 'episode', id, data, hlc }
}

export function trace (runId: string, type: string, data: Json, hlc: Hlc): TraceRecord {
  return makeTrace(runId, type, data, hlc)
}

/** Options every store implementation takes. */
export interface StoreOptions {
  /** Most matching records a search ranks. */
  readonly textCandidates?: number
}

/** A store under test, replaced before each test. */
export interface StoreRef {
  readonly store: Store
}

/** Applies local records with a clock mark at least as large as their stamps. */
export function put (store: Store, ...records: (TripleRecord | NoteRecord | EpisodeRecord | TraceRecord)[]): ReturnType<Store['apply']> {
  return store.apply(records, { clock: mark(0) })
}
