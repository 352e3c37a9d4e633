/**
 * The pure rules of full-text search: tokens, the query language (every malformed query gets an
 * INVALID_INPUT naming the problem, never anything else), the FTS5 expressions it compiles to,
 * matching, scoring phrases and BM25. A property test feeds random strings to the parser and
 * checks that each one either parses into a tree whose FTS5 expression SQLite accepts, or is
 * refused with INVALID_INPUT on `q`.
 */
import assert from 'node:assert/strict'
import { DatabaseSync } from 'node:sqlite'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { isEngramError } from '../../src/core/errors.ts'
import { documentOf, jsonText, namespaceToken } from '../../src/text/document.ts'
import { FTS_OPTIONS } from '../../src/store/sqlite/textIndex.ts'
import { ftsExpression, loosen, matches, matchesIndex, scoringPhrases } from '../../src/text/plan.ts'
import { parseQuery, QUERY_MAX_CHARS } from '../../src/text/query.ts'
import { idf, rank, score, type Candidate } from '../../src/text/rank.ts'
import { markSnippet, snippetOf } from '../../src/text/snippet.ts'
import { readings, terms, tokenize } from '../../src/text/tokenize.ts'
import { makeTriple } from '../../src/core/records.ts'
import { asNodeId, type Seq } from '../../src/core/ids.ts'
import type { TripleRecord } from '../../src/core/model.ts'
import { assertProperty, seedFor } from './arbitraries.ts'

describe('tokenize', () => {
  it('splits IRIs, punctuation, snake_case; keeps a camel-case word whole, then its parts', () => {
    assert.deepEqual(terms('user:alice'), ['user', 'alice'])
    assert.deepEqual(terms('https://example.com/a_b?q=1'), ['https', 'example', 'com', 'a', 'b', 'q', '1'])
    assert.deepEqual(terms('prefersEditor'), ['preferseditor', 'prefers', 'editor'])
    assert.deepEqual(terms('HTTPServer ipv6'), ['httpserver', 'http', 'server', 'ipv6'])
    assert.deepEqual(terms('Zoë CAFÉ naïve'), ['zoe', 'cafe', 'naive'])
    assert.deepEqual(terms('日本語 テキスト'), ['日本語', 'テキスト'])
    assert.deepEqual(terms('— … ::'), [])
    assert.deepEqual(terms('x'.repeat(101) + ' ok'), ['ok'])
  })

  it('gives each token its place in the original text', () => {
    const text = 'See prefersEditor: Café'
    assert.deepEqual(tokenize(text).map(t => text.slice(t.start, t.end)), ['See', 'prefersEditor', 'prefers', 'Editor', 'Café'])
  })

  it('the fast path for ASCII text gives exactly the terms of tokenize (seed 1920)', () => {
    const chars = fc.constantFrom(...'aZ9 _:-.bQxHTTPServerprefersEditor/é\u0301'.split(''))
    assertProperty(fc.property(fc.array(chars, { maxLength: 30 }).map(a => a.join('')), text => {
      assert.deepEqual(terms(text), tokenize(text).map(t => t.term))
    }), seedFor(1920), 20_000)
  })

  it('reads a query word both ways when its case changes inside', () => {
    assert.deepEqual(readings('prefersEditor'), { whole: ['preferseditor'], parts: ['prefers', 'editor'] })
    const plain = readings('user:alice')
    assert.equal(plain.whole, plain.parts)
  })
})

describe('documents', () => {
  it('index the fields of each kind; JSON as its strings, numbers, booleans and keys', () => {
    assert.equal(jsonText({ a: [1, true, null, 'x'], b: { c: 'd' } }), 'a\n1\ntrue\nx\nb\nc\nd')
    const t = makeTriple({ subject: 'user:alice', predicate: 'age', object: { kind: 'number', value: 42 } }, { wall: 1, counter: 0, node: asNodeId('n') })
    const d = documentOf(t)
    assert.deepEqual(d.terms, ['user', 'alice', 'age', '42'])
    assert.equal(d.namespace, 'user')
    assert.deepEqual(d.fields.map(f => [f.name, f.role]), [['subject', 'name'], ['predicate', 'name'], ['object', 'body']])
    assert.equal(namespaceToken('kg'), '_n6b67')
    assert.equal(namespaceToken(''), '_n')
  })
})

describe('the query language', () => {
  const fts = (q: string): string => ftsExpression(parseQuery(q))
  it('compiles to a fully parenthesized FTS5 expression of words: phrases as all their words, exclusions of one word', () => {
    assert.equal(fts('alice'), '"alice"')
    assert.equal(fts('alice editor'), '("alice" AND "editor")')
    assert.equal(fts('user:alice'), '("user" AND "alice")')
    assert.equal(fts('"red apple"'), '("red" AND "apple")')
    assert.equal(fts('edit*'), '"edit"*')
    assert.equal(fts('"user ali"*'), '("user" AND "ali"*)')
    assert.equal(fts('vim OR emacs alice'), '("vim" OR ("emacs" AND "alice"))')
    assert.equal(fts('editor NOT vim -emacs'), '(("editor" NOT "vim") NOT "emacs")')
    assert.equal(fts('-(vim OR nano) editor'), '"editor"', 'an exclusion of more than one word is checked on the candidates')
    assert.equal(fts('editor -"red apple"'), '"editor"')
    assert.equal(fts('prefersEditor'), '("preferseditor" OR ("prefers" AND "editor"))')
    assert.equal(fts('prefersEd*'), '("prefersed"* OR ("prefers" AND "ed"*))')
    assert.equal(fts('and or not'), '("and" AND "or" AND "not")')
    assert.equal(fts('NOT NOT vim'), '"vim"')
    assert.equal(fts('alice ::: bob'), '("alice" AND "bob")')
    assert.equal(ftsExpression(parseQuery('x'), namespaceToken('kg')), '"_n6b67" AND "x"')
  })

  it('refuses what cannot be searched, naming the problem and where it is', () => {
    const refused: Array<[string, RegExp]> = [
      ['', /no words to search for/],
      ['  ::: -- ', /no words to search for/],
      ['"red apple', /opens a phrase with " at character 1 and never closes it/],
      ['(vim OR emacs', /opens "\(" at character 1 and never closes it/],
      ['vim)', /has "\)" at character 4 that closes nothing/],
      ['OR vim', /OR at character 1 without something to search for on its left/],
      ['vim OR', /OR at character 5 without something to search for on its right/],
      ['vim AND', /AND at character 5 without something to search for on its right/],
      ['AND vim', /AND at character 1 without something to search for on its left/],
      ['vim AND AND emacs', /AND at character 9 right after another AND/],
      ['vim NOT', /NOT at character 5 without something to exclude after it/],
      ['NOT vim', /only excludes/],
      ['-vim -emacs', /only excludes/],
      ['vim OR -emacs', /exclusion \(NOT or -\) as a choice of OR/],
      ['()', /parentheses at character 1 with nothing to search for inside/],
      ['""', /phrase at character 1 without words/],
      ['a*', /beginning with "a" at character 1: a prefix needs at least 2 characters/],
      ['x '.repeat(33), /has 33 words; the most is 32/],
      ['x'.repeat(QUERY_MAX_CHARS + 1), /is 1025 characters long; the most is 1024/]
    ]
    for (const [q, message] of refused) {
      assert.throws(() => parseQuery(q), (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT' && e.details?.field === 'q' && message.test(e.message), JSON.stringify(q))
    }
  })

  it('any string either parses into an expression SQLite accepts, or is refused with INVALID_INPUT on q (seed 1919)', () => {
    const db = new DatabaseSync(':memory:')
    db.exec(`CREATE VIRTUAL TABLE t USING fts5(${FTS_OPTIONS})`)
    db.exec("INSERT INTO t (rowid, text) VALUES (1, '_n alice and bob')")
    const match = db.prepare('SELECT rowid FROM t WHERE t MATCH ?')
    const alphabet = fc.constantFrom('a', 'b', 'é', 'Z', '1', ' ', ' ', '"', '(', ')', '*', '-', ':', '_', 'AND ', 'OR ', 'NOT ', '日', '\u0301', '\uE000')
    assertProperty(fc.property(fc.array(alphabet, { maxLength: 24 }).map(a => a.join('')), fc.string({ maxLength: 12 }), (q, noise) => {
      for (const text of [q, q + noise]) {
        let tree
        try {
          tree = parseQuery(text)
        } catch (e) {
          assert.ok(isEngramError(e) && e.code === 'INVALID_INPUT' && e.details?.field === 'q', `unexpected error for ${JSON.stringify(text)}: ${String(e)}`)
          continue
        }
        match.all(ftsExpression(tree))
        match.all(ftsExpression(tree, namespaceToken(noise)))
      }
    }), seedFor(1919), 5000)
    db.close()
  })
})

describe('the index expression and FTS5 agree', () => {
  it('FTS5 finds exactly the documents matchesIndex finds, and those include every document the query matches (seed 1921)', () => {
    const db = new DatabaseSync(':memory:')
    db.exec(`CREATE VIRTUAL TABLE t USING fts5(${FTS_OPTIONS})`)
    const insert = db.prepare('INSERT INTO t (rowid, text) VALUES (?, ?)')
    const words = ['ab', 'abc', 'b', 'ca', 'cab', 'd']
    const docs = Array.from({ length: 60 }, (_, i) => Array.from({ length: 1 + (i * 7) % 5 }, (_, j) => words[(i * 3 + j * 5 + (i >> 2)) % words.length]!))
    docs.forEach((d, i) => insert.run(i + 1, indexTextOf(d)))
    const select = db.prepare('SELECT rowid FROM t WHERE t MATCH ? ORDER BY rowid')
    const wordArb = fc.constantFrom(...words, 'ab*', 'ca*', '"ab b"', '"b ca"*', 'zz')
    const queryArb = fc.array(fc.tuple(fc.constantFrom('', '-', 'NOT ', 'OR '), wordArb), { minLength: 1, maxLength: 4 })
      .map(parts => parts.map(([op, w], i) => (i === 0 ? w : `${op}${w}`)).join(' '))
    assertProperty(fc.property(queryArb, q => {
      let tree
      try { tree = parseQuery(q) } catch { return }
      const fromFts = (select.all(ftsExpression(tree)) as { rowid: number }[]).map(r => r.rowid)
      const fromJs = docs.flatMap((d, i) => (matchesIndex(tree, d) ? [i + 1] : []))
      assert.deepEqual(fromFts, fromJs, q)
      for (const [i, d] of docs.entries()) if (matches(tree, d)) assert.ok(matchesIndex(tree, d), `${q} matches document ${i} but its index expression does not`)
    }), seedFor(1921), 3000)
    db.close()
  })
})

/** What the index holds for a document of these terms (in the empty namespace). */
const indexTextOf = (terms: readonly string[]): string => ['_n', ...terms].join(' ')

describe('matching and ranking', () => {
  const node = asNodeId('n')
  const doc = (object: string, subject = 'doc:x'): Candidate & { record: TripleRecord } => {
    const record = makeTriple({ subject, predicate: 'text', object: { kind: 'string', value: object } }, { wall: 1, counter: 0, node })
    return { seq: 1 as Seq, record, doc: documentOf(record) }
  }

  it('matches documents as FTS5 would with positions: phrases in order, prefixes, exclusions; the index expression matches more', () => {
    const d = doc('the red apple tree').doc.terms
    assert.equal(matchesIndex(parseQuery('"apple red"'), d), true, 'both words are there')
    assert.equal(matchesIndex(parseQuery('apple -"red apple"'), d), true, 'a phrase is not excluded by the index')
    assert.equal(matches(parseQuery('apple -"red apple"'), d), false)
    assert.equal(matchesIndex(parseQuery('apple -tree'), d), false, 'one word is')
    assert.equal(matches(parseQuery('"red apple"'), d), true)
    assert.equal(matches(parseQuery('"apple red"'), d), false)
    assert.equal(matches(parseQuery('app* -pear'), d), true)
    assert.equal(matches(parseQuery('apple -tree'), d), false)
    assert.equal(matches(parseQuery('pear OR tree'), d), true)
  })

  it('scores side-by-side words as a phrase too, and a rarer word higher', () => {
    assert.deepEqual(scoringPhrases(parseQuery('red apple')).map(p => [p.terms.join(' '), p.pair]), [['red', false], ['apple', false], ['red apple', true]])
    assert.deepEqual(scoringPhrases(parseQuery('red AND apple')).map(p => p.pair), [false, false], 'no pair for an explicit AND')
    const stats = { docs: 100, terms: 600, df: (t: string) => (t === 'rare' ? 1 : 50) }
    assert.ok(idf(1, 100) > idf(50, 100))
    const ranked = rank([doc('common words here'), doc('rare words here')], scoringPhrases(parseQuery('common OR rare')), stats, 10)
    assert.equal((ranked[0]!.record as { object: { value: string } }).object.value, 'rare words here')
    const phrases = scoringPhrases(parseQuery('red apple'))
    const together = score(doc('a red apple here').doc, phrases, [1, 1, 2], 5)
    const apart = score(doc('a red here apple').doc, phrases, [1, 1, 2], 5)
    assert.ok(together > apart)
  })

  it('loosens a query of words side by side to any of them, without question words', () => {
    assert.equal(ftsExpression(loosen(parseQuery('what editor does alice use'))!), '("editor" OR "alice" OR "use")')
    assert.equal(ftsExpression(loosen(parseQuery('the what'))!), '("the" OR "what")')
    assert.equal(loosen(parseQuery('alice AND bob')), undefined)
    assert.equal(loosen(parseQuery('"red apple" pie')), undefined)
    assert.equal(loosen(parseQuery('alice -bob')), undefined)
    assert.equal(loosen(parseQuery('alice')), undefined)
  })
})

describe('snippets', () => {
  const node = asNodeId('n')
  const docOf = (subject: string, object: string) => documentOf(makeTriple({ subject, predicate: 'says', object: { kind: 'string', value: object } }, { wall: 1, counter: 0, node }))

  it('show the field with the most query words, the words highlighted', () => {
    const s = snippetOf(docOf('user:alice', 'she prefers the Vim editor'), scoringPhrases(parseQuery('alice vim editor')))!
    assert.equal(s.field, 'object')
    assert.equal(markSnippet(s, '[', ']'), 'she prefers the [Vim] [editor]')
    const name = snippetOf(docOf('user:alice', 'nothing here'), scoringPhrases(parseQuery('alice')))!
    assert.equal(name.field, 'subject')
    assert.equal(markSnippet(name, '<', '>'), 'user:<alice>')
    const prefix = snippetOf(docOf('x:y', 'JavaScript and javelins'), scoringPhrases(parseQuery('jav*')))!
    assert.equal(markSnippet(prefix, '[', ']'), '[JavaScript] and [javelins]')
  })

  it('cut a long text around the densest run of matches, at word boundaries', () => {
    const filler = (n: number, w: string): string => Array.from({ length: n }, () => w).join(' ')
    const text = `${filler(60, 'lorem')} the red apple fell near another red apple ${filler(60, 'ipsum')}`
    const s = snippetOf(docOf('x:y', text), scoringPhrases(parseQuery('red apple')), 80)!
    assert.ok(s.text.startsWith('…') && s.text.endsWith('…'), s.text)
    assert.ok(s.text.length <= 82)
    assert.match(s.text, /^…(lorem|the) .* (apple|ipsum)…$/, 'cut at word boundaries')
    assert.deepEqual(s.highlights.map(([a, b]) => s.text.slice(a, b)), ['red', 'apple', 'red', 'apple'])
  })
})
