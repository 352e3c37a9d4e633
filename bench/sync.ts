/**
 * Polled sync benchmark: a source node (in a worker thread: bench/syncSource.ts) and an empty
 * node (here), each with its own SqliteStore file, SyncService and REST API on loopback; the
 * pull goes over real HTTP, the source serving pages while the puller applies them, as two
 * machines would.
 *
 * - bulk_insert_triples_per_s: the baseline, measured in this run: the store's own bulk insert
 *   of the triples (Engine.addTriples: validation, ids, stamps, merge, write; best of three) in
 *   batches of 10,000 (as the store bench), and bulk_insert_page_triples_per_s in batches of one
 *   sync page (5,000: one transaction per page, as sync applies them).
 * - catchup_*: an empty node pulls all of them (sync.maxTriplesPerSync 5,000; best of three
 *   empty nodes): time, pages, bytes on the wire (both directions, HTTP headers included,
 *   counted on the source's sockets), and catchup_ratio = its rate / the page-sized bulk insert
 *   rate (goal ≥ 0.5); catchup_ratio_10k against batches of 10,000.
 * - catchup_without_index_*: the same pull into empty nodes whose store is opened without its
 *   full-text index (textIndex: false), alternated with the pulls above; catchup_index_ratio =
 *   the catch-up rate with the index / without it (goal ≥ 0.8).
 * - incremental_*: 100 new triples on top of the shared ones: bytes on the wire, and
 *   incremental_wire_ratio = those bytes / the bytes of the 100 triples as JSON records
 *   (recordToPlain, the form a delta answer carries) (goal ≤ 1.5).
 *
 * 100,000 triples, or --rows when smaller.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { createApiServer } from '../src/api/server.ts'
import { asNodeId } from '../src/core/ids.ts'
import { Engine } from '../src/engine/Engine.ts'
import { SqliteStore } from '../src/store/sqlite/SqliteStore.ts'
import { SyncService, type SyncSettings } from '../src/sync/SyncService.ts'
import { silentLogger } from '../src/util/log.ts'

const SETTINGS: SyncSettings = {
  intervalSeconds: 3600,
  maxTriplesPerSync: 5000,
  syncTimeoutMs: 120_000,
  conflictStrategy: 'last-writer-wins',
  singleValuedPredicates: [],
  autoSync: false,
  nativeP2pPreferred: true,
  p2pEnabled: false,
  retryBaseMs: 5000,
  legacyRemoteClients: false
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits

/** The worker's next message of `type`. */
function next<T> (worker: Worker, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string }): void => {
      if (m.type !== type) return
      worker.off('message', onMessage).off('error', reject)
      resolve(m as T)
    }
    worker.on('message', onMessage).once('error', reject)
  })
}

interface Puller {
  readonly store: SqliteStore
  readonly sync: SyncService
  close (): Promise<void>
}

/** An empty node that pulls from the source (its API listens too, as a node's does). */
async function puller (dir: string, name: string, srcUrl: string, textIndex = true): Promise<Puller> {
  const store = SqliteStore.open(join(dir, `${name}.db`), { textIndex })
  const engine = new Engine({ store, node: asNodeId(`bench-${name}`), maxDriftMs: 60_000 })
  const sync = new SyncService({ engine, secret: () => 'bench-secret', settings: () => SETTINGS, log: silentLogger })
  const app = await createApiServer({
    engine, version: 'bench', bodyLimitBytes: 8 * 1024 * 1024, sync,
    status: () => ({ nodeId: engine.node, version: 'bench', startedAt: '', dataDir: dir, store: { kind: store.kind, path: dir } })
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  sync.pair({ name: 'src', url: srcUrl })
  return { store, sync, async close () { await sync.stop(); await app.close(); store.close() } }
}

export async function benchSync (opts: { rows: number }): Promise<Record<string, number>> {
  const rows = Math.min(opts.rows, 100_000)
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-sync-'))
  const worker = new Worker(new URL('./syncSource.ts', import.meta.url), { workerData: { dir, rows, settings: SETTINGS } })
  const pullers: Puller[] = []
  try {
    const { url, insertMs, pageInsertMs } = await next<{ url: string, insertMs: number, pageInsertMs: number }>(worker, 'ready')
    const insertRate = rows / (insertMs / 1000)
    const pageInsertRate = rows / (pageInsertMs / 1000)
    const wire = async (): Promise<number> => { worker.postMessage({ type: 'wire' }); return (await next<{ bytes: number }>(worker, 'wire')).bytes }

    // Catch-up: best of three empty nodes, with the full-text index and (alternated) without it.
    let best = { ms: Infinity, wire: 0, pages: 0 }
    let bestPlain = Infinity
    for (let i = 0; i < 3; i++) {
      for (const textIndex of [true, false]) {
        const p = await puller(dir, `dst${i}${textIndex ? '' : '-plain'}`, url, textIndex)
        pullers.push(p)
        const wire0 = await wire()
        const t0 = performance.now()
        const [r] = await p.sync.syncNow('src')
        const ms = performance.now() - t0
        const bytes = await wire() - wire0
        if (r?.ok !== true || p.store.stats().triples !== rows) throw new Error(`catch-up failed: ${r?.error ?? ''} (${p.store.stats().triples} of ${rows})`)
        if (!textIndex) bestPlain = Math.min(bestPlain, ms)
        else if (ms < best.ms) best = { ms, wire: bytes, pages: r.pages }
      }
    }
    const catchupRate = rows / (best.ms / 1000)
    const plainRate = rows / (bestPlain / 1000)

    // 100 new triples on top of the shared ones.
    worker.postMessage({ type: 'add', from: rows, count: 100 })
    const { recordBytes } = await next<{ recordBytes: number }>(worker, 'added')
    const wire1 = await wire()
    const t1 = performance.now()
    const [inc] = await pullers[0]!.sync.syncNow('src')
    const incMs = performance.now() - t1
    const incWire = await wire() - wire1
    if (inc?.ok !== true || inc.received !== 100) throw new Error(`incremental sync failed: ${inc?.error ?? ''} (${inc?.received ?? 0} received)`)

    return {
      rows,
      bulk_insert_triples_per_s: Math.round(insertRate),
      bulk_insert_page_triples_per_s: Math.round(pageInsertRate),
      catchup_ms: Math.round(best.ms),
      catchup_pages: best.pages,
      catchup_triples_per_s: Math.round(catchupRate),
      catchup_wire_bytes: best.wire,
      catchup_wire_bytes_per_triple: round(best.wire / rows, 1),
      catchup_ratio: round(catchupRate / pageInsertRate, 3),
      catchup_ratio_10k: round(catchupRate / insertRate, 3),
      catchup_without_index_ms: Math.round(bestPlain),
      catchup_without_index_triples_per_s: Math.round(plainRate),
      catchup_index_ratio: round(catchupRate / plainRate, 3),
      incremental_ms: round(incMs, 1),
      incremental_wire_bytes: incWire,
      incremental_record_bytes: recordBytes,
      incremental_wire_ratio: round(incWire / recordBytes, 3)
    }
  } finally {
    worker.postMessage({ type: 'close' })
    await next(worker, 'closed').catch(() => {})
    await worker.terminate()
    for (const p of pullers) await p.close()
    rmSync(dir, { recursive: true, force: true })
  }
}
