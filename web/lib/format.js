/**
 * How the dashboard writes numbers, sizes, durations, times and triple objects. Pure.
 */

const nf = new Intl.NumberFormat('en')

/** @param {number | undefined | null} n */
export const num = (n) => (n === undefined || n === null || !Number.isFinite(n) ? '–' : nf.format(Math.round(n)))

/** @param {number | undefined | null} n */
export function bytes (n) {
  if (n === undefined || n === null || !Number.isFinite(n)) return '–'
  if (n < 1024) return `${n} B`
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`
  return `${(n / 1024 ** 3).toFixed(2)} GiB`
}

/** A duration in seconds, short: 0.4 s, 12 s, 3 min 5 s, 2 h 10 min. @param {number} s */
export function duration (s) {
  if (!Number.isFinite(s) || s < 0) return '–'
  if (s < 10) return `${s.toFixed(1)} s`
  if (s < 60) return `${Math.round(s)} s`
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`
}

/**
 * How long ago an ISO time was, from `now` (ms): "just now", "12 s ago", "5 min ago".
 * @param {string | null | undefined} iso
 * @param {number} now
 */
export function ago (iso, now) {
  if (iso === null || iso === undefined) return 'never'
  const t = Date.parse(iso)
  if (!Number.isFinite(t)) return '–'
  const s = (now - t) / 1000
  if (s < 2) return 'just now'
  return `${duration(s)} ago`
}

/** A node id shortened for tables: 12D3KooW…a1b2c3. @param {string | null | undefined} id */
export const shortId = (id) => (id === null || id === undefined ? '?' : id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id)

/**
 * A triple object (its JSON form, docs/API.md) as text, with its kind:
 * "vim" → {text: 'vim', kind: 'string'}, {node: 'kg:Bob'} → {text: 'kg:Bob', kind: 'node'}.
 * @param {unknown} o
 * @returns {{ text: string, kind: string }}
 */
export function term (o) {
  if (typeof o === 'string') return { text: o, kind: 'string' }
  if (typeof o === 'number') return { text: String(o), kind: 'number' }
  if (typeof o === 'boolean') return { text: String(o), kind: 'boolean' }
  if (o !== null && typeof o === 'object') {
    const r = /** @type {Record<string, unknown>} */ (o)
    if (typeof r.node === 'string') return { text: r.node, kind: 'node' }
    if (typeof r.datetime === 'string') return { text: r.datetime, kind: 'datetime' }
    if (typeof r.text === 'string' && typeof r.lang === 'string') return { text: `${r.text}@${r.lang}`, kind: 'lang' }
    if ('json' in r) return { text: JSON.stringify(r.json), kind: 'json' }
  }
  return { text: JSON.stringify(o), kind: 'json' }
}

/**
 * A triple object in its tagged form ({kind, value, lang?}, as conflicts carry records) as text.
 * @param {any} o
 */
export function taggedText (o) {
  if (o === null || typeof o !== 'object' || typeof o.kind !== 'string') return jsonText(o)
  if (o.kind === 'lang') return `${o.value}@${o.lang}`
  if (o.kind === 'json') return JSON.stringify(o.value)
  return String(o.value)
}

/** A triple as one line: subject, predicate, object as JSON. @param {{ subject: string, predicate: string, object: unknown }} t */
export const tripleText = (t) => `${t.subject}  ${t.predicate}  ${JSON.stringify(t.object)}`

/** A JSON value as text for a table cell, cut to `max` characters. @param {unknown} v @param {number} [max] */
export function jsonText (v, max = 200) {
  const s = typeof v === 'string' ? v : JSON.stringify(v)
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}
