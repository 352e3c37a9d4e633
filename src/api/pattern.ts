/**
 * Triple patterns from requests.
 *
 * In a query string every value is text, so `object` is read as follows:
 * - text that starts with `{` is a term in its JSON form, exactly as POST /api/v1/triples takes
 *   it: `{"node":"user:bob"}`, `{"text":"bonjour","lang":"fr"}`, `{"datetime":"…"}`,
 *   `{"json":…}`, or the tagged form `{"kind":"number","value":42}`;
 * - any other text is a string literal (`object=vim` matches the literal "vim").
 * A string literal that itself starts with `{` is written `{"kind":"string","value":"{…"}`.
 *
 * In a JSON body (POST /api/v1/query) `object` is any term in its JSON form: "vim", 42, true,
 * {"node": "user:bob"}, …
 */
import { INVALID_INPUT } from '../core/errors.ts'
import { isNodeId } from '../core/ids.ts'
import type { Term } from '../core/model.ts'
import { parseTerm } from '../core/validate.ts'
import type { Engine } from '../engine/Engine.ts'
import type { TriplePattern } from '../store/Store.ts'
import { parseTime } from './time.ts'

export interface PatternFields {
  readonly subject?: string
  readonly predicate?: string
  readonly namespace?: string
  /** Only triples stamped by this node. */
  readonly origin?: string
  /** The state at this time (parseTime): checked against history's retention by `asOf`. */
  readonly asOf?: string | number
}

function withObject (fields: PatternFields, object: Term | undefined): TriplePattern {
  const p: { -readonly [K in keyof TriplePattern]: TriplePattern[K] } = {}
  if (fields.subject !== undefined) p.subject = fields.subject
  if (fields.predicate !== undefined) p.predicate = fields.predicate
  if (fields.namespace !== undefined) p.namespace = fields.namespace
  if (object !== undefined) p.object = object
  if (fields.origin !== undefined) {
    if (!isNodeId(fields.origin)) throw INVALID_INPUT('origin', 'must be a node id (1-128 of A-Z a-z 0-9 . _ -)')
    p.origin = fields.origin
  }
  if (fields.asOf !== undefined) p.asOf = parseTime(fields.asOf, 'asOf')
  return p
}

/** `pattern` once its `asOf` (if any) is within what history covers (History.checkAsOf). */
export function withinHistory (engine: Engine, pattern: TriplePattern): TriplePattern {
  if (pattern.asOf !== undefined) engine.history.checkAsOf(pattern.asOf)
  return pattern
}

/** A time of a request within what history covers, or undefined. */
export function asOfParam (engine: Engine, value: string | number | undefined, field = 'asOf'): number | undefined {
  return value === undefined ? undefined : engine.history.checkAsOf(parseTime(value, field), field)
}

/** The object of a query-string pattern (see the module comment for the syntax). */
export function parseQueryObject (text: string, field = 'object'): Term {
  if (!text.startsWith('{')) return parseTerm(text, field)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw INVALID_INPUT(field, 'starts with "{" but is not valid JSON; write a term such as {"node":"user:bob"}, ' +
      'or a string literal that starts with "{" as {"kind":"string","value":"{…"}')
  }
  return parseTerm(parsed, field)
}

export function patternFromQuery (q: PatternFields & { readonly object?: string }): TriplePattern {
  return withObject(q, q.object === undefined ? undefined : parseQueryObject(q.object))
}

export function patternFromBody (b: PatternFields & { readonly object?: unknown }): TriplePattern {
  return withObject(b, b.object === undefined ? undefined : parseTerm(b.object, 'object'))
}
