/**
 * Gossip rounds with one peer (docs/PROTOCOL.md §3), as a pure state machine: no I/O, no timers.
 * The session calls `startRound()` every `p2p.gossipIntervalMs` and sends the digest it returns;
 * it passes every gossip message the peer sends (validated with `parseGossipMessage`) to
 * `onMessage`, sends what that returns in `send`, in order, and checks and applies the records in
 * `apply` (Engine.applyRemote, via the peer), whose 'change' events reach WindowIndex.observe.
 *
 * Every message is answered from its own content and the local window set, so both peers may run
 * rounds at the same time and a lost message only ends a round early:
 *
 *   digest   equal ws, n and x: the round ends, nothing is answered (an idle round is one digest).
 *            another ws (the peers' clocks straddle a window boundary): ignored, the next round
 *            will agree. Otherwise: `buckets` (the fingerprints of every bucket at a first level)
 *            or, for small or very different sets, a `bloom` of the whole window set.
 *   buckets  the buckets whose fingerprints differ from ours are either split further (a
 *            `buckets` of their sub-buckets at the leaf level) or, at the leaf level or when most
 *            of them differ, covered by an announced `bloom` scoped to them.
 *   bloom    records of ours (in its scope) whose element is not in the filter are sent as
 *            `records`, in batches; unless it was a reply (or the announcer has no elements), our
 *            own filter of the same scope is sent back as a reply. A fresh salt for every filter.
 *   records  handed to the caller to check and apply.
 *
 * Each step of the descent goes to a deeper level (at most 12), and a reply filter is never
 * answered with a filter, so every exchange ends.
 */
import { INVALID_INPUT } from '../../core/errors.ts'
import type { MemoryRecord } from '../../core/model.ts'
import type { PageSeals } from '../../core/seals.ts'
import type { StoredState } from '../../store/Store.ts'
import { BloomFilter, bloomParams } from './bloom.ts'
import { GOSSIP_LIMITS, type BloomMessage, type BloomScope, type BucketsMessage, type DigestMessage, type GossipMessage, type RecordsMessage } from './gossipMessages.ts'
import { recordsMessages } from './recordBatches.ts'
import type { WindowReader } from './WindowIndex.ts'
import { FINE_BITS, FINGERPRINT_BYTES } from './windowElement.ts'

export interface GossipPeerOptions {
  /** The node's window set (one index shared by every peer; in a node, read through its LazyWindow). */
  readonly index: WindowReader
  /** Target false-positive rate of announced filters (p2p.bloomFpr). */
  readonly fpr: number
  /** Uniform in [0, 1): the salts of filters come from it (tests inject a seeded one). */
  readonly random: () => number
  /** Most records in one `records` message; clamped to the protocol's cap, GOSSIP_LIMITS.maxRecordsPerMessage (10,000). */
  readonly maxRecordsPerMessage: number
  /** Most records sent in answer to one filter (default 10,000); the rest go in later rounds. */
  readonly maxRecordsPerRound?: number
  /** Approximate most bytes of one `records` message (default 1 MiB; one larger record still goes alone). */
  readonly maxRecordsBytes?: number
  /** Compare bucket fingerprints before filtering (default true); false announces whole-window filters only. */
  readonly buckets?: boolean
  /**
   * Most bits of a filter this node announces (default 2^25 − 2^15: a filter fits a 4 MiB frame).
   * A larger set gets a filter of this size, with a higher false-positive rate.
   */
  readonly maxBloomBits?: number
}

/**
 * What to do after a message: messages to send (in order) and records (checked when the message
 * was parsed) to apply, with their signatures.
 */
export interface GossipOutput {
  readonly send: GossipMessage[]
  readonly apply: MemoryRecord[]
  readonly seals?: PageSeals
}

export interface GossipStats {
  /** Rounds this node started with the peer. */
  readonly round: number
  /** Filters announced to the peer (not replies) that it has not answered yet. */
  readonly pendingAnnouncements: number
  /** Elements of the local window set (during a start's build, those read so far). */
  readonly knownIds: number
  /** Elements in the last filter this node built. */
  readonly bloomItems: number
  /** Estimated false-positive rate of that filter (0 before any). */
  readonly bloomFpr: number
  /** Records sent to the peer by gossip. */
  readonly sent: number
  /** Records received from the peer by gossip. */
  readonly received: number
}

/** Target number of elements in a bucket at the leaf level of the descent. */
export const LEAF_BUCKET_ELEMENTS = 32

/**
 * The leaf level for a set of `n` elements: buckets of about LEAF_BUCKET_ELEMENTS elements,
 * ⌈log2(n / 32)⌉ clamped to 0 … 12 (0: filter the whole set at once).
 */
export function leafLevel (n: number): number {
  if (n <= 2 * LEAF_BUCKET_ELEMENTS) return 0
  return Math.min(FINE_BITS, Math.max(1, Math.ceil(Math.log2(n / LEAF_BUCKET_ELEMENTS))))
}

/**
 * The first level compared after unequal digests: ⌈log2(n)/2⌉ (about √n buckets, which balances
 * the fingerprints sent against the elements filtered when few records differ), at most the leaf level.
 */
export function firstLevel (n: number): number {
  return Math.min(leafLevel(n), Math.max(1, Math.ceil(Math.log2(Math.max(2, n)) / 2)))
}

const DEFAULT_RECORDS_PER_ROUND = 10_000
const DEFAULT_RECORDS_BYTES = 1024 * 1024
const DEFAULT_BLOOM_BITS = 2 ** 25 - 2 ** 15
/** Announced filters left unanswered for this many of our rounds are forgotten. */
const PENDING_ROUNDS = 2

/**
 * Gossip with one connected peer. One instance per peer (session), all sharing the node's
 * WindowIndex. Deterministic: given the same index contents and `random`, the same messages.
 *
 *   const peer = new GossipPeer({ index, fpr: 0.01, random: Math.random, maxRecordsPerMessage: 5_000 })
 *   send(peer.startRound())                               // every p2p.gossipIntervalMs
 *   const { send: out, apply } = peer.onMessage(parseGossipMessage(decoded))
 *   for (const m of out) send(m)                          // encode with toWire / encodeGossipFrame
 *   if (apply.length > 0) engine.applyRemote(apply, { via: peerId })
 *
 * Messages in `send` are in memory form (bucket selections as index lists); `toWire` gives the
 * map to msgpack. Throws PROTOCOL only for a message whose filter fields are invalid (a message
 * that passed parseGossipMessage never does).
 */
export class GossipPeer {
  private readonly index: WindowReader
  private readonly fpr: number
  private readonly random: () => number
  private readonly maxPerMessage: number
  private readonly maxPerRound: number
  private readonly maxBytes: number
  private readonly useBuckets: boolean
  private readonly maxBloomBits: number
  private round = 0
  /** Announced filters awaiting a reply: the message round and our round when sent. */
  private pending: { round: number, at: number }[] = []
  private bloomItems = 0
  private bloomFpr = 0
  private sent = 0
  private received = 0

  constructor (opts: GossipPeerOptions) {
    const positive = (v: number | undefined, field: string, fallback: number): number => {
      if (v === undefined) return fallback
      if (!Number.isSafeInteger(v) || v < 1) throw INVALID_INPUT(field, `must be an integer ≥ 1 (got ${String(v)})`)
      return v
    }
    this.index = opts.index
    this.fpr = opts.fpr
    this.random = opts.random
    this.maxPerMessage = Math.min(GOSSIP_LIMITS.maxRecordsPerMessage, positive(opts.maxRecordsPerMessage, 'maxRecordsPerMessage', GOSSIP_LIMITS.maxRecordsPerMessage))
    this.maxPerRound = positive(opts.maxRecordsPerRound, 'maxRecordsPerRound', DEFAULT_RECORDS_PER_ROUND)
    this.maxBytes = positive(opts.maxRecordsBytes, 'maxRecordsBytes', DEFAULT_RECORDS_BYTES)
    this.useBuckets = opts.buckets ?? true
    this.maxBloomBits = opts.maxBloomBits ?? DEFAULT_BLOOM_BITS
    bloomParams(0, opts.fpr, this.maxBloomBits) // checks fpr and maxBloomBits
  }

  /** Starts a round (round number + 1): the digest of the window set, to send to the peer. */
  startRound (): DigestMessage {
    this.round++
    this.pending = this.pending.filter(p => p.at >= this.round - PENDING_ROUNDS)
    const { ws, n, x } = this.index.digest()
    return { t: 'digest', round: this.round, ws, n, x }
  }

  /**
   * Handles one message from the peer (validated by parseGossipMessage): the messages to answer
   * with, in order, and the records it carried for the caller to merge.
   */
  onMessage (msg: GossipMessage): GossipOutput {
    switch (msg.t) {
      case 'digest': return this.onDigest(msg)
      case 'buckets': return this.onBuckets(msg)
      case 'bloom': return this.onBloom(msg)
      case 'records': return this.onRecords(msg)
    }
  }

  /** Counters of gossip with this peer (see GossipStats). */
  stats (): GossipStats {
    return {
      round: this.round,
      pendingAnnouncements: this.pending.length,
      knownIds: this.index.sizeSoFar,
      bloomItems: this.bloomItems,
      bloomFpr: this.bloomFpr,
      sent: this.sent,
      received: this.received
    }
  }

  private onDigest (msg: DigestMessage): GossipOutput {
    const mine = this.index.digest()
    if (msg.ws !== mine.ws) return nothing()
    if (msg.n === mine.n && equalBytes(msg.x, mine.x)) return nothing()
    const nMax = Math.max(msg.n, mine.n)
    const nMin = Math.min(msg.n, mine.n)
    // Buckets pay off when few elements differ; with sets of very different sizes most do.
    const level = this.useBuckets && nMax - nMin <= nMax / 2 ? firstLevel(nMax) : 0
    if (level === 0) return { send: [this.announce(msg.round, undefined, false)], apply: [] }
    const idx = Array.from({ length: 2 ** level }, (_, j) => j)
    return { send: [this.bucketsMessage(msg.round, level, idx)], apply: [] }
  }

  private onBuckets (msg: BucketsMessage): GossipOutput {
    const ws = this.index.windowStart()
    if (msg.ws !== ws) return nothing()
    const mine = this.index.bucketFingerprints(msg.b, msg.idx)
    const differing: number[] = []
    for (let i = 0; i < msg.idx.length; i++) {
      if (!equalBytes(msg.fp.subarray(i * FINGERPRINT_BYTES, (i + 1) * FINGERPRINT_BYTES), mine.subarray(i * FINGERPRINT_BYTES, (i + 1) * FINGERPRINT_BYTES))) {
        differing.push(msg.idx[i]!)
      }
    }
    if (differing.length === 0) return nothing()
    const leaf = Math.max(msg.b, leafLevel(Math.max(msg.n, this.index.size)))
    // Splitting helps only when the differences are few among these buckets.
    if (leaf === msg.b || differing.length * 2 > msg.idx.length) {
      return { send: [this.announce(msg.round, { b: msg.b, idx: differing }, false)], apply: [] }
    }
    const shift = leaf - msg.b
    const children: number[] = []
    for (const j of differing) for (let c = 0; c < 1 << shift; c++) children.push((j << shift) | c)
    return { send: [this.bucketsMessage(msg.round, leaf, children)], apply: [] }
  }

  private onBloom (msg: BloomMessage): GossipOutput {
    if (msg.ws !== this.index.windowStart()) return nothing()
    if (msg.reply) {
      const i = this.pending.findIndex(p => p.round === msg.round)
      if (i >= 0) this.pending.splice(i, 1)
    }
    const filter = BloomFilter.decode(msg)
    const level = msg.scope?.b ?? 0
    const buckets = msg.scope?.idx
    const send: GossipMessage[] = []
    // Our filter first: the announcer can work on it while our records travel.
    if (!msg.reply && msg.n > 0) send.push(this.announce(msg.round, msg.scope, true))
    const lacking: StoredState[] = []
    for (const e of this.index.elementsIn(level, buckets)) {
      if (filter.has(e.element)) continue
      const state = this.index.state(e.kind, e.key)
      if (state === undefined) continue
      lacking.push(state)
      if (lacking.length >= this.maxPerRound) break
    }
    this.sent += lacking.length
    // in the order of their batches' leaves (recordBatches.ts): the proofs of a message's records stay short
    send.push(...this.batches(msg.round, lacking))
    return { send, apply: [] }
  }

  private onRecords (msg: RecordsMessage): GossipOutput {
    this.received += msg.records.length
    return { send: [], apply: [...msg.records], ...(msg.seals !== undefined ? { seals: msg.seals } : {}) }
  }

  /** A filter of our elements in `scope` (all when undefined), with a fresh salt. */
  private announce (round: number, scope: BloomScope | undefined, reply: boolean): BloomMessage {
    const level = scope?.b ?? 0
    const n = this.index.countIn(level, scope?.idx)
    const filter = BloomFilter.create(bloomParams(n, this.fpr, this.maxBloomBits), this.freshSalt())
    for (const e of this.index.elementsIn(level, scope?.idx)) filter.add(e.element)
    this.bloomItems = n
    this.bloomFpr = filter.estimatedFpr()
    if (!reply) this.pending.push({ round, at: this.round })
    const msg: BloomMessage = { t: 'bloom', round, ws: this.index.windowStart(), salt: filter.salt, k: filter.k, m: filter.m, bits: filter.bits, n, reply }
    return scope === undefined ? msg : { ...msg, scope }
  }

  private bucketsMessage (round: number, b: number, idx: number[]): BucketsMessage {
    const { ws, n } = this.index.digest()
    return { t: 'buckets', round, ws, n, b, idx, fp: this.index.bucketFingerprints(b, idx) }
  }

  /**
   * Records in messages of at most maxRecordsPerMessage records and about maxRecordsBytes bytes,
   * each with the signatures of its records.
   */
  private batches (round: number, states: StoredState[]): RecordsMessage[] {
    return recordsMessages(round, states, id => this.index.batch(id), { maxPerMessage: this.maxPerMessage, maxBytes: this.maxBytes })
  }

  private freshSalt (): number {
    return Math.min(2 ** 32 - 1, Math.floor(this.random() * 2 ** 32)) >>> 0
  }
}

const nothing = (): GossipOutput => ({ send: [], apply: [] })

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
