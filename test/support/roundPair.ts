/**
 * Two nodes reconciled by gossip rounds alone, in one process, for the tests of the pure round
 * protocols (protocol/native/gossip.ts's bloom rounds, recon.ts's coded rounds): each node an
 * Engine over a MemoryStore with its window index and a round peer the test makes; messages pass
 * between them as frames, encoded and decoded as on the wire, and everything a message causes is
 * delivered until both sides are quiet. The clock is shared and moves only between intervals, so
 * a run is the same every time.
 *
 *   const p = new RoundPair({ peer: index => new ReconPeer({ index, … }), encode, decode, stepMs: 1_000 })
 *   p.a.engine.addTriples(…); p.share(p.a); p.b.engine.setNote('k', 1)
 *   assert.ok(p.run(5) <= 5); p.assertSameDumps()
 */
import assert from 'node:assert/strict'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import type { MemoryRecord } from '../../src/core/model.ts'
import { recordToPlain } from '../../src/core/records.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { WindowIndex } from '../../src/protocol/native/WindowIndex.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'

/** Where the pair's clock starts. */
export const T0 = 1_763_631_000_000
/** The time window of both nodes' indexes. */
export const TTL = 24 * 3_600_000

/** A triple numbered `i` of series `s`, as a test writes it to a node. */
export const tripleInput = (s: string, i: number): { subject: string, predicate: string, object: string } => ({ subject: `user:${s}${i}`, predicate: 'knows', object: `v${i}` })

/** One end of a round protocol: what starts a round, and what a message of the other end causes. */
export interface RoundPeer<M> {
  /** A round's first message; undefined while the last round is still going (coded rounds). */
  startRound (): M | undefined
  onMessage (msg: M): { readonly send: readonly M[], readonly apply: readonly MemoryRecord[] }
}

export interface PairNode<P> {
  readonly id: NodeId
  readonly store: MemoryStore
  readonly engine: Engine
  readonly index: WindowIndex
  readonly peer: P
}

export interface RoundPairOptions<M, P> {
  /** The round peer of node `n` (0: a, 1: b) over its window index. */
  readonly peer: (index: WindowIndex, n: 0 | 1) => P
  readonly encode: (msg: M) => Uint8Array
  readonly decode: (frame: Uint8Array) => M
  /** How far the clock moves after each interval. */
  readonly stepMs: number
  /** Each node starts a round in every interval (default: they take turns, a first). */
  readonly bothStart?: boolean
}

export class RoundPair<M extends { readonly t: string }, P extends RoundPeer<M>> {
  readonly clock = { now: T0 }
  readonly a: PairNode<P>
  readonly b: PairNode<P>
  /** Bytes of every frame delivered. */
  bytes = 0
  /** Every message delivered, in order, with the node that sent it. */
  messages: { from: NodeId, msg: M }[] = []
  private readonly opts: RoundPairOptions<M, P>

  constructor (opts: RoundPairOptions<M, P>) {
    this.opts = opts
    this.a = this.node('node-a', 0)
    this.b = this.node('node-b', 1)
  }

  /** Delivers messages (and everything they cause) until both sides are quiet. */
  deliver (from: PairNode<P>, msgs: readonly M[]): void {
    const queue = msgs.map(msg => ({ from, msg }))
    for (let q = queue.shift(); q !== undefined; q = queue.shift()) {
      const frame = this.opts.encode(q.msg)
      this.bytes += frame.byteLength
      this.messages.push({ from: q.from.id, msg: q.msg })
      const to = q.from === this.a ? this.b : this.a
      const out = to.peer.onMessage(this.opts.decode(frame))
      if (out.apply.length > 0) to.engine.applyRemote(out.apply, { via: q.from.id })
      for (const msg of out.send) queue.push({ from: to, msg })
    }
  }

  /** Whether the two window sets agree. */
  converged (): boolean {
    const x = this.a.index.digest()
    const y = this.b.index.digest()
    return x.n === y.n && Buffer.compare(x.x, y.x) === 0
  }

  /** Runs intervals until the window sets agree; how many it took (Infinity: not within `most`). */
  run (most: number): number {
    for (let i = 0; i < most; i++) {
      if (this.converged()) return i
      const starters = this.opts.bothStart === true ? [this.a, this.b] : [i % 2 === 0 ? this.a : this.b]
      for (const from of starters) {
        // every interval delivers everything, so no round is still going when the next starts
        const first = from.peer.startRound()
        assert.ok(first !== undefined, `${from.id} starts a round`)
        this.deliver(from, [first])
      }
      this.clock.now += this.opts.stepMs
    }
    return this.converged() ? most : Infinity
  }

  /** Copies every record of `from` to the other node (a shared starting point). */
  share (from: PairNode<P>): void {
    const to = from === this.a ? this.b : this.a
    const plain = from.store.dump().map(recordToPlain)
    for (let i = 0; i < plain.length; i += 1000) to.engine.applyRemote(plain.slice(i, i + 1000), { via: from.id })
  }

  assertSameDumps (): void {
    assert.deepEqual(this.a.store.dump(), this.b.store.dump())
  }

  private node (name: string, n: 0 | 1): PairNode<P> {
    const id = asNodeId(name)
    const store = new MemoryStore()
    const engine = new Engine({ store, node: id, maxDriftMs: 60_000, now: () => this.clock.now })
    const index = new WindowIndex({ store, ttlMs: TTL, now: () => this.clock.now })
    engine.on('change', e => index.observe(e.entries))
    return { id, store, engine, index, peer: this.opts.peer(index, n) }
  }
}
