/**
 * Turning untrusted input (REST bodies, CLI arguments, records from peers) into normalized
 * model values, or a clear INVALID_INPUT error naming the field and what is allowed.
 * Normalization is what makes content ids stable: datetimes become UTC with milliseconds,
 * language tags lower case, -0 becomes 0.
 */
import { canonicalJson } from './canonical.ts'
import { INVALID_INPUT, LIMIT_EXCEEDED } from './errors.ts'
import { LIMITS } from './limits.ts'
import type { Json, JsonObject, Term, TripleContent } from './model.ts'

const utf8Length = (s: string): number => Buffer.byteLength(s, 'utf8')

/**
 * Whether validateString takes `value` as it is, without counting its bytes: a string, non-empty
 * unless `allowEmpty`, well-formed, short enough to be within `maxBytes` in any encoding (a UTF-16
 * unit is at most 3 bytes of UTF-8, a pair of them 4). A hot path checks this first and builds
 * the name of the field only for the strings it does not take (every string of every record
 * received is checked).
 */
export function fitsString (value: unknown, maxBytes: number, allowEmpty = false): value is string {
  return typeof value === 'string' && (allowEmpty || value.length > 0) && value.length * 3 <= maxBytes && value.isWellFormed()
}

/** A non-empty, well-formed (no lone surrogates) string of at most `maxBytes` UTF-8 bytes. */
export function validateString (value: unknown, field: string, maxBytes: number, allowEmpty = false): string {
  if (typeof value !== 'string') throw INVALID_INPUT(field, `must be a string (got ${describe(value)})`)
  if (!allowEmpty && value.length === 0) throw INVALID_INPUT(field, 'must not be empty')
  if (!value.isWellFormed()) throw INVALID_INPUT(field, 'must be well-formed Unicode (contains a lone surrogate)')
  // a UTF-16 unit is at most 3 bytes of UTF-8 (a pair of them 4): a string that short is within
  // the limit without counting its bytes (fitsString)
  if (value.length * 3 <= maxBytes) return value
  const n = utf8Length(value)
  if (n > maxBytes) throw INVALID_INPUT(field, `is ${n} bytes long; at most ${maxBytes} UTF-8 bytes are allowed`)
  return value
}

/** Checks a JSON value (depth, finiteness, well-formed strings) and returns its canonical size. */
export function validateJson (value: unknown, field: string, maxBytes: number): number {
  checkJsonShape(value, field, 0)
  const n = utf8Length(canonicalJson(value as Json, field))
  if (n > maxBytes) throw INVALID_INPUT(field, `is ${n} bytes as canonical JSON; at most ${maxBytes} are allowed`)
  return n
}

/**
 * Object keys no JSON value may hold: "__proto__", which a JavaScript object takes as its
 * prototype and msgpack decoders (msgpackr) rename to "__proto_" — and that renamed form too, so
 * that the renaming can never make two nodes hold different values.
 */
export const MANGLED_KEYS: ReadonlySet<string> = new Set(['__proto__', '__proto_'])

function checkJsonShape (v: unknown, field: string, depth: number): void {
  if (depth > LIMITS.jsonDepth) throw INVALID_INPUT(field, `nests deeper than ${LIMITS.jsonDepth} levels`)
  switch (typeof v) {
    case 'string':
      if (!v.isWellFormed()) throw INVALID_INPUT(field, 'must be well-formed Unicode (contains a lone surrogate)')
      return
    case 'number':
      if (!Number.isFinite(v)) throw INVALID_INPUT(field, 'numbers must be finite')
      return
    case 'boolean': return
    case 'object':
      if (v === null) return
      if (Array.isArray(v)) { v.forEach((x, i) => checkJsonShape(x, `${field}[${i}]`, depth + 1)); return }
      if (Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) {
        throw INVALID_INPUT(field, 'must be a plain JSON object')
      }
      for (const [k, x] of Object.entries(v)) {
        if (!k.isWellFormed()) throw INVALID_INPUT(field, 'object keys must be well-formed Unicode')
        if (MANGLED_KEYS.has(k)) {
          throw INVALID_INPUT(`${field}.${k}`, `the object key ${JSON.stringify(k)} is not allowed: JavaScript objects treat "__proto__" ` +
            'as their prototype, and the native sync codec renames it to "__proto_", so nodes could end up holding different values; rename the key')
        }
        checkJsonShape(x, `${field}.${k}`, depth + 1)
      }
      return
    default:
      throw INVALID_INPUT(field, `is not a JSON value (got ${typeof v})`)
  }
}

export function validateJsonObject (value: unknown, field: string, maxBytes: number): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw INVALID_INPUT(field, `must be a JSON object (got ${describe(value)})`)
  }
  validateJson(value, field, maxBytes)
  return value as JsonObject
}

const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-](\d{2}):(\d{2}))$/
/**
 * ISO-8601 date-time with a zone → `YYYY-MM-DDTHH:mm:ss.sssZ` (sub-millisecond digits dropped).
 * The date must exist in the calendar (no 02-30, no hour 24) and, once converted to UTC, fall in
 * the years 0000–9999, so that the normalized value is itself an accepted input.
 */
export function normalizeDatetime (value: unknown, field: string): string {
  const m = typeof value === 'string' ? ISO_DATETIME.exec(value) : null
  if (m === null) {
    throw INVALID_INPUT(field, 'must be an ISO-8601 date-time with a zone, e.g. "2026-11-20T09:30:00Z"')
  }
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number]
  const second = Number(m[6] ?? '0')
  const daysInMonth = [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0
  if (day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59 ||
      Number(m[9] ?? '0') > 23 || Number(m[10] ?? '0') > 59) {
    throw INVALID_INPUT(field, `is not a valid date-time: ${value as string}`)
  }
  const frac = (m[7] ?? '').padEnd(3, '0').slice(0, 3)
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}.${frac}${m[8]}`)
  if (!Number.isFinite(ms)) throw INVALID_INPUT(field, `is not a valid date-time: ${value as string}`)
  const out = new Date(ms).toISOString()
  if (out.length !== 24) throw INVALID_INPUT(field, `is outside the years 0000–9999 once converted to UTC: ${value as string}`)
  return out
}

const isLeapYear = (y: number): boolean => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0

const LANG_TAG = /^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$/
export function normalizeLang (value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > LIMITS.langTagChars || !LANG_TAG.test(value)) {
    throw INVALID_INPUT(field, 'must be a BCP 47 language tag such as "en" or "pt-BR"')
  }
  return value.toLowerCase()
}

/**
 * A triple object from its JSON form. Accepted shapes (the first five are what the Cortex API
 * takes, so existing clients work unchanged):
 *   "text" | 42 | true | {"node": "user:bob"} | {"datetime": "2026-11-20T09:30:00Z"}
 *   | {"text": "bonjour", "lang": "fr"} | {"json": <any JSON>}
 *   | {"kind": "<node|string|lang|number|boolean|datetime|json>", "value": …, "lang"?: …}
 */
export function parseTerm (input: unknown, field = 'object'): Term {
  return plainTerm(input) ?? parseTermAt(input, field)
}

/**
 * The term of a string, number, boolean or `{"node": …}` that parseTerm takes as it is (a
 * string short enough to be within its limit: fitsString), else undefined: parseTerm asks this
 * first and names the field only for the rest (every triple received is parsed here).
 */
export function plainTerm (input: unknown): Term | undefined {
  switch (typeof input) {
    case 'string': return fitsString(input, LIMITS.literalBytes, true) ? { kind: 'string', value: input } : undefined
    case 'number': return Number.isFinite(input) ? { kind: 'number', value: Object.is(input, -0) ? 0 : input } : undefined
    case 'boolean': return { kind: 'boolean', value: input }
    case 'object': {
      if (input === null || Array.isArray(input) || 'kind' in input) return undefined
      const keys = Object.keys(input)
      if (keys.length !== 1 || keys[0] !== 'node') return undefined
      const node = (input as { node: unknown }).node
      return fitsString(node, LIMITS.literalBytes) ? { kind: 'node', value: node } : undefined
    }
    default: return undefined
  }
}

function parseTermAt (input: unknown, field: string): Term {
  switch (typeof input) {
    case 'string': return { kind: 'string', value: validateString(input, field, LIMITS.literalBytes, true) }
    case 'number':
      if (!Number.isFinite(input)) throw INVALID_INPUT(field, 'numbers must be finite')
      return { kind: 'number', value: Object.is(input, -0) ? 0 : input }
    case 'boolean': return { kind: 'boolean', value: input }
    case 'object': break
    default: throw INVALID_INPUT(field, OBJECT_SHAPES)
  }
  if (input === null || Array.isArray(input)) throw INVALID_INPUT(field, OBJECT_SHAPES)
  const o = input as Record<string, unknown>
  if ('kind' in o) return parseTerm(taggedToShorthand(o, field), field)
  const keys = Object.keys(o).sort().join(',')
  switch (keys) {
    case 'node': return { kind: 'node', value: validateString(o.node, `${field}.node`, LIMITS.literalBytes) }
    case 'datetime': return { kind: 'datetime', value: normalizeDatetime(o.datetime, `${field}.datetime`) }
    case 'lang,text': return {
      kind: 'lang',
      value: validateString(o.text, `${field}.text`, LIMITS.literalBytes, true),
      lang: normalizeLang(o.lang, `${field}.lang`)
    }
    case 'json':
      validateJson(o.json, `${field}.json`, LIMITS.jsonLiteralBytes)
      return { kind: 'json', value: o.json as Json }
    default: throw INVALID_INPUT(field, OBJECT_SHAPES)
  }
}

const OBJECT_SHAPES = 'must be a string, number, boolean, {"node": …}, {"datetime": …}, ' +
  '{"text": …, "lang": …}, {"json": …} or {"kind": …, "value": …}'

function taggedToShorthand (o: Record<string, unknown>, field: string): unknown {
  switch (o.kind) {
    case 'string': case 'number': case 'boolean':
      if (typeof o.value !== o.kind) throw INVALID_INPUT(`${field}.value`, `must be a ${o.kind} when kind is "${o.kind}"`)
      return o.value
    case 'node': return { node: o.value }
    case 'datetime': return { datetime: o.value }
    case 'lang': return { text: o.value, lang: o.lang }
    case 'json': return { json: o.value }
    default: throw INVALID_INPUT(`${field}.kind`, 'must be one of node, string, lang, number, boolean, datetime, json')
  }
}

/** The JSON form of a term that parseTerm reads back to the same term. */
export function termToJson (t: Term): Json {
  switch (t.kind) {
    case 'string': case 'number': case 'boolean': return t.value
    case 'node': return { node: t.value }
    case 'datetime': return { datetime: t.value }
    case 'lang': return { text: t.value, lang: t.lang }
    case 'json': return { json: t.value }
  }
}

/** The tagged form {kind, value, lang?} used on the wire between nodes. */
export function termToTagged (t: Term): JsonObject {
  return t.kind === 'lang' ? { kind: t.kind, value: t.value, lang: t.lang } : { kind: t.kind, value: t.value }
}

export function validateTripleContent (input: unknown, field = 'triple'): TripleContent {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw INVALID_INPUT(field, 'must be an object {subject, predicate, object}')
  }
  const o = input as Record<string, unknown>
  if (!('object' in o)) throw INVALID_INPUT(`${field}.object`, 'is required')
  return {
    subject: validateString(o.subject, `${field}.subject`, LIMITS.nameBytes),
    predicate: validateString(o.predicate, `${field}.predicate`, LIMITS.nameBytes),
    object: parseTerm(o.object, `${field}.object`)
  }
}

export function checkBatchSize (n: number, what = 'batch'): void {
  if (n > LIMITS.batchRecords) throw LIMIT_EXCEEDED(`${what} size`, LIMITS.batchRecords, n)
}

function describe (v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return typeof v
}
