/**
 * Triple objects on the command line. The text of O is a string literal unless --type says
 * otherwise; --lang makes it a language-tagged string. The result is the JSON form the REST API
 * takes (docs/API.md): "vim", 42, true, {"node": …}, {"datetime": …}, {"text": …, "lang": …},
 * {"json": …}.
 */
import type { Json } from '../core/model.ts'
import { USAGE } from './exit.ts'

export const TERM_TYPES = ['node', 'string', 'number', 'boolean', 'datetime', 'json'] as const
export type TermType = typeof TERM_TYPES[number]

export function termFromText (text: string, type: string | undefined, lang: string | undefined, command: string): Json {
  const t = type ?? 'string'
  if (!(TERM_TYPES as readonly string[]).includes(t)) throw USAGE(`--type must be one of ${TERM_TYPES.join(', ')}, got ${JSON.stringify(t)}`, command)
  if (lang !== undefined && t !== 'string') throw USAGE('--lang applies to string objects only', command)
  switch (t as TermType) {
    case 'string': return lang !== undefined ? { text, lang } : text
    case 'node': return { node: text }
    case 'datetime': return { datetime: text }
    case 'number': {
      const n = Number(text)
      if (text.trim() === '' || !Number.isFinite(n)) throw USAGE(`${JSON.stringify(text)} is not a number (--type number); write a negative number after --, e.g. -- -5`, command)
      return n
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw USAGE(`${JSON.stringify(text)} is not a boolean (--type boolean): write true or false`, command)
      return text === 'true'
    case 'json':
      try {
        return { json: JSON.parse(text) as Json }
      } catch {
        throw USAGE(`${JSON.stringify(text)} is not valid JSON (--type json)`, command)
      }
  }
}

/**
 * The object as the query string of GET/DELETE /api/v1/triples carries it: plain text is a
 * string literal, text starting with "{" is a term in JSON form.
 */
export function termQueryText (text: string, type: string | undefined, lang: string | undefined, command: string): string {
  if (type === undefined && lang === undefined && !text.startsWith('{')) return text
  const term = termFromText(text, type, lang, command)
  if (typeof term === 'string') return term.startsWith('{') ? JSON.stringify({ kind: 'string', value: term }) : term
  return JSON.stringify(typeof term === 'object' ? term : { kind: typeof term, value: term })
}

/** A triple object (JSON form) for people: strings quoted, nodes bare, "text"@lang, JSON as JSON. */
export function displayTerm (o: Json): string {
  if (typeof o === 'string') return JSON.stringify(o)
  if (typeof o === 'number' || typeof o === 'boolean' || o === null) return String(o)
  if (Array.isArray(o)) return JSON.stringify(o)
  if (typeof o.node === 'string') return o.node
  if (typeof o.datetime === 'string') return o.datetime
  if (typeof o.text === 'string' && typeof o.lang === 'string') return `${JSON.stringify(o.text)}@${o.lang}`
  if ('json' in o) return JSON.stringify(o.json)
  return JSON.stringify(o)
}
