/**
 * Child process of crash.test.ts: opens a SqliteStore and an Engine on a file and adds batches
 * of triples in a loop, printing `ack <batch>` only after each addTriples has returned. The
 * parent kills it with SIGKILL at random moments. The store checkpoints as it does in a node
 * (store/sqlite/checkpoints.ts), both ways often: on the commit that takes the log past a small
 * bound, and while idle, for which the writer pauses after every other batch; so kills also land
 * in a checkpoint.
 *
 *   node test/store/crash-writer.ts <file> <first batch> <triples per batch>
 *
 * Batch b is the triples (crash:b<b>, item, 0..n-1).
 */
import { writeSync } from 'node:fs'
import { asNodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'

const [file, firstArg, sizeArg] = process.argv.slice(2)
if (file === undefined || firstArg === undefined || sizeArg === undefined) {
  process.stderr.write('usage: crash-writer.ts <file> <first batch> <triples per batch>\n')
  process.exit(2)
}
const first = Number(firstArg)
const size = Number(sizeArg)

const batchSubject = (b: number): string => `crash:b${b}`

const store = SqliteStore.open(file, { walAutoCheckpoint: 400, idleCheckpointMs: 2 })
const engine = new Engine({ store, node: asNodeId('crash-writer'), maxDriftMs: 60_000 })
writeSync(1, 'ready\n')
for (let b = first; b < first + 1_000_000; b++) {
  const subject = batchSubject(b)
  engine.addTriples(Array.from({ length: size }, (_, i) => ({ subject, predicate: 'item', object: `${i} ${'x'.repeat(64)}` })))
  // Synchronous write: the ack leaves only after the batch is committed.
  writeSync(1, `ack ${b}\n`)
  if (b % 2 === 1) await new Promise(resolve => setTimeout(resolve, 6))
}
store.close()
