/**
 * The source node of the sync benchmark (bench/sync.ts), run in a worker thread so that it
 * serves pages while the pulling node applies them, as two machines would. It bulk-inserts the
 * triples (timing that, and the same into scratch stores, in batches of 10,000 and of one page:
 * the baselines), listens on loopback, and answers the main thread:
 *
 *   → {type: 'ready', url, insertMs, pageInsertMs}   once filled and listening
 *   ← {type: 'add', from, count}  → {type: 'added', recordBytes}
 *   ← {type: 'wire'}              → {type: 'wire', bytes}  (socket bytes read + written so far)
 *   ← {type: 'close'}             → {type: 'closed'}
 */
import type { AddressInfo, Socket } from 'node:net'
import { join } from 'node:path'
import { parentPort, workerData } from 'node:worker_threads'
import { createApiServer } from '../src/api/server.ts'
import { asNodeId } from '../src/core/ids.ts'
import { recordToPlain } from '../src/core/records.ts'
import { Engine } from '../src/engine/Engine.ts'
import { SqliteStore } from '../src/store/sqlite/SqliteStore.ts'
import { SyncService, type SyncSettings } from '../src/sync/SyncService.ts'
import { silentLogger } from '../src/util/log.ts'
import { benchInput } from './store.ts'

const { dir, rows, settings } = workerData as { dir: string, rows: number, settings: SyncSettings }
const BATCH = 10_000

const store = SqliteStore.open(join(dir, 'src.db'))
const node = asNodeId('bench-src')
const engine = new Engine({ store, node, maxDriftMs: 60_000 })
const sync = new SyncService({ engine, secret: () => 'bench-secret', settings: () => settings, log: silentLogger })

/** Bulk-inserts the bench triples into `e` in batches of `batch`; the time spent in addTriples. */
function bulkInsert (e: Engine, batch: number): number {
  let ms = 0
  for (let start = 0; start < rows; start += batch) {
    const inputs = Array.from({ length: Math.min(batch, rows - start) }, (_, j) => benchInput(start + j))
    const t0 = performance.now()
    e.addTriples(inputs)
    ms += performance.now() - t0
  }
  return ms
}

/** The best of `n` bulk inserts into scratch stores. */
function bestInsert (batch: number, n: number): number {
  let best = Infinity
  for (let i = 0; i < n; i++) {
    const scratch = SqliteStore.open(join(dir, `scratch-${batch}-${i}.db`))
    best = Math.min(best, bulkInsert(new Engine({ store: scratch, node, maxDriftMs: 60_000 }), batch))
    scratch.close()
  }
  return best
}

// Baselines, best of three each: batches of 10,000 (the store bench's), and batches of one sync
// page (one transaction per page, as sync applies them).
const insertMs = Math.min(bulkInsert(engine, BATCH), bestInsert(BATCH, 2))
const pageInsertMs = bestInsert(settings.maxTriplesPerSync, 3)

const app = await createApiServer({
  engine, version: 'bench', bodyLimitBytes: 8 * 1024 * 1024, sync,
  status: () => ({ nodeId: node, version: 'bench', startedAt: '', dataDir: dir, store: { kind: store.kind, path: dir } })
})
const sockets = new Set<Socket>()
let closedBytes = 0
app.server.on('connection', (s: Socket) => {
  sockets.add(s)
  s.on('close', () => { closedBytes += s.bytesRead + s.bytesWritten; sockets.delete(s) })
})
await app.listen({ host: '127.0.0.1', port: 0 })
const port = (app.server.address() as AddressInfo).port

const port_ = parentPort!
port_.on('message', (m: { type: string, from?: number, count?: number }) => {
  void (async () => {
    switch (m.type) {
      case 'add': {
        const added = engine.addTriples(Array.from({ length: m.count! }, (_, i) => benchInput(m.from! + i)))
        port_.postMessage({ type: 'added', recordBytes: added.reduce((n, t) => n + Buffer.byteLength(JSON.stringify(recordToPlain(t))), 0) })
        break
      }
      case 'wire':
        port_.postMessage({ type: 'wire', bytes: closedBytes + [...sockets].reduce((n, s) => n + s.bytesRead + s.bytesWritten, 0) })
        break
      case 'close':
        await app.close()
        store.close()
        port_.postMessage({ type: 'closed' })
        break
    }
  })()
})
port_.postMessage({ type: 'ready', url: `http://127.0.0.1:${port}`, insertMs, pageInsertMs })
