/**
 * Triple objects from what a person types: a kind (string, number, boolean, node, date-time,
 * language-tagged text, JSON) and text, turned into the JSON form the API takes (docs/API.md,
 * *Triple objects*), and into the `object` of a query string. Pure; a bad value throws an Error
 * naming what is wrong.
 */

export const OBJECT_KINDS = ['string', 'node', 'number', 'boolean', 'datetime', 'lang', 'json']

/**
 * @param {string} kind
 * @param {string} text
 * @param {string} [lang]
 * @returns {unknown}
 */
export function objectOf (kind, text, lang = '') {
  switch (kind) {
    case 'string': return text
    case 'node':
      if (text.trim() === '') throw new Error('a node needs a name, such as user:bob')
      return { node: text.trim() }
    case 'number': {
      const n = Number(text)
      if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`"${text}" is not a number`)
      return n
    }
    case 'boolean':
      if (text !== 'true' && text !== 'false') throw new Error('a boolean is true or false')
      return text === 'true'
    case 'datetime': return { datetime: text.trim() }
    case 'lang':
      if (lang.trim() === '') throw new Error('language-tagged text needs a language tag, such as fr')
      return { text, lang: lang.trim() }
    case 'json':
      try {
        return { json: JSON.parse(text) }
      } catch {
        throw new Error('not valid JSON')
      }
    default: throw new Error(`unknown kind ${kind}`)
  }
}

/**
 * The kind, text and language of an object in its JSON form (to edit it).
 * @param {unknown} o
 * @returns {{ kind: string, text: string, lang: string }}
 */
export function editableOf (o) {
  if (typeof o === 'string') return { kind: 'string', text: o, lang: '' }
  if (typeof o === 'number') return { kind: 'number', text: String(o), lang: '' }
  if (typeof o === 'boolean') return { kind: 'boolean', text: String(o), lang: '' }
  const r = /** @type {Record<string, any>} */ (o ?? {})
  if (typeof r.node === 'string') return { kind: 'node', text: r.node, lang: '' }
  if (typeof r.datetime === 'string') return { kind: 'datetime', text: r.datetime, lang: '' }
  if (typeof r.text === 'string') return { kind: 'lang', text: r.text, lang: String(r.lang ?? '') }
  return { kind: 'json', text: JSON.stringify(r.json ?? o), lang: '' }
}

/**
 * The `object` query-string value of an object in JSON form: a string as it is (unless it
 * starts with `{`), anything else as its JSON text.
 * @param {unknown} o
 */
export function objectQuery (o) {
  if (typeof o === 'string') return o.startsWith('{') ? JSON.stringify({ kind: 'string', value: o }) : o
  if (typeof o === 'number') return JSON.stringify({ kind: 'number', value: o })
  if (typeof o === 'boolean') return JSON.stringify({ kind: 'boolean', value: o })
  return JSON.stringify(o)
}
