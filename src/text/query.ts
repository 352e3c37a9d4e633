/**
 * The search query language, parsed into a tree. Pure.
 *
 *   alice editor          both words (AND is implied between items)
 *   "red apple"           the phrase: the words next to each other, in this order
 *   edit*   "user ali"*   a word (or a phrase's last word) by its beginning, 2 characters at least
 *   vim OR emacs          either
 *   editor NOT vim        (or: editor -vim) the first without the second
 *   (vim OR emacs) alice  grouping
 *
 * Operators are AND, OR and NOT in capitals (lower-case "and" is a word); NOT binds tightest,
 * then AND, then OR. Words are split as the index splits them (tokenize.ts): `user:alice` is
 * the phrase "user alice"; `prefersEditor` finds preferseditor or the phrase "prefers editor".
 * A word of punctuation alone is ignored.
 *
 * A query that cannot be searched is refused with INVALID_INPUT on the field `q`, naming the
 * problem and where it is (characters count from 1): an unclosed quote or parenthesis, an
 * operator with nothing on one side, a query of exclusions only, no words at all, too many
 * words, a prefix of one character. The tree this returns always compiles to a valid FTS5
 * expression (plan.ts), so no SQLite message ever reaches a user.
 */
import { INVALID_INPUT } from '../core/errors.ts'
import { readings } from './tokenize.ts'

/** Longest query, characters (LIMITS.md). */
export const QUERY_MAX_CHARS = 1024
/** Most terms in one query (LIMITS.md). */
export const QUERY_MAX_TERMS = 32
/** Shortest prefix, characters. */
export const PREFIX_MIN_CHARS = 2

/** A word or a phrase: terms that must follow each other; with `prefix`, the last one is a beginning. */
export interface TermNode {
  readonly type: 'term'
  readonly terms: readonly string[]
  readonly prefix: boolean
  /** Written in quotes. */
  readonly quoted: boolean
}

/** Every item of `must` matches and none of `not`. */
export interface AndNode {
  readonly type: 'and'
  readonly must: readonly QueryNode[]
  readonly not: readonly QueryNode[]
  /** No AND was written: the items were only put side by side. */
  readonly implicit: boolean
}

export interface OrNode {
  readonly type: 'or'
  readonly any: readonly QueryNode[]
  /** The two readings of one camel-case word (not a choice the user wrote). */
  readonly readings?: true
}

export type QueryNode = TermNode | AndNode | OrNode

/** What NOT (or "-") applies to, while parsing: it must end up beside something to match. */
interface Negation { readonly type: 'negation', readonly inner: QueryNode }
type Item = QueryNode | Negation

type Lexeme =
  | { kind: 'word', text: string, at: number, negated: boolean }
  | { kind: 'phrase', text: string, at: number, negated: boolean, prefix: boolean }
  | { kind: 'op', op: 'AND' | 'OR' | 'NOT', at: number }
  | { kind: 'open', at: number, negated: boolean }
  | { kind: 'close', at: number }

/** Parses a query; throws INVALID_INPUT (field `q`) when it cannot be searched. */
export function parseQuery (q: string): QueryNode {
  if (q.length > QUERY_MAX_CHARS) throw bad(`is ${q.length} characters long; the most is ${QUERY_MAX_CHARS}`)
  const tree = new Parser(lex(q)).query()
  const n = countTerms(tree)
  if (n > QUERY_MAX_TERMS) throw bad(`has ${n} words; the most is ${QUERY_MAX_TERMS}`)
  return tree
}

const bad = (problem: string): Error => INVALID_INPUT('q', `the query ${problem}`)
const at = (i: number): string => `at character ${i + 1}`
const SPACE = /\s/u

function lex (q: string): Lexeme[] {
  const out: Lexeme[] = []
  let i = 0
  while (i < q.length) {
    if (SPACE.test(q[i]!)) { i++; continue }
    const start = i
    const negated = q[i] === '-' && i + 1 < q.length && !SPACE.test(q[i + 1]!)
    if (negated) i++
    const c = q[i]!
    if (c === '(') {
      out.push({ kind: 'open', at: start, negated })
      i++
    } else if (c === ')') {
      if (negated) throw bad(`has "-" ${at(start)} before ")": put it before a word, a phrase or "("`)
      out.push({ kind: 'close', at: i })
      i++
    } else if (c === '"') {
      const end = q.indexOf('"', i + 1)
      if (end < 0) throw bad(`opens a phrase with " ${at(i)} and never closes it`)
      const prefix = q[end + 1] === '*'
      out.push({ kind: 'phrase', text: q.slice(i + 1, end), at: start, negated, prefix })
      i = end + (prefix ? 2 : 1)
    } else {
      let j = i
      while (j < q.length && !SPACE.test(q[j]!) && q[j] !== '(' && q[j] !== ')' && q[j] !== '"') j++
      const text = q.slice(i, j)
      if (!negated && (text === 'AND' || text === 'OR' || text === 'NOT')) out.push({ kind: 'op', op: text, at: start })
      else out.push({ kind: 'word', text, at: start, negated })
      i = j
    }
  }
  return out
}

/**
 * The node of a word or phrase: its terms, or both readings of a camel-case word (OR); undefined
 * when it has no terms. A prefix applies to the last term of each reading.
 */
function termNode (text: string, pos: number, prefixAsked: boolean, quoted: boolean): QueryNode | undefined {
  let body = text
  let prefix = prefixAsked
  if (!quoted && /\*+$/u.test(body)) {
    body = body.replace(/\*+$/u, '')
    prefix = true
  }
  const { whole, parts } = readings(body)
  if (whole.length === 0) return undefined
  const forms = (whole === parts ? [whole] : [whole, parts])
    .filter(terms => !prefix || terms[terms.length - 1]!.length >= PREFIX_MIN_CHARS)
  if (forms.length === 0) {
    throw bad(`asks for words beginning with "${parts[parts.length - 1]!}" ${at(pos)}: a prefix needs at least ${PREFIX_MIN_CHARS} characters`)
  }
  const nodes: TermNode[] = forms.map(terms => ({ type: 'term', terms, prefix, quoted }))
  return nodes.length === 1 ? nodes[0] : { type: 'or', any: nodes, readings: true }
}

class Parser {
  private i = 0
  private readonly lx: readonly Lexeme[]

  constructor (lx: readonly Lexeme[]) { this.lx = lx }

  query (): QueryNode {
    const item = this.or()
    const next = this.lx[this.i]
    // Only a stray ")" ends the top level early.
    if (next !== undefined) throw bad(`has ")" ${at(next.at)} that closes nothing`)
    if (item === undefined) throw bad('has no words to search for (letters or digits)')
    if (item.type === 'negation') throw onlyExclusions()
    return item
  }

  private peek (): Lexeme | undefined { return this.lx[this.i] }

  private or (): Item | undefined {
    const items: Item[] = []
    const first = this.and()
    if (first !== undefined) items.push(first)
    while (true) {
      const p = this.peek()
      if (p?.kind !== 'op' || p.op !== 'OR') break
      this.i++
      const next = this.and()
      if (items.length === 0 || next === undefined) {
        throw bad(`has OR ${at(p.at)} without something to search for on ${items.length === 0 ? 'its left' : 'its right'}`)
      }
      items.push(next)
    }
    if (items.length <= 1) return items[0]
    const any: QueryNode[] = []
    for (const it of items) {
      if (it.type === 'negation') throw bad('has an exclusion (NOT or -) as a choice of OR: exclude from something, e.g. "editor NOT vim"')
      any.push(it)
    }
    return { type: 'or', any }
  }

  private and (): Item | undefined {
    const must: QueryNode[] = []
    const not: QueryNode[] = []
    let pendingAnd: Lexeme | undefined
    let implicit = true
    while (true) {
      const p = this.peek()
      if (p === undefined || p.kind === 'close' || (p.kind === 'op' && p.op === 'OR')) break
      if (p.kind === 'op' && p.op === 'AND') {
        if (pendingAnd !== undefined) throw bad(`has AND ${at(p.at)} right after another AND`)
        if (must.length === 0 && not.length === 0) throw bad(`has AND ${at(p.at)} without something to search for on its left`)
        pendingAnd = p
        implicit = false
        this.i++
        continue
      }
      const item = this.unary()
      if (item === undefined) continue
      pendingAnd = undefined
      if (item.type === 'negation') not.push(item.inner)
      else must.push(item)
    }
    if (pendingAnd !== undefined) throw bad(`has AND ${at(pendingAnd.at)} without something to search for on its right`)
    if (must.length === 0) {
      if (not.length === 0) return undefined
      return { type: 'negation', inner: not.length === 1 ? not[0]! : { type: 'or', any: not } }
    }
    return must.length === 1 && not.length === 0 ? must[0] : { type: 'and', must, not, implicit }
  }

  /** An item, possibly negated, or undefined for a word without terms. */
  private unary (): Item | undefined {
    const p = this.peek()!
    if (p.kind === 'op' && p.op === 'NOT') {
      this.i++
      const next = this.peek()
      if (next === undefined || next.kind === 'close' || (next.kind === 'op' && next.op !== 'NOT')) {
        throw bad(`has NOT ${at(p.at)} without something to exclude after it`)
      }
      const inner = this.unary()
      return inner === undefined ? undefined : negate(inner)
    }
    const item = this.primary()
    if (item === undefined) return undefined
    return p.kind !== 'close' && p.kind !== 'op' && p.negated ? negate(item) : item
  }

  private primary (): Item | undefined {
    const p = this.peek()!
    this.i++
    switch (p.kind) {
      case 'word': return termNode(p.text, p.at, false, false)
      case 'phrase': {
        const t = termNode(p.text, p.at, p.prefix, true)
        if (t === undefined) throw bad(`has a phrase ${at(p.at)} without words`)
        return t
      }
      case 'open': {
        const inner = this.or()
        if (this.peek()?.kind !== 'close') throw bad(`opens "(" ${at(p.at)} and never closes it`)
        this.i++
        if (inner === undefined) throw bad(`has parentheses ${at(p.at)} with nothing to search for inside`)
        return inner
      }
      case 'close': throw bad(`has ")" ${at(p.at)} that closes nothing`)
      case 'op': throw bad(`has ${p.op} ${at(p.at)} where a word was expected`)
    }
  }
}

/** NOT of a negation is what it negated. */
function negate (n: Item): Item {
  return n.type === 'negation' ? n.inner : { type: 'negation', inner: n }
}

function onlyExclusions (): Error {
  return bad('only excludes (NOT or -): add a word to search for, e.g. "editor NOT vim"')
}

function countTerms (n: QueryNode): number {
  switch (n.type) {
    case 'term': return n.terms.length
    case 'and': return [...n.must, ...n.not].reduce((s, x) => s + countTerms(x), 0)
    // Two readings of one word count once.
    case 'or': return n.readings === true ? countTerms(n.any[0]!) : n.any.reduce((s, x) => s + countTerms(x), 0)
  }
}

/**
 * A query of the words of a plain text, for callers that take free text rather than this
 * language (the MCP memory server's search_nodes): operators and quotes lose their meaning, every
 * word is searched for by its beginning (2 characters at least). Undefined when the text has no
 * words. The words are side by side, so the query finds records holding all of them, and Recall
 * adds those holding some when too few do.
 */
export function plainWordsQuery (text: string): string | undefined {
  const words: string[] = []
  for (const chunk of text.split(/\s+/u)) {
    const w = chunk.replace(/["()*]/gu, ' ').replace(/^-+/u, '').trim()
    if (w === '') continue
    for (const part of w.split(/\s+/u)) {
      const { whole } = readings(part)
      if (whole.length === 0) continue
      const lone = part === 'AND' || part === 'OR' || part === 'NOT' ? part.toLowerCase() : part
      words.push(whole[whole.length - 1]!.length >= PREFIX_MIN_CHARS ? `${lone}*` : lone)
    }
  }
  if (words.length === 0) return undefined
  return words.slice(0, QUERY_MAX_TERMS / 2).join(' ')
}
