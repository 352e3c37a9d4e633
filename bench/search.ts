/**
 * Full-text search benchmark, on the synthetic memory of bench/searchCorpus.ts (triples whose
 * objects are sentences of Zipf-distributed words), in files in a fresh temporary directory:
 *
 * - insert_*: Engine.addTriples in batches of 10,000 into a SqliteStore with its text index and
 *   into one opened without it (textIndex: false), alternated, best of two each, on
 *   min(rows, 200,000) triples; insert_ratio = with / without (goal ≥ 0.8). insert_short_* the
 *   same with the store benchmark's triples (bench/store.ts benchInput: short objects, about half
 *   as many words per triple).
 * - search_{100k,1m}_*: the store filled to 100,000 and then to --rows triples; 1,000 queries of
 *   two words that occur together in some record (drawn from the records, so common words come
 *   as often as they do in the text), each parsed and searched (Store.searchText, limit 10):
 *   p50 and p99 in ms (goal at 1,000,000: p99 ≤ 20 ms), the same in CPU time of this process (what
 *   a query costs without the time it waits for a core on a busy machine), the share of queries
 *   that matched more records than are ranked (truncated), and the mean number of candidates.
 * - recall_*: at --rows, the same queries through Recall (search/Recall.ts, text mode, limit 10:
 *   what GET /api/v1/search does without HTTP: the search, a second one for any of the words when
 *   fewer than 10 results hold all of them, grouping by entity, snippets), p50 and p99.
 * - rebuild_records_per_s: a full rebuild of the index at 100,000 records (engram reindex).
 * - index_bytes, db_bytes, index_share: the pages of the text index's tables and of the whole
 *   file at the end (dbstat), and their ratio.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { asNodeId } from '../src/core/ids.ts'
import { Engine } from '../src/engine/Engine.ts'
import { SqliteStore } from '../src/store/sqlite/SqliteStore.ts'
import { Recall } from '../src/search/Recall.ts'
import { parseQuery } from '../src/text/query.ts'
import { corpus, type Corpus } from './searchCorpus.ts'
import { benchInput } from './store.ts'
import { percentile } from './stats.ts'

const BATCH = 10_000
const NODE = asNodeId('bench-node')
const QUERIES = 1_000

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits

type Input = (i: number) => unknown

/** Adds triples [from, to) of an input; the time spent in addTriples, ms. */
function fill (engine: Engine, input: Input, from: number, to: number): number {
  let ms = 0
  for (let start = from; start < to; start += BATCH) {
    const inputs = Array.from({ length: Math.min(BATCH, to - start) }, (_, j) => input(start + j))
    const t0 = performance.now()
    engine.addTriples(inputs)
    ms += performance.now() - t0
  }
  return ms
}

function insertRate (dir: string, name: string, input: Input, rows: number, textIndex: boolean): number {
  const file = join(dir, `${name}.db`)
  const store = SqliteStore.open(file, { textIndex })
  try {
    return rows / (fill(new Engine({ store, node: NODE, maxDriftMs: 60_000 }), input, 0, rows) / 1000)
  } finally {
    store.close()
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
  }
}

function latencies (store: SqliteStore, c: Corpus, rows: number): Record<string, number> {
  const queries = Array.from({ length: QUERIES }, () => c.twoWords(rows))
  for (const q of queries.slice(0, 20)) store.searchText({ query: parseQuery(q), limit: 10 }) // warm the cache of pages
  const ms: number[] = []
  const cpu: number[] = []
  let truncated = 0
  let candidates = 0
  for (const q of queries) {
    const c0 = process.cpuUsage()
    const t0 = performance.now()
    const r = store.searchText({ query: parseQuery(q), limit: 10 })
    ms.push(performance.now() - t0)
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / 1000)
    if (r.hits.length === 0) throw new Error(`no hit for ${q}`)
    if (r.truncated) truncated++
    candidates += r.candidates
  }
  ms.sort((a, b) => a - b)
  cpu.sort((a, b) => a - b)
  return {
    p50_ms: round(percentile(ms, 0.5)),
    p99_ms: round(percentile(ms, 0.99)),
    cpu_p50_ms: round(percentile(cpu, 0.5)),
    cpu_p99_ms: round(percentile(cpu, 0.99)),
    truncated_share: round(truncated / QUERIES, 3),
    mean_candidates: Math.round(candidates / QUERIES)
  }
}

async function recallLatencies (store: SqliteStore, c: Corpus, rows: number): Promise<Record<string, number>> {
  const recall = new Recall({ store })
  const queries = Array.from({ length: QUERIES }, () => c.twoWords(rows))
  const ms: number[] = []
  for (const q of queries) {
    const t0 = performance.now()
    await recall.search({ q, limit: 10, expand: 0, mode: 'text' })
    ms.push(performance.now() - t0)
  }
  ms.sort((a, b) => a - b)
  return { p50_ms: round(percentile(ms, 0.5)), p99_ms: round(percentile(ms, 0.99)) }
}

const prefixed = (prefix: string, figures: Record<string, number>): Record<string, number> =>
  Object.fromEntries(Object.entries(figures).map(([k, v]) => [`${prefix}_${k}`, v]))

export async function benchSearch (opts: { rows: number }): Promise<Record<string, number>> {
  const rows = Math.max(opts.rows, 100_000)
  const c = corpus()
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-search-'))
  try {
    const insertRows = Math.min(rows, 200_000)
    const ratio = (input: Input): { plain: number, indexed: number } => {
      const without: number[] = []
      const withIndex: number[] = []
      for (let i = 0; i < 2; i++) {
        without.push(insertRate(dir, `plain${i}`, input, insertRows, false))
        withIndex.push(insertRate(dir, `indexed${i}`, input, insertRows, true))
      }
      return { plain: Math.max(...without), indexed: Math.max(...withIndex) }
    }
    const { plain, indexed } = ratio(i => c.triple(i))
    const short = ratio(benchInput)

    const store = SqliteStore.open(join(dir, 'search.db'))
    try {
      const engine = new Engine({ store, node: NODE, maxDriftMs: 60_000 })
      fill(engine, i => c.triple(i), 0, 100_000)
      const at100k = latencies(store, c, 100_000)
      const t0 = performance.now()
      store.startTextRebuild()
      while (store.textIndex().rebuilding) store.continueTextRebuild(5_000)
      const rebuildRate = 100_000 / ((performance.now() - t0) / 1000)
      fill(engine, i => c.triple(i), 100_000, rows)
      const atRows = latencies(store, c, rows)
      const recallAtRows = await recallLatencies(store, c, rows)
      const pages = store.pageSizes()
      return {
        rows,
        insert_rows: insertRows,
        insert_without_index_triples_per_s: Math.round(plain),
        insert_with_index_triples_per_s: Math.round(indexed),
        insert_ratio: round(indexed / plain, 3),
        insert_short_without_index_triples_per_s: Math.round(short.plain),
        insert_short_with_index_triples_per_s: Math.round(short.indexed),
        insert_short_ratio: round(short.indexed / short.plain, 3),
        ...prefixed('search_100k', at100k),
        ...prefixed(rows === 1_000_000 ? 'search_1m' : `search_${rows}`, atRows),
        ...prefixed(rows === 1_000_000 ? 'recall_1m' : `recall_${rows}`, recallAtRows),
        rebuild_records_per_s: Math.round(rebuildRate),
        index_bytes: pages.textIndex,
        db_bytes: pages.total,
        index_share: round(pages.textIndex / pages.total, 3)
      }
    } finally {
      store.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
