/**
 * What a parsed query (query.ts) means for an index. Pure.
 *
 * - `ftsExpression`: what the index is asked: an FTS5 expression matching every record the query
 *   matches, and maybe more. The index keeps which words each record holds, not where
 *   (detail=none: half the size and a third less work per write), so a phrase is asked as all of
 *   its words, and an exclusion of anything but one word is left out; `matches` then keeps exactly
 *   the records the query matches (the candidates are tokenized for ranking anyway). Every word is
 *   quoted and every group in parentheses, so FTS5's own precedence never matters.
 * - `matchesIndex` / `matches`: the same two over a document's terms, for the in-memory index
 *   (which so finds the same candidates) and for the final check.
 * - `scoringPhrases`: what ranking counts (rank.ts): every term or phrase the query asks for
 *   (not those it excludes), and, for words written side by side, the pair as a phrase, so
 *   records holding the words together rank above records holding them apart.
 * - `loosen`: the query "any of these words" for a query that was only words side by side.
 *
 * Term occurrences: a phrase occurs where its terms follow each other in the document; a prefix
 * term matches every term that starts with it.
 */
import type { QueryNode, TermNode } from './query.ts'

/** A phrase that ranking counts; `pair` marks the side-by-side bonus of two words. */
export interface ScoringPhrase {
  readonly terms: readonly string[]
  readonly prefix: boolean
  readonly pair: boolean
}

const quote = (term: string): string => `"${term.replaceAll('"', '""')}"`

/** A term node's words for the index: each quoted, the last a prefix when the node is one. */
function termExpression (t: TermNode): string {
  const words = t.terms.map((w, i) => quote(w) + (t.prefix && i === t.terms.length - 1 ? '*' : ''))
  return words.length === 1 ? words[0]! : `(${words.join(' AND ')})`
}

/** An exclusion the index can apply exactly: one word (or one prefix). */
const exactlyIndexable = (n: QueryNode): n is TermNode => n.type === 'term' && n.terms.length === 1

/** The index expression of a node (a superset of its matches). */
export function nodeExpression (n: QueryNode): string {
  switch (n.type) {
    case 'term': return termExpression(n)
    case 'or': return `(${n.any.map(nodeExpression).join(' OR ')})`
    case 'and': {
      const must = n.must.length === 1 ? nodeExpression(n.must[0]!) : `(${n.must.map(nodeExpression).join(' AND ')})`
      return n.not.filter(exactlyIndexable).reduce((acc, x) => `(${acc} NOT ${termExpression(x)})`, must)
    }
  }
}

/** The MATCH expression: the query's index expression, within one namespace when given (its token, document.ts). */
export function ftsExpression (n: QueryNode, namespaceToken?: string): string {
  const e = nodeExpression(n)
  return namespaceToken === undefined ? e : `${quote(namespaceToken)} AND ${e}`
}

/** Whether a document's terms match the query's index expression (the superset ftsExpression asks). */
export function matchesIndex (n: QueryNode, doc: readonly string[]): boolean {
  switch (n.type) {
    case 'term': return n.terms.every((t, i) => doc.some(d => (n.prefix && i === n.terms.length - 1 ? d.startsWith(t) : d === t)))
    case 'or': return n.any.some(x => matchesIndex(x, doc))
    case 'and': return n.must.every(x => matchesIndex(x, doc)) && !n.not.some(x => exactlyIndexable(x) && matchesIndex(x, doc))
  }
}

/** Whether a term node (or phrase) occurs in a sequence of terms starting at position `i`. */
export function occursAt (t: { readonly terms: readonly string[], readonly prefix: boolean }, doc: readonly string[], i: number): boolean {
  const n = t.terms.length
  if (i + n > doc.length) return false
  for (let k = 0; k < n; k++) {
    const want = t.terms[k]!
    const have = doc[i + k]!
    if (k === n - 1 && t.prefix ? !have.startsWith(want) : have !== want) return false
  }
  return true
}

function occurs (t: TermNode, doc: readonly string[]): boolean {
  for (let i = 0; i < doc.length; i++) if (occursAt(t, doc, i)) return true
  return false
}

/** Whether a document's terms match the query. */
export function matches (n: QueryNode, doc: readonly string[]): boolean {
  switch (n.type) {
    case 'term': return occurs(n, doc)
    case 'or': return n.any.some(x => matches(x, doc))
    case 'and': return n.must.every(x => matches(x, doc)) && !n.not.some(x => matches(x, doc))
  }
}

/** What ranking counts: the positive terms and phrases, then the side-by-side pairs. */
export function scoringPhrases (n: QueryNode): ScoringPhrase[] {
  const out: ScoringPhrase[] = []
  const seen = new Set<string>()
  const add = (terms: readonly string[], prefix: boolean, pair: boolean): void => {
    const key = `${pair ? 'p' : 't'}${prefix ? '*' : ''}:${terms.join(' ')}`
    if (seen.has(key)) return
    seen.add(key)
    out.push({ terms, prefix, pair })
  }
  const walk = (x: QueryNode): void => {
    switch (x.type) {
      case 'term': add(x.terms, x.prefix, false); return
      case 'or': x.any.forEach(walk); return
      case 'and': {
        x.must.forEach(walk)
        // Neighbouring plain items written side by side: the pair of their terms.
        if (x.implicit) for (let i = 0; i + 1 < x.must.length; i++) {
          const a = plainTerms(x.must[i]!)
          const b = plainTerms(x.must[i + 1]!)
          if (a !== undefined && b !== undefined) add([...a, ...b], false, true)
        }
      }
    }
  }
  walk(n)
  return out
}

/** The terms of an unquoted, non-prefix word (its first reading), else undefined. */
function plainTerms (n: QueryNode): readonly string[] | undefined {
  const t = n.type === 'or' && n.readings === true ? n.any[0]! : n
  return t.type === 'term' && !t.quoted && !t.prefix ? t.terms : undefined
}

/** Words so common in questions that "any of these words" leaves them out (when others remain). */
const STOPWORDS = new Set(('a an and are as at be but by can did do does for from had has have how i if in into is it its ' +
  'me my no not of on or our she so than that the their them then there these they this to was we were what when where ' +
  'which who whom why will with would you your').split(' '))

/**
 * For a query of items side by side with no operator (`what editor does alice use`): the query
 * matching any of its items, without common question words when others remain. Undefined for
 * any other query (one word, or one with an operator, a phrase or an exclusion in it).
 */
export function loosen (n: QueryNode): QueryNode | undefined {
  if (n.type !== 'and' || !n.implicit || n.not.length > 0) return undefined
  if (n.must.some(x => wordTerms(x) === undefined)) return undefined
  const content = n.must.filter(x => { const t = wordTerms(x)!; return t.length !== 1 || !STOPWORDS.has(t[0]!) })
  const any = content.length > 0 ? content : n.must
  return any.length === 1 ? any[0] : { type: 'or', any }
}

/** The terms of an unquoted word, a prefix or not (its first reading), else undefined. */
function wordTerms (n: QueryNode): readonly string[] | undefined {
  const t = n.type === 'or' && n.readings === true ? n.any[0]! : n
  return t.type === 'term' && !t.quoted ? t.terms : undefined
}
