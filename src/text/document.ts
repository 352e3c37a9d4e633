/**
 * What the full-text index holds of each record: its fields and their tokens. Pure.
 *
 * | kind    | name fields          | body field                        |
 * |---------|----------------------|-----------------------------------|
 * | triple  | subject, predicate   | object (its value as text)        |
 * | note    | key                  | value (the text of its JSON)      |
 * | episode | id                   | data (the text of its JSON)       |
 * | trace   | runId, type          | data (the text of its JSON)       |
 *
 * The text of a JSON value is its strings, numbers and booleans and the keys of its objects, in
 * order, one per line. A record's terms are its fields' terms in this order (so a phrase may run
 * from a subject into its predicate); the index receives them after its namespace's token, and
 * ranking weighs name and body fields apart (rank.ts). Tombstones are not indexed.
 *
 * DOCUMENT_VERSION names these rules and the tokenizer's: an index built under another version is
 * rebuilt when the store opens.
 */
import type { Json, MemoryRecord, RecordKind, Term } from '../core/model.ts'
import { recordNamespace } from '../core/model.ts'
import { appendTerms } from './tokenize.ts'

/** Changes whenever tokenize.ts or the fields below change what is indexed. */
export const DOCUMENT_VERSION = 1

export type FieldName = 'subject' | 'predicate' | 'object' | 'key' | 'value' | 'id' | 'data' | 'runId' | 'type'

export interface Field {
  readonly name: FieldName
  /** A name field (subject, key, id…) or the body (object, value, data). */
  readonly role: 'name' | 'body'
  readonly text: string
}

/** A field of a document, and where its terms are in the document's terms: [start, end). */
export interface DocumentField extends Field {
  readonly start: number
  readonly end: number
}

export interface SearchDocument {
  readonly kind: RecordKind
  /** The record's namespace (core/model.ts recordNamespace). */
  readonly namespace: string
  readonly fields: readonly DocumentField[]
  /** Every field's terms, in field order: the sequence the index holds. */
  readonly terms: readonly string[]
}

/** The fields of a live record (not a tombstone). */
export function fieldsOf (r: MemoryRecord): Field[] {
  switch (r.kind) {
    case 'triple': return tripleFields(r.subject, r.predicate, r.object)
    case 'note': return [name('key', r.key), body('value', jsonText(r.value))]
    case 'episode': return [name('id', r.id), body('data', jsonText(r.data))]
    case 'trace': return [name('runId', r.runId), name('type', r.type), body('data', jsonText(r.data))]
  }
}

/** The fields of a triple, from its parts (a store reading only what search needs). */
export function tripleFields (subject: string, predicate: string, object: Term): Field[] {
  return [name('subject', subject), name('predicate', predicate), body('object', termText(object))]
}

/** The document of a live record. */
export function documentOf (r: MemoryRecord): SearchDocument {
  return documentOfFields(r.kind, recordNamespace(r), fieldsOf(r))
}

/** The document of a record of `kind` in `namespace` with these fields. */
export function documentOfFields (kind: RecordKind, namespace: string, fields: readonly Field[]): SearchDocument {
  const terms: string[] = []
  const withRanges = fields.map(f => {
    const start = terms.length
    appendTerms(f.text, terms)
    return { ...f, start, end: terms.length }
  })
  return { kind, namespace, fields: withRanges, terms }
}

/** A record's text for a semantic embedding: its fields' texts, in order, at most `maxChars` characters. */
export function recordText (r: MemoryRecord, maxChars: number): string {
  const text = fieldsOf(r).map(f => f.text).join('\n')
  return text.length > maxChars ? text.slice(0, maxChars) : text
}

/**
 * What the index receives for a live record: its namespace's token, then its terms, separated by
 * spaces, and how many terms that is (documentOf without the fields, for the write path).
 */
export function indexEntry (r: MemoryRecord): { readonly text: string, readonly terms: number } {
  return indexEntryOf(recordNamespace(r), fieldsOf(r))
}

/** indexEntry of a record in `namespace` with these fields (a store reading only what the index needs). */
export function indexEntryOf (namespace: string, fields: readonly Field[]): { readonly text: string, readonly terms: number } {
  const terms: string[] = []
  for (const f of fields) appendTerms(f.text, terms)
  const ns = namespaceToken(namespace)
  return { text: terms.length === 0 ? ns : `${ns} ${terms.join(' ')}`, terms: terms.length }
}

/**
 * The namespace as one index token: "_n" and the hex of its UTF-8 bytes, so any namespace (empty,
 * with spaces or punctuation) is one word that only matches itself. Terms never hold "_" (it
 * separates words, tokenize.ts), and the index keeps "_" inside a token, so no word of a record
 * or a query is ever a namespace token.
 */
export function namespaceToken (ns: string): string {
  let token = NS_TOKENS.get(ns)
  if (token === undefined) {
    if (NS_TOKENS.size >= 1024) NS_TOKENS.clear()
    NS_TOKENS.set(ns, token = '_n' + Buffer.from(ns, 'utf8').toString('hex'))
  }
  return token
}

/** Namespaces are few: their tokens are computed once. */
const NS_TOKENS = new Map<string, string>()

const name = (n: FieldName, text: string): Field => ({ name: n, role: 'name', text })
const body = (n: FieldName, text: string): Field => ({ name: n, role: 'body', text })

function termText (t: Term): string {
  switch (t.kind) {
    case 'json': return jsonText(t.value)
    default: return String(t.value)
  }
}

/** The strings, numbers, booleans and object keys of a JSON value, one per line. */
export function jsonText (v: Json): string {
  if (typeof v === 'string') return v
  const parts: string[] = []
  collect(v, parts)
  return parts.join('\n')
}

function collect (v: Json, out: string[]): void {
  if (v === null) return
  if (typeof v !== 'object') { out.push(String(v)); return }
  if (Array.isArray(v)) { for (const x of v) collect(x, out); return }
  for (const [k, x] of Object.entries(v)) {
    out.push(k)
    collect(x, out)
  }
}
