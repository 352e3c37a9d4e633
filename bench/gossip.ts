/**
 * Gossip measurements over two in-memory nodes (no transport: frames are passed directly and
 * counted as encoded, version byte included). `benchGossip()` is called by the bench runner;
 * running this file directly prints the figures.
 *
 *  - idle_round_bytes_per_peer: an idle round (equal window sets of 100,000 elements) — one digest.
 *  - reconcile_100_*: 100 differences (50 triples only on each side) on 100,000 shared triples,
 *    reconciled by gossip rounds alone, as bytes and as a ratio to the 100 triples' own encoded
 *    size: `_ratio` to their rows (the wire form of records, rows.ts), `_ratio_plain` to msgpack
 *    of their plain maps; with bucket fingerprints (the protocol) and, for comparison, with
 *    whole-window filters only.
 *  - reconcile_1_*: the same with a single difference.
 * An interval is one round started by each node.
 */
import { Packr } from 'msgpackr'
import { asNodeId, type NodeId } from '../src/core/ids.ts'
import type { TripleRecord } from '../src/core/model.ts'
import { makeTriple, recordToPlain } from '../src/core/records.ts'
import { Engine } from '../src/engine/Engine.ts'
import { MemoryStore } from '../src/store/memory/MemoryStore.ts'
import { GossipPeer } from '../src/protocol/native/gossip.ts'
import { encodeRows } from '../src/protocol/native/rows.ts'
import { decodeGossipFrame, encodeGossipFrame, type GossipMessage } from '../src/protocol/native/gossipMessages.ts'
import { WindowIndex } from '../src/protocol/native/WindowIndex.ts'
import { mulberry32 as seeded } from '../src/util/random.ts'

export interface GossipBenchOptions {
  /** Shared triples. Default 100,000. */
  shared?: number
  /** Target false-positive rate. Default 0.01 (p2p.bloomFpr's default). */
  fpr?: number
}

const T0 = 1_763_631_000_000
const TTL = 24 * 3_600_000

export interface Side { id: NodeId, store: MemoryStore, engine: Engine, index: WindowIndex }

/** A node holding `base` (applied in pages of 10,000), with its window index built and kept. */
export function side (name: string, base: readonly TripleRecord[]): Side {
  const id = asNodeId(name)
  const store = new MemoryStore()
  for (let i = 0; i < base.length; i += 10_000) store.apply(base.slice(i, i + 10_000), { clock: { wall: T0, counter: 0 } })
  const engine = new Engine({ store, node: id, maxDriftMs: 60_000, now: () => T0 + 60_000 })
  const index = new WindowIndex({ store, ttlMs: TTL, now: () => T0 + 60_000 })
  index.rebuild()
  engine.on('change', e => index.observe(e.entries))
  return { id, store, engine, index }
}

interface Run { bytes: number, intervals: number }

/** Gossips until both window sets agree; counts every frame both ways. */
function reconcile (a: Side, b: Side, buckets: boolean, fpr: number): Run {
  const peers = new Map<Side, GossipPeer>([
    [a, new GossipPeer({ index: a.index, fpr, random: seeded(1), maxRecordsPerMessage: 5_000, buckets })],
    [b, new GossipPeer({ index: b.index, fpr, random: seeded(2), maxRecordsPerMessage: 5_000, buckets })]
  ])
  let bytes = 0
  const deliver = (from: Side, msgs: GossipMessage[]): void => {
    const queue = msgs.map(msg => ({ from, msg }))
    for (let q = queue.shift(); q !== undefined; q = queue.shift()) {
      const frame = encodeGossipFrame(q.msg)
      bytes += frame.byteLength
      const to = q.from === a ? b : a
      const out = peers.get(to)!.onMessage(decodeGossipFrame(frame))
      if (out.apply.length > 0) to.engine.applyRemote(out.apply, { via: q.from.id })
      for (const msg of out.send) queue.push({ from: to, msg })
    }
  }
  const same = (): boolean => {
    const x = a.index.digest()
    const y = b.index.digest()
    return x.n === y.n && Buffer.compare(x.x, y.x) === 0
  }
  let intervals = 0
  while (!same() && intervals < 20) {
    deliver(a, [peers.get(a)!.startRound()])
    deliver(b, [peers.get(b)!.startRound()])
    intervals++
  }
  if (!same()) throw new Error('gossip bench: the nodes did not converge in 20 intervals')
  return { bytes, intervals }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000

/** `count` triples both nodes hold, written by a third node. */
export function sharedTriples (count: number): TripleRecord[] {
  const origin = asNodeId('node-o')
  return Array.from({ length: count }, (_, i) => makeTriple(
    { subject: `user:u${i}`, predicate: 'knows', object: { kind: 'string', value: `value ${i}` } },
    { wall: T0 + Math.floor(i / 65_536), counter: i % 65_536, node: origin }))
}

export async function benchGossip (opts: GossipBenchOptions = {}): Promise<Record<string, number>> {
  const shared = opts.shared ?? 100_000
  const fpr = opts.fpr ?? 0.01
  const base = sharedTriples(shared)
  const packr = new Packr({ useRecords: false })
  const figures: Record<string, number> = {}

  // Idle: equal sets, one digest per round and peer, not answered.
  {
    const a = side('node-a', base)
    const b = side('node-b', base)
    const peer = new GossipPeer({ index: a.index, fpr, random: seeded(3), maxRecordsPerMessage: 5_000 })
    const other = new GossipPeer({ index: b.index, fpr, random: seeded(4), maxRecordsPerMessage: 5_000 })
    const digest = encodeGossipFrame(peer.startRound())
    const answers = other.onMessage(decodeGossipFrame(digest)).send.map(m => encodeGossipFrame(m).byteLength)
    figures.idle_round_bytes_per_peer = digest.byteLength + answers.reduce((s, n) => s + n, 0)
  }

  for (const differences of [100, 1]) {
    for (const buckets of [true, false]) {
      const a = side('node-a', base)
      const b = side('node-b', base)
      const half = Math.ceil(differences / 2)
      const added = [
        ...a.engine.addTriples(Array.from({ length: half }, (_, i) => ({ subject: `user:a${i}`, predicate: 'knows', object: `only on a ${i}` }))),
        ...b.engine.addTriples(Array.from({ length: differences - half }, (_, i) => ({ subject: `user:b${i}`, predicate: 'knows', object: `only on b ${i}` })))
      ]
      const payload = packr.pack(encodeRows(added)).byteLength
      const plain = added.reduce((s, r) => s + packr.pack(recordToPlain(r)).byteLength, 0)
      const t0 = performance.now()
      const run = reconcile(a, b, buckets, fpr)
      const ms = performance.now() - t0
      const name = `reconcile_${differences}${buckets ? '' : '_whole_filters'}`
      if (buckets) figures[`reconcile_${differences}_payload_bytes`] = payload
      figures[`${name}_bytes`] = run.bytes
      figures[`${name}_ratio`] = round3(run.bytes / payload)
      figures[`${name}_ratio_plain`] = round3(run.bytes / plain)
      figures[`${name}_intervals`] = run.intervals
      figures[`${name}_ms`] = Math.round(ms)
    }
  }
  return figures
}

if (import.meta.main) {
  const figures = await benchGossip()
  for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k.padEnd(36)} ${v.toLocaleString('en')}\n`)
}
