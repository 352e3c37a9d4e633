/**
 * Store benchmark. Everything is measured in one run, on files in a fresh temporary directory
 * (removed afterwards), with the store's own connection settings:
 *
 * - raw_insert_rows_per_s: the baseline. node:sqlite, the store's schema, one prepared INSERT,
 *   one transaction per 10,000 rows. Rows (ids hashed, values encoded) are prepared outside the
 *   timed part, so the baseline is the cost of SQLite alone.
 * - engram_insert_triples_per_s: Engine.addTriples over SqliteStore, batches of 10,000 distinct
 *   triples given as plain input objects: validation, content ids, stamps, merge and the write,
 *   all timed. Input generation is not.
 * - insert_ratio: engram / raw.
 * - engram_reassert_triples_per_s: the same batches added again: every triple is present, and
 *   each add asserts it again (a new stamp, a feed entry); reassert_ratio: that / first insert.
 * - get_triple_p50_us / _p99_us: getTriple of 10,000 random ids.
 * - query_sp_* / query_po_*: pattern queries (subject+predicate, predicate+object), 2,000 each.
 * - changes_page_5000_*: changesSince pages of 5,000 from random positions.
 * - peak_rss_mb: the process's peak resident set.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { tripleId } from '../src/core/canonical.ts'
import { asNodeId, type TripleId } from '../src/core/ids.ts'
import type { Term, TripleContent } from '../src/core/model.ts'
import { Engine } from '../src/engine/Engine.ts'
import { configure, migrate } from '../src/store/sqlite/schema.ts'
import { SqliteStore } from '../src/store/sqlite/SqliteStore.ts'
import { TERM_TAG, termLang, termValue } from '../src/store/sqlite/rows.ts'
import { mulberry32 as random } from '../src/util/random.ts'
import { percentile } from './stats.ts'

const BATCH = 10_000
const NODE = asNodeId('bench-node')

/** Input `i`: 8 triples per subject, 16 namespaces, 24 predicates, objects of several kinds. */
export function benchInput (i: number): { subject: string, predicate: string, object: unknown } {
  const k = Math.floor(i / 8)
  const subject = `ns${k % 16}:entity${k}`
  const predicate = `rel${(i % 8) + 8 * (k % 3)}`
  switch (i % 10) {
    case 0: case 1: return { subject, predicate, object: { node: `ns${(k * 7) % 16}:entity${(k * 13) % 100_003}` } }
    case 2: return { subject, predicate, object: i }
    case 3: return { subject, predicate, object: i % 3 === 0 }
    default: return { subject, predicate, object: `value ${i} of ${subject}` }
  }
}

/** The validated content of input `i` (what the engine makes of it). */
function contentOf (i: number): TripleContent {
  const x = benchInput(i)
  const o = x.object
  const object: Term = typeof o === 'string'
    ? { kind: 'string', value: o }
    : typeof o === 'number'
      ? { kind: 'number', value: o }
      : typeof o === 'boolean' ? { kind: 'boolean', value: o } : { kind: 'node', value: (o as { node: string }).node }
  return { subject: x.subject, predicate: x.predicate, object }
}

const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6

/** Times each call of `fn` (in µs) and returns p50 and p99. */
function latencies (n: number, prepare: (i: number) => () => unknown): { p50: number, p99: number } {
  const calls = Array.from({ length: n }, (_, i) => prepare(i))
  const out: number[] = new Array<number>(n)
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint()
    calls[i]!()
    out[i] = Number(process.hrtime.bigint() - t0) / 1e3
  }
  out.sort((a, b) => a - b)
  return { p50: round(percentile(out, 0.5)), p99: round(percentile(out, 0.99)) }
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits

/** The baseline: rows per second of plain INSERTs into the store's schema (see the opening comment). */
export function rawInsert (file: string, rows: number): number {
  const db = new DatabaseSync(file)
  configure(db, file)
  migrate(db, file)
  db.prepare('INSERT INTO nodes (name) VALUES (?)').run(NODE)
  const insert = db.prepare(`INSERT INTO triples (seq, hlc_wall, hlc_counter, origin, via, id, deleted, subject, predicate, okind, ovalue, olang)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  const wall = Date.now()
  let timed = 0
  for (let start = 0; start < rows; start += BATCH) {
    const n = Math.min(BATCH, rows - start)
    const batch = Array.from({ length: n }, (_, j) => {
      const c = contentOf(start + j)
      return [Buffer.from(tripleId(c), 'hex'), c.subject, c.predicate, TERM_TAG[c.object.kind], termValue(c.object), termLang(c.object)] as const
    })
    const t0 = process.hrtime.bigint()
    db.exec('BEGIN IMMEDIATE')
    for (let j = 0; j < n; j++) {
      const r = batch[j]!
      insert.run(start + j + 1, wall, j, 1, null, r[0], 0, r[1], r[2], r[3], r[4], r[5])
    }
    db.exec('COMMIT')
    timed += ms(t0)
  }
  db.close()
  return rows / (timed / 1000)
}

function engramInsert (engine: Engine, rows: number): number {
  let timed = 0
  for (let start = 0; start < rows; start += BATCH) {
    const n = Math.min(BATCH, rows - start)
    const inputs = Array.from({ length: n }, (_, j) => benchInput(start + j))
    const t0 = process.hrtime.bigint()
    engine.addTriples(inputs)
    timed += ms(t0)
  }
  return rows / (timed / 1000)
}

export async function benchStore (opts: { rows: number }): Promise<Record<string, number>> {
  const rows = opts.rows
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-'))
  try {
    const raw = rawInsert(join(dir, 'raw.db'), rows)
    const store = SqliteStore.open(join(dir, 'engram.db'))
    try {
      const engine = new Engine({ store, node: NODE, maxDriftMs: 60_000 })
      const engram = engramInsert(engine, rows)
      const reassert = engramInsert(engine, rows)
      if (store.stats().triples !== rows) throw new Error(`expected ${rows} triples, the store has ${store.stats().triples}`)
      if (store.stats().lastSeq !== 2 * rows) throw new Error(`expected every add to write a feed entry (${2 * rows}), the feed is at ${store.stats().lastSeq}`)
      const rnd = random(42)
      const pickI = (): number => Math.floor(rnd() * rows)
      const get = latencies(10_000, () => {
        const id = tripleId(contentOf(pickI())) as TripleId
        return () => { if (store.getTriple(id) === undefined) throw new Error('missing triple') }
      })
      const page = { limit: 100, offset: 0 }
      const sp = latencies(2_000, () => {
        const c = contentOf(pickI())
        return () => store.queryTriples({ subject: c.subject, predicate: c.predicate }, page)
      })
      const po = latencies(2_000, () => {
        let i = pickI()
        i -= i % 10 // inputs ≡ 0 (mod 10) have node objects
        const c = contentOf(i)
        return () => { if (store.queryTriples({ predicate: c.predicate, object: c.object }, page).total === 0) throw new Error('no match') }
      })
      const last = store.stats().lastSeq
      const feed = latencies(50, () => {
        const after = Math.floor(rnd() * Math.max(1, last - 5_000))
        return () => { if (store.changesSince(after, { limit: 5_000 }).entries.length !== Math.min(5_000, last - after)) throw new Error('short page') }
      })
      return {
        rows,
        raw_insert_rows_per_s: Math.round(raw),
        engram_insert_triples_per_s: Math.round(engram),
        insert_ratio: round(engram / raw, 3),
        engram_reassert_triples_per_s: Math.round(reassert),
        reassert_ratio: round(reassert / engram, 3),
        get_triple_p50_us: get.p50,
        get_triple_p99_us: get.p99,
        query_sp_p50_us: sp.p50,
        query_sp_p99_us: sp.p99,
        query_po_p50_us: po.p50,
        query_po_p99_us: po.p99,
        changes_page_5000_p50_ms: round(feed.p50 / 1000, 2),
        changes_page_5000_p99_ms: round(feed.p99 / 1000, 2),
        peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024)
      }
    } finally {
      store.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
