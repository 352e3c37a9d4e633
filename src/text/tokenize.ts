/**
 * Words of text, as the full-text index sees them. Pure; one rule for everything that is indexed
 * and everything that is searched for, so a query word finds exactly the records that contain it.
 *
 * - A word is a run of letters, digits, marks and private-use characters (Unicode L, N, M, Co):
 *   every other character separates words, so IRIs fall apart into their parts
 *   (`user:alice` → user, alice; `https://example.com/a_b` → https, example, com, a, b;
 *   `snake_case` → snake, case).
 * - A word whose case changes inside (`prefersEditor`, `JavaScript`, `HTTPServer`) is kept whole
 *   and followed by its parts: javascript, java, script. So "javascript", "JavaScript", "script"
 *   and the phrase "java script" all find it.
 * - Terms are lower case with the accents of Latin letters removed (`Café` → cafe).
 * - A word longer than TERM_MAX_CHARS (a hash, a base64 blob) is not a term.
 *
 * Every token carries its place in the original text (UTF-16 offsets), for highlighting.
 * The index (SQLite FTS5, store/sqlite/textIndex.ts) receives the terms joined by spaces and
 * splits only there, so its words are exactly these terms.
 */

export interface Token {
  /** The normalized term. */
  readonly term: string
  /** Offsets of the word in the original text: [start, end). */
  readonly start: number
  readonly end: number
}

/** Longest term, characters; longer words are not indexed (LIMITS.md). */
export const TERM_MAX_CHARS = 100

const WORD = /[\p{L}\p{N}\p{M}\p{Co}]+/gu
/** Where a word's case changes: before an upper-case letter that follows a lower-case letter or digit,
 *  and before the last upper-case letter of a run that a lower-case letter follows (HTTPServer → HTTP|Server). */
const CASE_BREAK = /(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u
const LATIN_ACCENTS = /[\u0300-\u036f]/g
const PLAIN = /^[a-z0-9]*$/

/** The term of a word: lower case, Latin accents removed. */
export function normalizeTerm (word: string): string {
  const lower = word.toLowerCase()
  if (PLAIN.test(lower)) return lower
  return lower.normalize('NFD').replace(LATIN_ACCENTS, '').normalize('NFC')
}

/** The tokens of `text`, in order. */
export function tokenize (text: string): Token[] {
  const out: Token[] = []
  for (const m of text.matchAll(WORD)) pushWord(out, m[0], m.index)
  return out
}

/** The terms of `text`, in order (tokenize without the offsets). */
export function terms (text: string): string[] {
  const out: string[] = []
  appendTerms(text, out)
  return out
}

const NOT_ASCII = /[\u0080-\uffff]/

/**
 * Appends the terms of `text` to `out`: what tokenize gives, without offsets, and fast for ASCII
 * text (the common case, on every write), which is scanned by character codes.
 */
export function appendTerms (text: string, out: string[]): void {
  if (NOT_ASCII.test(text)) {
    for (const t of tokenize(text)) out.push(t.term)
    return
  }
  const n = text.length
  let i = 0
  while (i < n) {
    if (kind(text.charCodeAt(i)) === 0) { i++; continue }
    const start = i
    let breaks = false
    let prev = 0
    for (; i < n; i++) {
      const k = kind(text.charCodeAt(i))
      if (k === 0) break
      // A case break (the CASE_BREAK rule): upper after lower or digit, or upper, upper, lower.
      if (k === UPPER && (prev === LOWER || prev === DIGIT)) breaks = true
      else if (k === LOWER && prev === UPPER && i - start >= 2 && kind(text.charCodeAt(i - 2)) === UPPER) breaks = true
      prev = k
    }
    if (i - start <= TERM_MAX_CHARS) out.push(text.slice(start, i).toLowerCase())
    if (breaks) appendParts(text, start, i, out)
  }
}

const LOWER = 1
const UPPER = 2
const DIGIT = 3

/** 0: not a word character; else LOWER, UPPER or DIGIT (ASCII only). */
function kind (c: number): number {
  if (c >= 97 && c <= 122) return LOWER
  if (c >= 65 && c <= 90) return UPPER
  if (c >= 48 && c <= 57) return DIGIT
  return 0
}

/** The case parts of the ASCII word text[start, end). */
function appendParts (text: string, start: number, end: number, out: string[]): void {
  let from = start
  for (let i = start + 1; i < end; i++) {
    const k = kind(text.charCodeAt(i))
    const p = kind(text.charCodeAt(i - 1))
    const cut = (k === UPPER && (p === LOWER || p === DIGIT)) ||
      (k === UPPER && p === UPPER && i + 1 < end && kind(text.charCodeAt(i + 1)) === LOWER)
    if (cut) {
      if (i - from <= TERM_MAX_CHARS) out.push(text.slice(from, i).toLowerCase())
      from = i
    }
  }
  if (end - from <= TERM_MAX_CHARS) out.push(text.slice(from, end).toLowerCase())
}

/**
 * The two readings of a text typed into a query: every camel-case word whole, and every one
 * split into its parts (the same array twice when there is none). A document holds a camel-case
 * word whole and then in parts, so between them the two readings find `prefersEditor`,
 * `preferseditor` and `prefers:editor` alike.
 */
export function readings (text: string): { readonly whole: string[], readonly parts: string[] } {
  const whole: string[] = []
  const parts: string[] = []
  for (const m of text.matchAll(WORD)) {
    const pieces = m[0].split(CASE_BREAK)
    addTerm(whole, m[0])
    for (const p of pieces) addTerm(parts, p)
  }
  return { whole, parts: sameTerms(whole, parts) ? whole : parts }
}

function addTerm (out: string[], word: string): void {
  if (word.length > TERM_MAX_CHARS) return
  const term = normalizeTerm(word)
  if (term !== '') out.push(term)
}

const sameTerms = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i])

function pushWord (out: Token[], word: string, at: number): void {
  const parts = word.split(CASE_BREAK)
  push(out, word, at)
  if (parts.length < 2) return
  let offset = at
  for (const p of parts) {
    push(out, p, offset)
    offset += p.length
  }
}

function push (out: Token[], word: string, at: number): void {
  if (word.length > TERM_MAX_CHARS) return
  const term = normalizeTerm(word)
  if (term !== '') out.push({ term, start: at, end: at + word.length })
}
