/**
 * JSON schemas of every request body, query string and path parameter. Fastify validates
 * requests against them before a handler runs (without type coercion; see validation.ts), and
 * the error handler turns a violation into a 400 naming the field.
 *
 * The schemas check shape and types. Content rules (byte limits, term shapes, date-times,
 * language tags, JSON depth) are checked once, by core/validate.ts, which names the field too.
 * A triple's `object` is deliberately left open here so that parseTerm gives the precise
 * message for every shape it accepts or refuses.
 *
 * Query strings and bodies other than triples refuse unknown fields, so that a misspelt filter
 * (`?subjet=…`) is an error instead of silently widening a query or a delete. Triples accept
 * and ignore extra fields, as Cortex clients may send them.
 */
import { LIMITS } from '../core/limits.ts'

const str = { type: 'string' } as const
const nonEmpty = { type: 'string', minLength: 1 } as const
const anyJson = {} as const

export const limitProp = { type: 'integer', minimum: 0, maximum: LIMITS.queryLimitMax, default: 100 } as const
export const offsetProp = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 } as const

const hex64 = (what: string) => ({ type: 'string', pattern: '^[0-9a-f]{64}$', description: `a ${what} id: 64 lowercase hex digits` }) as const

// ---- triples ----

export const tripleIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: hex64('triple') }
} as const

/** One triple `{subject, predicate, object}`. */
export const tripleInput = {
  type: 'object',
  required: ['subject', 'predicate', 'object'],
  properties: { subject: str, predicate: str, object: anyJson }
} as const

/** One triple `{subject, predicate, object}` or a batch `{triples: [...]}`. */
export const createTriplesBody = {
  type: 'object',
  if: { type: 'object', required: ['triples'] },
  then: {
    type: 'object',
    required: ['triples'],
    properties: { triples: { type: 'array', items: tripleInput } },
    additionalProperties: false
  },
  else: tripleInput
} as const

/** `object` may be empty: `?object=` is the empty string literal. */
const patternProps = { subject: nonEmpty, predicate: nonEmpty, object: str, namespace: nonEmpty } as const
/** A time: ISO-8601 date-time or milliseconds since the epoch (api/time.ts). */
export const timeProp = { anyOf: [{ type: 'string' }, { type: 'integer' }] } as const

export const listTriplesQuery = {
  type: 'object',
  properties: { ...patternProps, origin: nonEmpty, asOf: str, limit: limitProp, offset: offsetProp },
  additionalProperties: false
} as const

/** `?asOf=` alone (reads of one record). */
export const asOfQuery = {
  type: 'object',
  properties: { asOf: str },
  additionalProperties: false
} as const

export const deleteTriplesQuery = {
  type: 'object',
  properties: patternProps,
  additionalProperties: false
} as const

export const queryBody = {
  type: 'object',
  properties: {
    subject: nonEmpty,
    predicate: nonEmpty,
    object: anyJson,
    namespace: nonEmpty,
    origin: nonEmpty,
    asOf: timeProp,
    limit: limitProp,
    offset: offsetProp
  },
  additionalProperties: false
} as const

// ---- notes ----

/** Note keys are taken from the rest of the path, so they may contain '/'. */
export const wildcardParams = {
  type: 'object',
  properties: { '*': str }
} as const

export const putNoteBody = {
  type: 'object',
  required: ['value'],
  properties: { value: anyJson },
  additionalProperties: false
} as const

export const listByPrefixQuery = {
  type: 'object',
  properties: { prefix: str, limit: limitProp, offset: offsetProp },
  additionalProperties: false
} as const

export const listNotesQuery = {
  type: 'object',
  properties: { prefix: str, asOf: str, limit: limitProp, offset: offsetProp },
  additionalProperties: false
} as const

// ---- episodes ----

export const createEpisodeBody = {
  type: 'object',
  required: ['data'],
  properties: { id: nonEmpty, data: { type: 'object' } },
  additionalProperties: false
} as const

// ---- traces ----

const traceInput = {
  type: 'object',
  required: ['runId', 'type', 'data'],
  properties: { runId: nonEmpty, type: nonEmpty, data: anyJson },
  additionalProperties: false
} as const

/** One entry `{runId, type, data}` or a batch `{traces: [...]}`. */
export const createTracesBody = {
  type: 'object',
  if: { type: 'object', required: ['traces'] },
  then: {
    type: 'object',
    required: ['traces'],
    properties: { traces: { type: 'array', items: traceInput } },
    additionalProperties: false
  },
  else: traceInput
} as const

export const traceIdParams = {
  type: 'object',
  required: ['id'],
  properties: { id: hex64('trace') }
} as const

export const listTracesQuery = {
  type: 'object',
  properties: { runId: nonEmpty, limit: limitProp, offset: offsetProp },
  additionalProperties: false
} as const

// ---- search ----

const KIND_LIST = '^(triple|note|episode|trace)(,(triple|note|episode|trace))*$'

/** GET /api/v1/search: the query's own rules (syntax, length) are checked by text/query.ts, which names the problem. */
export const searchQuery = {
  type: 'object',
  required: ['q'],
  properties: {
    q: str,
    kind: { type: 'string', pattern: KIND_LIST, description: 'kinds, comma-separated: triple, note, episode, trace' },
    namespace: str,
    limit: { type: 'integer', minimum: 1, maximum: LIMITS.searchLimitMax, default: 10 },
    expand: { type: 'integer', minimum: 0, maximum: LIMITS.searchExpandMax, default: 0 },
    mode: { type: 'string', enum: ['auto', 'text', 'hybrid'], default: 'auto' }
  },
  additionalProperties: false
} as const
