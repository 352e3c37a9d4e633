/**
 * The data model: the four kinds of record engram stores and replicates.
 *
 * | kind    | identity                     | merge rule (see merge.ts)                               |
 * |---------|------------------------------|---------------------------------------------------------|
 * | triple  | BLAKE3 of canonical content  | present/absent by the larger stamp; delete wins a tie   |
 * | note    | key                          | last writer wins by stamp, then value hash              |
 * | episode | id                           | union: never deleted by merge; content by larger stamp  |
 * | trace   | BLAKE3 of canonical content  | append-only: insert or ignore, never changed            |
 *
 * Every record carries the HLC stamp of the write that produced its current state; the stamp's
 * node is the record's origin. A copy never gets a fresh stamp.
 */
import type { Hlc } from './hlc.ts'
import type { TripleId } from './ids.ts'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

/** A triple's object: a node reference (IRI) or a typed literal. */
export type Term =
  | { readonly kind: 'node', readonly value: string }
  | { readonly kind: 'string', readonly value: string }
  | { readonly kind: 'lang', readonly value: string, readonly lang: string }
  | { readonly kind: 'number', readonly value: number }
  | { readonly kind: 'boolean', readonly value: boolean }
  /** Canonical ISO-8601 UTC with milliseconds: `YYYY-MM-DDTHH:mm:ss.sssZ`. */
  | { readonly kind: 'datetime', readonly value: string }
  | { readonly kind: 'json', readonly value: Json }

export type TermKind = Term['kind']
export const TERM_KINDS: readonly TermKind[] = ['node', 'string', 'lang', 'number', 'boolean', 'datetime', 'json']

export interface TripleContent {
  readonly subject: string
  readonly predicate: string
  readonly object: Term
}

export interface TripleRecord extends TripleContent {
  readonly kind: 'triple'
  readonly id: TripleId
  readonly hlc: Hlc
  /** A tombstone: the triple was deleted by the write stamped `hlc`. */
  readonly deleted: boolean
}

export interface NoteRecord {
  readonly kind: 'note'
  readonly key: string
  /** null exactly when deleted. */
  readonly value: Json
  readonly hlc: Hlc
  readonly deleted: boolean
}

export interface EpisodeRecord {
  readonly kind: 'episode'
  readonly id: string
  /** Free-form object; conventional fields: agent, sessionId, summary, startedAt, endedAt, tags. */
  readonly data: JsonObject
  readonly hlc: Hlc
}

export interface TraceRecord {
  readonly kind: 'trace'
  /** BLAKE3 of the canonical trace (runId, type, data, stamp): same id means same content. */
  readonly id: string
  readonly runId: string
  readonly type: string
  readonly data: Json
  readonly hlc: Hlc
}

/** One unit of state that is stored, merged and replicated. */
export type MemoryRecord = TripleRecord | NoteRecord | EpisodeRecord | TraceRecord
export type RecordKind = MemoryRecord['kind']
export const RECORD_KINDS: readonly RecordKind[] = ['triple', 'note', 'episode', 'trace']

/** The key that identifies a record within its kind. */
export function recordKey (r: MemoryRecord): string {
  switch (r.kind) {
    case 'triple': return r.id
    case 'note': return r.key
    case 'episode': return r.id
    case 'trace': return r.id
  }
}

/** Namespace of a name: the part before its first ':' ('' when there is none). */
export function namespaceOf (name: string): string {
  const i = name.indexOf(':')
  return i < 0 ? '' : name.slice(0, i)
}

/** The name a record's namespace is taken from: subject, note key, episode id, trace run id. */
export function recordNamespace (r: MemoryRecord): string {
  switch (r.kind) {
    case 'triple': return namespaceOf(r.subject)
    case 'note': return namespaceOf(r.key)
    case 'episode': return namespaceOf(r.id)
    case 'trace': return namespaceOf(r.runId)
  }
}

export const isTombstone = (r: MemoryRecord): boolean => (r.kind === 'triple' || r.kind === 'note') && r.deleted
