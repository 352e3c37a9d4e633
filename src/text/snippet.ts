/**
 * Snippets: the part of a hit's text that shows why it matched, with the matching words marked.
 * Pure.
 *
 * The field shown is the one with the most words of the query (the body on a tie, then the first
 * field); the snippet is the window of at most SNIPPET_MAX_CHARS characters around its densest run
 * of matches, cut at word boundaries, with "…" where text was left out. `highlights` are the
 * [start, end) offsets of the matching words in the snippet's text (UTF-16 code units).
 */
import type { SearchDocument } from './document.ts'
import type { ScoringPhrase } from './plan.ts'
import { tokenize, type Token } from './tokenize.ts'

export const SNIPPET_MAX_CHARS = 200

export interface Snippet {
  /** The field the text is from (subject, object, value, data, …). */
  readonly field: string
  readonly text: string
  readonly highlights: ReadonlyArray<readonly [number, number]>
}

/** The words of the query a token may match: each term, the last term of a prefix phrase as a prefix. */
function wanted (phrases: readonly ScoringPhrase[]): { exact: Set<string>, prefixes: string[] } {
  const exact = new Set<string>()
  const prefixes: string[] = []
  for (const p of phrases) {
    if (p.pair) continue
    p.terms.forEach((t, i) => {
      if (p.prefix && i === p.terms.length - 1) prefixes.push(t)
      else exact.add(t)
    })
  }
  return { exact, prefixes }
}

export function snippetOf (doc: SearchDocument, phrases: readonly ScoringPhrase[], maxChars = SNIPPET_MAX_CHARS): Snippet | undefined {
  const { exact, prefixes } = wanted(phrases)
  const hit = (t: Token): boolean => exact.has(t.term) || prefixes.some(p => t.term.startsWith(p))
  let best: { field: string, text: string, marks: Token[], body: boolean } | undefined
  for (const f of doc.fields) {
    if (f.text === '') continue
    const marks = tokenize(f.text).filter(hit)
    const body = f.role === 'body'
    if (best === undefined || marks.length > best.marks.length || (marks.length === best.marks.length && body && !best.body && marks.length > 0)) {
      best = { field: f.name, text: f.text, marks, body }
    }
  }
  if (best === undefined) return undefined
  return window(best.field, best.text, dedupe(best.marks), maxChars)
}

/** Marks sorted by start, overlapping ones (a camel-case word and its parts) merged. */
function dedupe (marks: readonly Token[]): Array<[number, number]> {
  const spans = marks.map(m => [m.start, m.end] as [number, number]).sort((a, b) => a[0] - b[0] || b[1] - a[1])
  const out: Array<[number, number]> = []
  for (const s of spans) {
    const last = out[out.length - 1]
    if (last !== undefined && s[0] < last[1]) last[1] = Math.max(last[1], s[1])
    else out.push([s[0], s[1]])
  }
  return out
}

function window (field: string, text: string, marks: ReadonlyArray<readonly [number, number]>, maxChars: number): Snippet {
  if (text.length <= maxChars) return { field, text, highlights: marks.map(([a, b]) => [a, b] as const) }
  // The window holding the most marks, starting at a mark.
  let from = 0
  let bestCount = 0
  for (let i = 0; i < marks.length; i++) {
    let n = 0
    for (let j = i; j < marks.length && marks[j]![1] - marks[i]![0] <= maxChars; j++) n++
    if (n > bestCount) { bestCount = n; from = marks[i]![0] }
  }
  // Some context before the first mark, then cut at word boundaries.
  let start = Math.max(0, Math.min(from - Math.floor(maxChars / 4), text.length - maxChars))
  let end = Math.min(text.length, start + maxChars)
  start = wordStart(text, start)
  end = wordEnd(text, end, start)
  while (start < end && isSpace(text[start])) start++
  while (end > start && isSpace(text[end - 1])) end--
  const lead = start > 0 ? '…' : ''
  const tail = end < text.length ? '…' : ''
  const highlights = marks
    .filter(([a, b]) => a >= start && b <= end)
    .map(([a, b]) => [a - start + lead.length, b - start + lead.length] as const)
  return { field, text: lead + text.slice(start, end) + tail, highlights }
}

const isSpace = (c: string | undefined): boolean => c === undefined || /\s/u.test(c)

function wordStart (text: string, i: number): number {
  if (i === 0 || isSpace(text[i - 1])) return i
  let j = i
  while (j < text.length && !isSpace(text[j])) j++
  return j < text.length ? j : i
}

function wordEnd (text: string, i: number, start: number): number {
  if (i >= text.length || isSpace(text[i])) return i
  let j = i
  while (j > start && !isSpace(text[j - 1])) j--
  return j > start ? j : i
}

/** The snippet's text on one line, each highlighted word between `open` and `close`. */
export function markSnippet (s: Snippet, open: string, close: string): string {
  let out = ''
  let at = 0
  for (const [a, b] of s.highlights) {
    out += `${s.text.slice(at, a)}${open}${s.text.slice(a, b)}${close}`
    at = b
  }
  return (out + s.text.slice(at)).replace(/\s+/g, ' ')
}
