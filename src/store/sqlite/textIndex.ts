/**
 * The full-text index in the store's file: an FTS5 table written in the same transaction as the
 * records it indexes (the writer calls `added` and `removed` for every state change), and the
 * search over it.
 *
 * Layout (migration 2):
 * - `text_index`: FTS5, contentless (it holds the index, not the text: the records are the text)
 *   with deletes by rowid, and detail=none: it keeps which words a record holds, not where, which
 *   makes it half the size and writes a third cheaper; phrases are checked on the candidates
 *   (text/plan.ts). One column, `text`: the record's namespace token and terms joined by spaces
 *   (text/document.ts). The text is tokenized already (text/tokenize.ts: lower case, words
 *   separated by single spaces), so FTS5's simplest tokenizer, `ascii` (which splits at ASCII
 *   punctuation and spaces only, and keeps "_" inside tokens here), gives back exactly the terms
 *   and the namespace tokens, and costs less than `unicode61` on every write.
 *   rowid = seq · 4 + kind (triple 0, note 1, episode 2, trace 3): a record's state changes move
 *   it to a new seq, so its old row is deleted and a new one added; rowids grow with seq, as FTS5
 *   writes fastest.
 * - `text_index_state`: one row: the rules' version the index was built with, the records and
 *   terms it holds (for ranking), a counter of index changes (for the document-frequency cache),
 *   and the range of the feed the index is behind in, (done, upto]: a rebuild's, extended by the
 *   pages of a far-behind catch-up written with their indexing deferred (ApplyOptions.deferText).
 * - `text_index_kept` (migration 8): the stretches inside that range whose records were indexed
 *   as they were written. Which records the index holds is store/textPending.ts's rule: a live
 *   record at seq s is in it exactly when nothing is pending, or s > upto, or s ≤ done, or s lies
 *   in a kept stretch.
 *
 * Search: FTS5 finds the records matching the query's index expression, newest first, at most
 * `candidates` (+1 to know there are more); they are read (triples as their text only), those the
 * query matches exactly are kept (text/plan.ts matches), ranked by text/rank.ts, and the hits read
 * whole. Document frequencies are counted with FTS5 (estimated from their newest records for
 * common words in a large index, DF_ESTIMATE_FROM) and cached: a count is used again until the
 * index changed by more than 1 % of it, which moves an idf by less than 1 %.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { STORE_CORRUPT, STORE_UNAVAILABLE } from '../../core/errors.ts'
import type { Seq } from '../../core/ids.ts'
import { isTombstone, namespaceOf, type MemoryRecord, type RecordKind } from '../../core/model.ts'
import { documentOf, documentOfFields, DOCUMENT_VERSION, indexEntry, indexEntryOf, namespaceToken, tripleFields, type SearchDocument } from '../../text/document.ts'
import { ftsExpression, matches, scoringPhrases } from '../../text/plan.ts'
import { rank, type CorpusStats } from '../../text/rank.ts'
import { checkTextQuery } from '../checks.ts'
import type { TextIndexState, TextQuery, TextSearchResult } from '../textSearch.ts'
import { deferAt, doneTo, extendsByOne, isIndexed, pendingAll, type SeqRange, type TextPending } from '../textPending.ts'
import type { Reader } from './reader.ts'
import { decodeTerm } from './rows.ts'

/** The FTS5 table's columns and options (also used by tests that check expressions against FTS5). */
export const FTS_OPTIONS = "text, content='', contentless_delete=1, detail=none, tokenize=\"ascii tokenchars '_'\""

export const TEXT_INDEX_SQL = `
  CREATE VIRTUAL TABLE text_index USING fts5(${FTS_OPTIONS});
  CREATE TABLE text_index_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    docs INTEGER NOT NULL,
    terms INTEGER NOT NULL,
    changes INTEGER NOT NULL,
    upto INTEGER NOT NULL,
    done INTEGER NOT NULL
  ) STRICT;
  INSERT INTO text_index_state VALUES (1, 0, 0, 0, 0, 0, 0);
`

/** Migration 8: the kept stretches of a pending range (store/textPending.ts). */
export const TEXT_KEPT_SQL = `
  CREATE TABLE text_index_kept (
    lo INTEGER PRIMARY KEY,
    hi INTEGER NOT NULL
  ) STRICT;
`

/** The version a store opened with the index off leaves behind: the next open rebuilds. */
const OFF_VERSION = -1

const KIND_CODE: Readonly<Record<RecordKind, number>> = { triple: 0, note: 1, episode: 2, trace: 3 }
const CODE_KIND: readonly RecordKind[] = ['triple', 'note', 'episode', 'trace']
const rowidOf = (seq: number, kind: RecordKind): number => seq * 4 + KIND_CODE[kind]

interface TextState {
  version: number
  docs: number
  terms: number
  changes: number
  upto: number
  done: number
  /** The kept stretches of the pending range (read when one is pending). */
  kept: readonly SeqRange[]
}

/** Most cached document frequencies; the cache starts over when full. */
const DF_CACHE_MAX = 10_000
/**
 * Counting the records that hold a word walks its whole posting list: 25 ms of CPU for a word in
 * 600,000 of 1,000,000 records. From DF_ESTIMATE_FROM records on, the newest DF_SAMPLE records
 * holding it are found instead (a walk of DF_SAMPLE entries from the newest end): when there are
 * fewer, that is the count; otherwise the count is estimated from the span of feed positions they
 * cover (DF_SAMPLE × records indexed / records in the span, taking records as evenly spread over
 * the feed). A span longer than DF_SPAN_MAX means a rare word, which is counted. The estimate's
 * sampling error is about 1/√DF_SAMPLE (7 %), which moves an idf by less than 0.1.
 */
const DF_ESTIMATE_FROM = 50_000
const DF_SAMPLE = 200
const DF_SPAN_MAX = 50_000

export class SqliteTextIndex {
  /** False when the store was opened without the index (a benchmark's baseline). */
  readonly enabled: boolean
  private readonly db: DatabaseSync
  private readonly candidates: number
  private readonly insert: StatementSync
  private readonly remove: StatementSync
  private readonly selectState: StatementSync
  private readonly updateState: StatementSync
  private readonly countMatches: StatementSync
  private readonly newestMatches: StatementSync
  private readonly selectKept: StatementSync
  private readonly clearKept: StatementSync
  private readonly insertKept: StatementSync
  private readonly liveTriples: StatementSync
  /** The state while a write transaction runs (begin … end). */
  private st: TextState | undefined
  private dirty = false
  /** The write transaction's live records are not indexed now (ApplyOptions.deferText). */
  private deferring = false
  /** The kept stretches changed in this transaction: written back with the state. */
  private keptChanged = false
  private readonly dfCache = new Map<string, { df: number, changes: number }>()

  constructor (db: DatabaseSync, opts: { enabled: boolean, candidates: number }) {
    this.db = db
    this.enabled = opts.enabled
    this.candidates = opts.candidates
    this.insert = db.prepare('INSERT INTO text_index (rowid, text) VALUES (?, ?)')
    this.remove = db.prepare('DELETE FROM text_index WHERE rowid = ?')
    this.selectState = db.prepare('SELECT version, docs, terms, changes, upto, done FROM text_index_state WHERE id = 1')
    this.updateState = db.prepare('UPDATE text_index_state SET version = ?, docs = ?, terms = ?, changes = ?, upto = ?, done = ? WHERE id = 1')
    this.countMatches = db.prepare('SELECT count(*) AS n FROM text_index WHERE text_index MATCH ?')
    this.newestMatches = db.prepare(`SELECT rowid FROM text_index WHERE text_index MATCH ? ORDER BY rowid DESC LIMIT ${DF_SAMPLE}`)
    this.selectKept = db.prepare('SELECT lo, hi FROM text_index_kept ORDER BY lo')
    this.clearKept = db.prepare('DELETE FROM text_index_kept')
    this.insertKept = db.prepare('INSERT INTO text_index_kept (lo, hi) VALUES (?, ?)')
    this.liveTriples = db.prepare('SELECT seq, subject, predicate, okind, ovalue, olang FROM triples WHERE seq > ? AND seq <= ? AND deleted = 0')
  }

  private read (): TextState {
    const row = this.selectState.get() as unknown as Omit<TextState, 'kept'>
    return { ...row, kept: row.upto === 0 ? [] : this.selectKept.all() as unknown as SeqRange[] }
  }

  // ---- writes: called by the writer inside its transaction ----

  /** At the start of a write transaction; `defer`: its live records are left pending (ApplyOptions.deferText). */
  begin (defer = false): void {
    this.st = undefined
    this.dirty = false
    this.keptChanged = false
    this.deferring = defer && this.enabled
  }

  private state (): TextState {
    this.st ??= this.read()
    return this.st
  }

  /** A live record was written at `seq`. */
  added (seq: number, r: MemoryRecord): void {
    if (!this.enabled) return
    const s = this.state()
    if (this.deferring) {
      // the common case: the range grows by one, in place (deferAt's range, no object made per record)
      if (extendsByOne(s, seq)) {
        s.upto = seq
        this.dirty = true
      } else {
        this.pend(s, deferAt(s, seq))
      }
      return
    }
    this.index(s, seq, r.kind, indexEntry(r))
  }

  private index (s: TextState, seq: number, kind: RecordKind, entry: { readonly text: string, readonly terms: number }): void {
    this.insert.run(rowidOf(seq, kind), entry.text)
    s.docs++
    s.terms += entry.terms
    s.changes++
    this.dirty = true
  }

  /** The live record at `seq` left that seq (it changed, or became a tombstone). */
  removed (seq: number, r: MemoryRecord): void {
    if (!this.enabled) return
    const s = this.state()
    if (!isIndexed(s, seq)) return // pending: not indexed yet
    this.remove.run(rowidOf(seq, r.kind))
    s.docs--
    s.terms -= indexEntry(r).terms
    s.changes++
    this.dirty = true
  }

  /** Before the write transaction commits. */
  end (): void {
    if (this.dirty && this.st !== undefined) this.save(this.st)
    this.st = undefined
    this.dirty = false
    this.deferring = false
  }

  /** The pending range moves to `p` (textPending.ts). */
  private pend (s: TextState, p: TextPending): void {
    // stretches are only added or dropped, never changed
    if (p.kept.length !== s.kept.length) this.keptChanged = true
    s.done = p.done
    s.upto = p.upto
    s.kept = p.kept
    this.dirty = true
  }

  private save (s: TextState): void {
    this.updateState.run(s.version, s.docs, s.terms, s.changes, s.upto, s.done)
    if (!this.keptChanged) return
    this.clearKept.run()
    for (const r of s.kept) this.insertKept.run(r.lo, r.hi)
    this.keptChanged = false
  }

  // ---- rebuilding: each call runs inside a write transaction ----

  /** At open (in a transaction): an index built by other rules, or left behind with the index off, is rebuilt. */
  check (lastSeq: number): void {
    const s = this.read()
    if (!this.enabled) {
      if (s.version !== OFF_VERSION) this.save({ ...s, version: OFF_VERSION })
      return
    }
    if (s.version !== DOCUMENT_VERSION) this.restart(lastSeq)
  }

  /** Empties the index; a rebuild then indexes every record up to `lastSeq`. */
  restart (lastSeq: number): TextIndexState {
    this.requireEnabled()
    const s = this.read()
    this.db.exec("INSERT INTO text_index (text_index) VALUES ('delete-all')")
    // Every record removed counts as a change (cached document frequencies are out of date).
    const next: TextState = { version: DOCUMENT_VERSION, docs: 0, terms: 0, changes: s.changes + s.docs + 1, ...pendingAll(lastSeq) }
    this.keptChanged = true
    this.save(next)
    return view(next)
  }

  /**
   * Indexes the live records at the next `limit` feed positions after `done`: triples read as
   * their text only (most records, and what costs a rebuild most to read whole), the other kinds
   * by `live` (their records at seqs in (from, to]).
   */
  step (limit: number, live: (kind: Exclude<RecordKind, 'triple'>, from: number, to: number) => ReadonlyArray<readonly [number, MemoryRecord]>): TextIndexState {
    this.requireEnabled()
    this.begin()
    const s = this.state()
    if (s.upto === 0) return view(s)
    const from = s.done
    const to = Math.min(s.upto, from + limit)
    // a record in a kept stretch was indexed when it was written
    for (const r of this.liveTriples.all(from, to) as unknown as TripleText[]) {
      if (isIndexed(s, r.seq)) continue
      this.index(s, r.seq, 'triple', indexEntryOf(namespaceOf(r.subject), tripleFields(r.subject, r.predicate, decodeTerm(r.okind, r.ovalue, r.olang))))
    }
    for (const kind of ['note', 'episode', 'trace'] as const) {
      for (const [seq, record] of live(kind, from, to)) if (!isTombstone(record) && !isIndexed(s, seq)) this.index(s, seq, kind, indexEntry(record))
    }
    this.pend(s, doneTo(s, to))
    this.save(s)
    this.st = undefined
    return view(s)
  }

  // ---- reads ----

  status (): TextIndexState {
    return view(this.read())
  }

  /** Runs inside a read transaction (Reader.read). */
  search (q: TextQuery, reader: Reader): TextSearchResult {
    checkTextQuery(q)
    this.requireEnabled()
    const s = this.read()
    const kinds = q.kinds !== undefined && q.kinds.length > 0 && q.kinds.length < 4 ? q.kinds : undefined
    const kindFilter = kinds === undefined ? '' : ` AND (rowid & 3) IN (${kinds.map(k => KIND_CODE[k]).join(', ')})`
    const expr = ftsExpression(q.query, q.namespace !== undefined ? namespaceToken(q.namespace) : undefined)
    const rows = reader.statement(`SELECT rowid FROM text_index WHERE text_index MATCH ?${kindFilter} ORDER BY rowid DESC LIMIT ?`)
      .all(expr, this.candidates + 1) as { rowid: number }[]
    const truncated = rows.length > this.candidates
    if (truncated) rows.length = this.candidates
    const byKind = new Map<RecordKind, number[]>()
    for (const { rowid } of rows) {
      const kind = CODE_KIND[rowid % 4]!
      let seqs = byKind.get(kind)
      if (seqs === undefined) byKind.set(kind, seqs = [])
      seqs.push(Math.floor(rowid / 4))
    }
    // Triples (most candidates) are read as their text only; the hits are read whole after ranking.
    const found = new Map<number, { doc: SearchDocument, record?: MemoryRecord }>()
    for (const [kind, seqs] of byKind) {
      if (kind === 'triple') {
        for (const r of reader.statement(TRIPLE_TEXT).all(JSON.stringify(seqs)) as unknown as TripleText[]) {
          found.set(r.seq, { doc: documentOfFields('triple', namespaceOf(r.subject), tripleFields(r.subject, r.predicate, decodeTerm(r.okind, r.ovalue, r.olang))) })
        }
      } else {
        for (const [seq, record] of reader.bySeqs(kind, seqs)) found.set(seq, { doc: documentOf(record), record })
      }
    }
    const candidates = rows.map(({ rowid }) => {
      const seq = Math.floor(rowid / 4) as Seq
      const f = found.get(seq)
      if (f === undefined || f.doc.kind !== CODE_KIND[rowid % 4]) throw missing(CODE_KIND[rowid % 4]!, seq)
      return { seq, ...f }
    }).filter(c => matches(q.query, c.doc.terms))
    const lastSeq = (reader.statement('SELECT last_seq AS n FROM state WHERE id = 1').get() as { n: number }).n
    const ranked = rank(candidates, scoringPhrases(q.query), this.stats(s, lastSeq), q.limit)
    const triples = reader.bySeqs('triple', ranked.filter(h => h.record === undefined).map(h => h.seq))
    const hits = ranked.map(h => {
      const record = h.record ?? triples.get(h.seq)
      if (record === undefined) throw missing('triple', h.seq)
      return { seq: h.seq, record, doc: h.doc, score: h.score }
    })
    return { hits, candidates: rows.length, truncated, partial: s.upto !== 0 }
  }

  private stats (s: TextState, lastSeq: number): CorpusStats {
    return {
      docs: s.docs,
      terms: s.terms,
      df: (term, prefix) => this.df(term, prefix, s, lastSeq)
    }
  }

  private df (term: string, prefix: boolean, s: TextState, lastSeq: number): number {
    const key = (prefix ? '*' : ' ') + term
    const hit = this.dfCache.get(key)
    if (hit !== undefined && fresh(hit.df, hit.changes, s.changes)) return hit.df
    const expr = ftsExpression({ type: 'term', terms: [term], prefix, quoted: true })
    let df: number | undefined
    if (s.docs >= DF_ESTIMATE_FROM && s.upto === 0) {
      const newest = this.newestMatches.all(expr) as { rowid: number }[]
      if (newest.length < DF_SAMPLE) df = newest.length
      else {
        const span = lastSeq - Math.floor(newest[DF_SAMPLE - 1]!.rowid / 4) + 1
        if (span <= DF_SPAN_MAX) df = Math.min(s.docs, Math.round(DF_SAMPLE * lastSeq / span))
      }
    }
    df ??= (this.countMatches.get(expr) as { n: number }).n
    if (this.dfCache.size >= DF_CACHE_MAX) this.dfCache.clear()
    this.dfCache.set(key, { df, changes: s.changes })
    return df
  }

  private requireEnabled (): void {
    if (!this.enabled) throw STORE_UNAVAILABLE('this store was opened without its text index (textIndex: false); full-text search is off')
  }
}

/** What a triple candidate is read as: the parts its document is made of. */
const TRIPLE_TEXT = 'SELECT seq, subject, predicate, okind, ovalue, olang FROM triples WHERE seq IN (SELECT value FROM json_each(?))'
interface TripleText { seq: number, subject: string, predicate: string, okind: number, ovalue: string | number, olang: string | null }

const missing = (kind: RecordKind, seq: number): Error =>
  STORE_CORRUPT(`the text index holds a ${kind} at seq ${seq} that the store does not; rebuild the index (engram reindex)`, { kind, seq })

/** Whether a count made at `then` (index changes) still holds at `now`: fewer changes since than 1 % of it. */
const fresh = (count: number, then: number, now: number): boolean => now >= then && now - then <= Math.floor(count / 100)

const view = (s: TextState): TextIndexState => ({ docs: s.docs, rebuilding: s.upto !== 0, done: s.done, upto: s.upto })
