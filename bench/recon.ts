/**
 * Reconciliation by anti-entropy alone, coded rounds (src/protocol/native/recon.ts; `coded`:
 * version 2, the compact forms; `coded1`: version 1, as a node of that version runs them) beside
 * bloom rounds (gossip.ts), in the same run, over two in-memory nodes (frames passed directly and
 * counted as encoded, version byte included). `benchRecon()` is called by the bench runner
 * (`npm run bench -- --only recon`); running this file directly prints the figures.
 *
 * For d = 1, 2, 3, 4, 5, 10, 100, 1,000 and 10,000 differences (⌈d/2⌉ triples only on one node, ⌊d/2⌋ only
 * on the other) on 100,000 shared triples, rounds are started by each node in turn until their
 * window sets agree (checked after every round), three times with other differing triples (the
 * figures are the mean, `_ratio_max` the worst of the three). Figures per d and protocol:
 *  - `_bytes`: every frame both ways, digests included;
 *  - `_ratio`: bytes ÷ the information floor, the d records' own rows (rows.ts, msgpack), about
 *    42 bytes a triple (`recon_<d>_floor_bytes`);
 *  - `_trips`: round trips, counting each message sent in answer to another as half a trip
 *    (the longest chain of a round, summed over the rounds it took).
 */
import { INTERNAL } from '../src/core/errors.ts'
import { Packr } from 'msgpackr'
import { GossipPeer } from '../src/protocol/native/gossip.ts'
import { sharedTriples, side, type Side } from './gossip.ts'
import { decodeGossipFrame, encodeGossipFrame, type RecordsMessage } from '../src/protocol/native/gossipMessages.ts'
import { ReconPeer, type ReconVersion } from '../src/protocol/native/recon.ts'
import { decodeReconFrame, encodeReconFrame } from '../src/protocol/native/reconMessages.ts'
import { encodeRows } from '../src/protocol/native/rows.ts'
import { mulberry32 as seeded } from '../src/util/random.ts'

export interface ReconBenchOptions {
  /** Shared triples. Default 100,000. */
  shared?: number
  /** Differences to measure. Default 1 – 5, 10, 100, 1,000, 10,000. */
  differences?: number[]
  /** Runs per d and protocol, each with other differing triples. Default 3. */
  runs?: number
  /** Protocols to measure. Default all three. */
  protocols?: ReadonlyArray<'bloom' | 'coded' | 'coded1'>
}

const MAX_ROUNDS = 40

/** One protocol as the bench drives it: start a round, answer a frame. */
interface Driver {
  start: () => Uint8Array
  answer: (frame: Uint8Array) => { frames: Uint8Array[], apply: RecordsMessage['records'] }
}

function bloomDriver (s: Side, seed: number): Driver {
  const peer = new GossipPeer({ index: s.index, fpr: 0.01, random: seeded(seed), maxRecordsPerMessage: 5_000 })
  return {
    start: () => encodeGossipFrame(peer.startRound()),
    answer: frame => {
      const out = peer.onMessage(decodeGossipFrame(frame))
      return { frames: out.send.map(encodeGossipFrame), apply: out.apply }
    }
  }
}

function reconDriver (s: Side, version: ReconVersion): Driver {
  const peer = new ReconPeer({ index: s.index, maxRecordsPerMessage: 5_000, version })
  return {
    start: () => {
      const digest = peer.startRound()
      if (digest === undefined) throw INTERNAL('recon bench: the previous round is still going')
      return encodeReconFrame(digest)
    },
    answer: frame => {
      const out = peer.onMessage(decodeReconFrame(frame))
      return { frames: out.send.map(encodeReconFrame), apply: out.apply }
    }
  }
}

interface Run { bytes: number, trips: number, rounds: number }

/** Rounds, each node in turn, until both window sets agree; every frame counted. */
function reconcile (a: Side, b: Side, make: (s: Side, seed: number) => Driver): Run {
  const drivers = new Map<Side, Driver>([[a, make(a, 1)], [b, make(b, 2)]])
  let bytes = 0
  let halfTrips = 0
  const same = (): boolean => {
    const x = a.index.digest()
    const y = b.index.digest()
    return x.n === y.n && Buffer.compare(x.x, y.x) === 0
  }
  let rounds = 0
  while (!same() && rounds < MAX_ROUNDS) {
    const from = rounds % 2 === 0 ? a : b
    const queue = [{ from, frame: drivers.get(from)!.start(), depth: 1 }]
    let deepest = 0
    for (let q = queue.shift(); q !== undefined; q = queue.shift()) {
      bytes += q.frame.byteLength
      deepest = Math.max(deepest, q.depth)
      const to = q.from === a ? b : a
      const out = drivers.get(to)!.answer(q.frame)
      if (out.apply.length > 0) to.engine.applyRemote(out.apply, { via: q.from.id })
      for (const frame of out.frames) queue.push({ from: to, frame, depth: q.depth + 1 })
    }
    halfTrips += deepest
    rounds++
  }
  if (!same()) throw new Error(`recon bench: the nodes did not converge in ${MAX_ROUNDS} rounds`)
  return { bytes, trips: halfTrips / 2, rounds }
}

const round2 = (x: number): number => Math.round(x * 100) / 100
const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length

export async function benchRecon (opts: ReconBenchOptions = {}): Promise<Record<string, number>> {
  const base = sharedTriples(opts.shared ?? 100_000)
  const packr = new Packr({ useRecords: false })
  const figures: Record<string, number> = {}
  const runs = opts.runs ?? 3
  for (const d of opts.differences ?? [1, 2, 3, 4, 5, 10, 100, 1_000, 10_000]) {
    const drivers = [['bloom', bloomDriver], ['coded', (s: Side) => reconDriver(s, 2)], ['coded1', (s: Side) => reconDriver(s, 1)]] as const
    for (const [name, make] of drivers) {
      if (opts.protocols !== undefined && !opts.protocols.includes(name)) continue
      const seen: { floor: number, bytes: number, ratio: number, trips: number, rounds: number, ms: number }[] = []
      for (let r = 0; r < runs; r++) {
        const a = side('node-a', base)
        const b = side('node-b', base)
        const half = Math.ceil(d / 2)
        const added = [
          ...a.engine.addTriples(Array.from({ length: half }, (_, i) => ({ subject: `user:a${r}-${i}`, predicate: 'knows', object: `only on a ${i}` }))),
          ...b.engine.addTriples(Array.from({ length: d - half }, (_, i) => ({ subject: `user:b${r}-${i}`, predicate: 'knows', object: `only on b ${i}` })))
        ]
        const floor = packr.pack(encodeRows(added)).byteLength
        const t0 = performance.now()
        const run = reconcile(a, b, make)
        seen.push({ floor, bytes: run.bytes, ratio: run.bytes / floor, trips: run.trips, rounds: run.rounds, ms: performance.now() - t0 })
      }
      figures[`recon_${d}_floor_bytes`] = Math.round(mean(seen.map(s => s.floor)))
      figures[`recon_${d}_${name}_bytes`] = Math.round(mean(seen.map(s => s.bytes)))
      figures[`recon_${d}_${name}_ratio`] = round2(mean(seen.map(s => s.ratio)))
      figures[`recon_${d}_${name}_ratio_max`] = round2(Math.max(...seen.map(s => s.ratio)))
      figures[`recon_${d}_${name}_trips`] = round2(mean(seen.map(s => s.trips)))
      figures[`recon_${d}_${name}_trips_max`] = Math.max(...seen.map(s => s.trips))
      figures[`recon_${d}_${name}_trips_over_2`] = seen.filter(s => s.trips > 2).length
      figures[`recon_${d}_${name}_rounds`] = round2(mean(seen.map(s => s.rounds)))
      figures[`recon_${d}_${name}_ms`] = Math.round(mean(seen.map(s => s.ms)))
    }
  }
  return figures
}

if (import.meta.main) {
  const figures = await benchRecon()
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(36)} ${v.toLocaleString('en')}\n`)
}
