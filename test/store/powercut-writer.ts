/**
 * Child process of powercut.test.ts: opens a SqliteStore (synchronous full, the default; no
 * automatic checkpoints, so the write-ahead log only grows) and an Engine on a file, and writes
 * in a loop, at random (seeded), a local batch (Engine.addTriples), a page from a peer
 * (replication/applyPage.ts, with the peer's cursor, as native and polled sync apply them) or a
 * local metadata write (Store.setMeta, as the peer registry writes). After each write it prints
 * one line:
 *
 *   local <b> <walBytes> <durableSeq> <lastSeq>     a local batch, acknowledged
 *   page <p> <walBytes> <durableSeq> <lastSeq>      page p of the peer, cursor p
 *   meta <m> <walBytes> <durableSeq> <lastSeq>      metadata key crash.m<m>, acknowledged
 *
 * `walBytes` is the size of the write-ahead log then. The parent kills the child with SIGKILL.
 *
 *   node test/store/powercut-writer.ts <file> <seed> <first batch> <first page> <first meta> <records per write>
 */
import { statSync, writeSync } from 'node:fs'
import { asNodeId } from '../../src/core/ids.ts'
import type { TripleRecord } from '../../src/core/model.ts'
import { tripleId } from '../../src/core/canonical.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { applyPeerPage } from '../../src/replication/applyPage.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import { mulberry32 } from '../../src/util/random.ts'

const [file, seedArg, firstBatch, firstPage, firstMeta, sizeArg] = process.argv.slice(2).map((a, i) => i === 0 ? a : Number(a)) as [string, number, number, number, number, number]
const PEER = asNodeId('powercut-peer')
const FEED = '0123456789abcdef0123456789abcdef'
const rnd = mulberry32(seedArg)

const store = SqliteStore.open(file, { walAutoCheckpoint: 0 })
const engine = new Engine({ store, node: asNodeId('powercut-writer'), maxDriftMs: 60_000 })
const wal = (): number => { try { return statSync(`${file}-wal`).size } catch { return 0 } }
const report = (what: string): void => { writeSync(1, `${what} ${wal()} ${store.durableSeq()} ${store.stats().lastSeq}\n`) }
report('ready 0')

function pageRecords (p: number): TripleRecord[] {
  const subject = `crash:p${p}`
  return Array.from({ length: sizeArg }, (_, i) => {
    const content = { subject, predicate: 'item', object: { kind: 'string' as const, value: `${i} ${'y'.repeat(64)}` } }
    return { kind: 'triple', id: tripleId(content), ...content, hlc: { wall: Date.now(), counter: i, node: PEER }, deleted: false }
  })
}

let b = firstBatch
let p = firstPage
let m = firstMeta
for (let step = 0; step < 1_000_000; step++) {
  const pick = rnd()
  if (pick < 0.15) {
    store.setMeta(`crash.m${m}`, 'acknowledged')
    report(`meta ${m++}`)
  } else if (pick < 0.55) {
    const subject = `crash:b${b}`
    engine.addTriples(Array.from({ length: sizeArg }, (_, i) => ({ subject, predicate: 'item', object: `${i} ${'x'.repeat(64)}` })))
    report(`local ${b++}`)
  } else {
    applyPeerPage(engine, { peer: PEER, records: pageRecords(p), view: { node: PEER, cursor: 0, namespaces: null }, cursor: { seq: p, feedId: FEED } })
    report(`page ${p++}`)
  }
}
