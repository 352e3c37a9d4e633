/**
 * The gossip window's element of a record (windowElement.ts elementOf), per record: CPU time and
 * bytes allocated on the V8 heap. 100,000 records, a receiver's mix: the bench's triples
 * (bench/store.ts benchInput), a tenth of them tombstones, and one note with a JSON value in ten.
 * Then the whole take-in of a catch-up: the same records as feed entries queued in pages of 5,000
 * (PendingElements.push) and taken into an index (WindowIndex.observePending). Bytes allocated
 * are what the collector freed plus what the heap grew by (v8.GCProfiler), so they count
 * everything that died young.
 *
 * With `base` (another checkout of engram) its elementOf is loaded beside this one's and run
 * alternately, round for round, in this process; vs_base_* are this ÷ base.
 */
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GCProfiler } from 'node:v8'
import { median } from './stats.ts'

const N = 100_000
const ROUNDS = 12
/** Rounds left out of the medians (the code is not optimized yet). */
const WARM = 2

const cpuNs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) * 1000
}

interface Side {
  readonly ns: number[]
  readonly bytes: number[]
  readonly takeInNs: number[]
  readonly takeInBytes: number[]
  readonly run: () => void
}

/** Runs `f` once: CPU ns and heap bytes allocated, each divided by `n`. */
function measured (n: number, f: () => void): [number, number] {
  const gc = new GCProfiler()
  gc.start()
  const heap0 = process.memoryUsage().heapUsed
  const t0 = cpuNs()
  f()
  const t1 = cpuNs()
  const heap1 = process.memoryUsage().heapUsed
  const freed = gc.stop().statistics.reduce((sum, st) => sum + st.beforeGC.heapStatistics.usedHeapSize - st.afterGC.heapStatistics.usedHeapSize, 0)
  return [(t1 - t0) / n, (freed + heap1 - heap0) / n]
}

async function side (root: string): Promise<Side> {
  const load = async (path: string): Promise<Record<string, any>> => await import(resolve(root, path)) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  const [records, element, store, validate, memory, windowIndex, pending] = await Promise.all([
    'src/core/records.ts', 'src/protocol/native/windowElement.ts', 'bench/store.ts', 'src/core/validate.ts',
    'src/store/memory/MemoryStore.ts', 'src/protocol/native/WindowIndex.ts', 'src/protocol/native/PendingElements.ts'
  ].map(load))
  const node = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
  const T0 = 1_780_000_000_000
  const input = Array.from({ length: N }, (_, i) => {
    const hlc = { wall: T0 + i, counter: i % 7, node }
    if (i % 10 === 9) return { kind: 'note', key: `note:${i}`, value: { text: `note ${i}`, tags: ['a', 'b'], n: i, ok: true }, hlc, deleted: false }
    const x = store!.benchInput(i)
    return records!.makeTriple({ subject: x.subject, predicate: x.predicate, object: validate!.parseTerm(x.object) }, hlc, i % 10 === 4)
  })
  const elementOf = element!.elementOf as (r: unknown) => Uint8Array
  const entries = input.map((record, i) => ({ seq: i + 1, record }))
  const s: Side = {
    ns: [],
    bytes: [],
    takeInNs: [],
    takeInBytes: [],
    run: () => {
      let x = 0
      const [ns, bytes] = measured(N, () => { for (const r of input) x ^= elementOf(r)[0]! })
      if (x === 256) throw new Error('unreachable') // keeps the loop's result alive
      s.ns.push(ns)
      s.bytes.push(bytes)
      const index = new windowIndex!.WindowIndex({ store: new memory!.MemoryStore(), ttlMs: 24 * 3_600_000, now: () => T0 + N })
      index.rebuild()
      const queue = new pending!.PendingElements()
      const [takeInNs, takeInBytes] = measured(N, () => {
        for (let i = 0; i < N; i += 5_000) queue.push(entries.slice(i, i + 5_000), index.heldStart)
        index.observePending(queue, queue.length)
      })
      if (index.size !== N) throw new Error(`${root}: the index took in ${index.size as number} of ${N} records`)
      s.takeInNs.push(takeInNs)
      s.takeInBytes.push(takeInBytes)
    }
  }
  return s
}

/** The median of the rounds after the warm-up. */
const warmMedian = (xs: readonly number[]): number => median(xs.slice(WARM))

export async function benchElement ({ base }: { base?: string | undefined } = {}): Promise<Record<string, number>> {
  const here = await side(fileURLToPath(new URL('..', import.meta.url)))
  const other = base === undefined ? undefined : await side(base)
  for (let r = 0; r < ROUNDS; r++) for (const s of other === undefined ? [here] : [here, other]) s.run()
  const figures = (prefix: string, s: Side): Record<string, number> => ({
    [`${prefix}element_ns_per_record`]: Math.round(warmMedian(s.ns)),
    [`${prefix}element_bytes_per_record`]: Math.round(warmMedian(s.bytes)),
    [`${prefix}window_take_in_ns_per_record`]: Math.round(warmMedian(s.takeInNs)),
    [`${prefix}window_take_in_bytes_per_record`]: Math.round(warmMedian(s.takeInBytes))
  })
  const out = figures('', here)
  if (other === undefined) return out
  Object.assign(out, figures('base_', other))
  out.vs_base_element_ns = +(warmMedian(here.ns) / warmMedian(other.ns)).toFixed(2)
  out.vs_base_element_bytes = +(warmMedian(here.bytes) / warmMedian(other.bytes)).toFixed(2)
  out.vs_base_window_take_in_ns = +(warmMedian(here.takeInNs) / warmMedian(other.takeInNs)).toFixed(2)
  out.vs_base_window_take_in_bytes = +(warmMedian(here.takeInBytes) / warmMedian(other.takeInBytes)).toFixed(2)
  return out
}
