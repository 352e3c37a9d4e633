/**
 * What a receiver does to a page before its store write, step by step: pages of 5,000 signed
 * triples (the bench's triples, bench/store.ts benchInput, one batch of 10,000 per two pages as
 * a bulk write seals them) decoded from a compressed frame (decodeFrame, rows left unchecked),
 * each row checked (rows.ts checkRowAt: limits, stamp, content id), then the page's signatures
 * (seals.ts verifyPage: leaf hashes, the root from the proof, Ed25519). CPU time of this
 * process per step, the median over the pages; and the V8 heap allocated per record by the three
 * steps together (what the collector freed plus what the heap grew by: everything that died young
 * counts).
 *
 * With `base` (another checkout of engram) its modules are loaded beside this one's and run
 * alternately, page for page, in this process: the two are measured under the same load, and
 * vs_base_* are this ÷ base.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GCProfiler } from 'node:v8'
import { median } from './stats.ts'

const PAGE = 5_000
const BATCH = 2 * PAGE
const ROUNDS = 60
/** Rounds left out of the medians (the code is not optimized yet). */
const WARM = 4

const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

/** The median of the rounds after the warm-up. */
const warmMedian = (xs: readonly number[]): number => median(xs.slice(WARM))

interface Side {
  readonly decode: number[]
  readonly check: number[]
  readonly verify: number[]
  /** Heap bytes allocated per record by the three steps, per page. */
  readonly bytes: number[]
  /** Decodes, checks and verifies one frame: CPU ms of each step pushed on the lists above. */
  readonly run: (frame: Uint8Array) => void
  readonly frames: readonly Uint8Array[]
}

/** The pages and steps of the checkout at `root`, signed with `key`. */
async function side (root: string, key: Awaited<ReturnType<typeof generateKeyPair>>): Promise<Side> {
  // A checkout's modules by path: `root` may be another checkout than this one.
  const load = async (path: string): Promise<Record<string, any>> => await import(resolve(root, path)) as Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  const [keys, records, signing, seals, messages, compression, rows, store, validate] = await Promise.all([
    'src/node/keys.ts', 'src/core/records.ts', 'src/core/signing.ts', 'src/core/seals.ts', 'src/protocol/native/messages.ts',
    'src/protocol/native/compression.ts', 'src/protocol/native/rows.ts', 'bench/store.ts', 'src/core/validate.ts'
  ].map(load))
  const node = peerIdFromPrivateKey(key).toString()
  const signer = keys!.identitySigner(key, node)
  const verifier = new keys!.NodeKeyVerifier()
  const T0 = 1_780_000_000_000
  const triples = Array.from({ length: BATCH }, (_, i) => {
    const x = store!.benchInput(i)
    return records!.makeTriple({ subject: x.subject, predicate: x.predicate, object: validate!.parseTerm(x.object) }, { wall: T0 + i, counter: 0, node })
  })
  const batch = signing!.sealBatch(triples, signer, { wall: T0 + BATCH, counter: 0 })
  const frames: Uint8Array[] = []
  for (let p = 0; p < BATCH / PAGE; p++) {
    const page = triples.slice(p * PAGE, (p + 1) * PAGE)
    const pageSeals = seals!.sealPage(page.map((_: unknown, i: number) => ({ seal: { batch: 1, leaf: p * PAGE + i } })), () => batch)
    const frame = messages!.encodeMessage({ t: 'changes', from: p * PAGE, to: (p + 1) * PAGE, records: page, more: true, seals: pageSeals })
    frames.push(compression!.compressFrame(frame, 1))
  }
  const s: Side = {
    decode: [],
    check: [],
    verify: [],
    bytes: [],
    frames,
    run: frame => {
      const gc = new GCProfiler()
      gc.start()
      const heap0 = process.memoryUsage().heapUsed
      let t0 = cpuMs()
      const msg = messages!.decodeFrame(frame, { deferRecords: true })
      let t1 = cpuMs()
      s.decode.push(t1 - t0)
      t0 = t1
      const checked = (msg.unchecked as unknown[]).map((row, i) => rows!.checkRowAt(row, msg.nodes, `changes.records[${i}]`))
      t1 = cpuMs()
      s.check.push(t1 - t0)
      t0 = t1
      const verified = seals!.verifyPage(checked, rows!.sealsOf(msg.batches, msg.unchecked, 'changes.records'), verifier)
      s.verify.push(cpuMs() - t0)
      const heap1 = process.memoryUsage().heapUsed
      const freed = gc.stop().statistics.reduce((sum, st) => sum + st.beforeGC.heapStatistics.usedHeapSize - st.afterGC.heapStatistics.usedHeapSize, 0)
      s.bytes.push((freed + heap1 - heap0) / PAGE)
      if ((verified.checks as Array<{ ok: boolean } | undefined>).some(c => c?.ok !== true)) throw new Error(`${root}: a page of the bench did not verify`)
    }
  }
  return s
}

export async function benchIntake ({ base }: { base?: string | undefined } = {}): Promise<Record<string, number>> {
  const key = await generateKeyPair('Ed25519')
  const here = await side(fileURLToPath(new URL('..', import.meta.url)), key)
  const other = base === undefined ? undefined : await side(base, key)
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of other === undefined ? [here] : [here, other]) for (const f of s.frames) s.run(f)
  }
  const figures = (prefix: string, s: Side): Record<string, number> => ({
    [`${prefix}page_records`]: PAGE,
    [`${prefix}decode_ms_per_page`]: +warmMedian(s.decode).toFixed(2),
    [`${prefix}check_us_per_record`]: +(warmMedian(s.check) * 1000 / PAGE).toFixed(3),
    [`${prefix}verify_us_per_record`]: +(warmMedian(s.verify) * 1000 / PAGE).toFixed(3),
    [`${prefix}heap_bytes_per_record`]: Math.round(warmMedian(s.bytes))
  })
  const out = figures('intake_', here)
  if (other === undefined) return out
  Object.assign(out, figures('base_intake_', other))
  for (const step of ['decode', 'check', 'verify'] as const) out[`vs_base_intake_${step}`] = +(warmMedian(here[step]) / warmMedian(other[step])).toFixed(2)
  out.vs_base_intake_heap_bytes = +(warmMedian(here.bytes) / warmMedian(other.bytes)).toFixed(2)
  return out
}
