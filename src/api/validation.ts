/**
 * Schema validation glue: readable messages from JSON-schema errors, and integer query
 * parameters.
 *
 * Validation does not coerce types (a number sent where a string is required is an error, not
 * silently turned into text), so query-string integers (`limit`, `offset`) are converted here,
 * before validation, and only when they are written as plain decimal integers; anything else
 * reaches the validator unchanged and is reported.
 */
import type { FastifyRequest } from 'fastify'

/** The parts of an Ajv error this module reads (Ajv runs with `verbose`, so data and parentSchema are present). */
export interface AjvErrorLike {
  readonly keyword: string
  readonly instancePath: string
  readonly params: Record<string, unknown>
  readonly message?: string
  readonly data?: unknown
  readonly parentSchema?: { readonly description?: string, readonly properties?: Record<string, unknown> }
}

export interface FormattedValidation {
  /** `field: problem`, the same form as core INVALID_INPUT messages. */
  readonly message: string
  readonly details: { field: string, in: string, rule: string }
}

/** `/triples/3/subject` → `triples[3].subject`. */
export function pointerToField (pointer: string): string {
  let out = ''
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    out += /^\d+$/.test(seg) ? `[${seg}]` : out === '' ? seg : `.${seg}`
  }
  return out
}

const join = (base: string, prop: string): string => (base === '' ? prop : `${base}.${prop}`)

function describe (v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'nothing'
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'object' ? 'an object' : typeof v
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string', integer: 'an integer', number: 'a number', boolean: 'a boolean', object: 'an object', array: 'an array', null: 'null'
}

/** Turns the first schema error of a request part (body, querystring, params) into a field-naming message. */
export function formatValidationError (e: AjvErrorLike, part: string): FormattedValidation {
  const location = part === 'querystring' ? 'query' : part
  const at = pointerToField(e.instancePath)
  let field = at === '' ? location : at
  let problem: string
  const p = e.params
  switch (e.keyword) {
    case 'required':
      field = join(at, String(p.missingProperty))
      problem = 'is required'
      break
    case 'additionalProperties': {
      field = join(at, String(p.additionalProperty))
      const known = Object.keys(e.parentSchema?.properties ?? {})
      problem = `is not a known field${known.length > 0 ? ` (allowed: ${known.join(', ')})` : ''}`
      break
    }
    case 'type': {
      const want = String(p.type).split(',').map(t => TYPE_WORDS[t] ?? t).join(' or ')
      if (part === 'querystring' && Array.isArray(e.data)) problem = 'must be given only once'
      else if (at === '' && part === 'body' && e.data === undefined) problem = 'is required: send a JSON object with content-type: application/json'
      else if (part === 'querystring' && p.type === 'integer') problem = `must be an integer (got ${JSON.stringify(e.data)})`
      else problem = `must be ${want} (got ${describe(e.data)})`
      break
    }
    case 'minimum': problem = `must be at least ${String(p.limit)}`; break
    case 'maximum': problem = `must be at most ${String(p.limit)}`; break
    case 'minLength': problem = p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long`; break
    case 'maxLength': problem = `must be at most ${String(p.limit)} characters long`; break
    case 'minItems': problem = `must have at least ${String(p.limit)} item(s)`; break
    case 'maxItems': problem = `must have at most ${String(p.limit)} items`; break
    case 'enum': problem = `must be one of ${(p.allowedValues as unknown[]).map(v => JSON.stringify(v)).join(', ')}`; break
    case 'pattern':
      problem = e.parentSchema?.description !== undefined ? `must be ${e.parentSchema.description}` : `must match ${String(p.pattern)}`
      break
    default:
      problem = e.message ?? 'is invalid'
  }
  return { message: `${field}: ${problem}`, details: { field, in: location, rule: e.keyword } }
}

const DECIMAL_INTEGER = /^-?\d{1,15}$/

interface PropertySchema { readonly type?: unknown }

/**
 * preValidation hook: converts query parameters that the route's schema declares as integers
 * from their decimal text to numbers.
 */
export async function coerceIntegerQuery (request: FastifyRequest): Promise<void> {
  const schema = request.routeOptions.schema?.querystring as { properties?: Record<string, PropertySchema> } | undefined
  const props = schema?.properties
  const query = request.query as Record<string, unknown> | undefined
  if (props === undefined || query === undefined || query === null) return
  for (const [name, s] of Object.entries(props)) {
    const v = query[name]
    if (s.type === 'integer' && typeof v === 'string' && DECIMAL_INTEGER.test(v)) query[name] = Number(v)
  }
}
