/**
 * Coded reconciliation rounds with one peer (docs/PROTOCOL.md §3, "Coded rounds"), as a pure
 * state machine like GossipPeer (gossip.ts): no I/O, no timers. It finds the records one peer
 * holds in its window set and the other lacks with rateless coded symbols (riblt.ts), at a cost
 * close to the difference itself, where the bloom rounds send a filter of the whole window.
 *
 *   rdigest   the initiator's symbol 0 (all its elements: XOR of their ids and checksums, count)
 *             and difference sketch (diffEstimate.ts), both kept by the WindowIndex as the set
 *             changes, so starting a round costs O(1). The peer subtracts its own symbol 0:
 *             empty, the sets are equal and nothing is answered (an idle round is one message);
 *             one id alone, the one difference is settled at once (`records` of it, or `rwant`
 *             of it), unless this node holds it when it should lack it or the reverse (several
 *             ids passing for one: a wrong decode, settled by symbols). Otherwise the peer
 *             sends its own coded symbols, as many as the estimated difference needs with a
 *             margin for the estimate's error (reconSizing.ts firstBatch), in one message; in version 2, for an
 *             estimate of at most POLY_MAX_ESTIMATE, its characteristic polynomial at a few
 *             points instead (`rpoly`, charPoly.ts: 4 bytes a point, not 13 a symbol).
 *   rpoly     the initiator decodes the difference from it (checked: P's roots are its own
 *             elements); decoded, it sends `rpwant` of Q and `records` it holds; not, `rmore`
 *             for symbols from index 0 (one more round trip).
 *   rpwant    the records of the elements whose values are roots of Q.
 *   rsymbols  the initiator peels them (riblt.ts); decoded, it sends `records` the peer lacks
 *             and `rwant` of the ids it lacks; short of symbols, `rmore` (a quarter more).
 *   rmore     the next symbols, up to the index asked for.
 *   rwant     the records of the ids asked for, as `records` (unknown ids are skipped).
 *   records   handed to the caller to check and apply, as in the bloom rounds.
 *
 * Version 2 (hello `rc` 2 on both ends) sends the same messages in their compact forms
 * (reconMessages.ts: short types and fields, a narrow sketch, ids asked for by their high halves,
 * `rr` for records); a peer answers each message in the form it came in, and starts its own
 * rounds in its `version`.
 *
 * Two round trips settle a difference the first batch of symbols decodes (about 91 – 99 % of
 * rounds, by d, up to about 11,000 differences); each `rmore` adds one. A round that needs more
 * than RIBLT_LIMITS.maxSymbols symbols (tens of thousands of
 * differences) gives up (`stats().failed`), and the caller falls back to a bloom round.
 */
import { INVALID_INPUT } from '../../core/errors.ts'
import type { MemoryRecord } from '../../core/model.ts'
import type { PageSeals } from '../../core/seals.ts'
import type { StoredState } from '../../store/Store.ts'
import { decode as decodePoly, evaluations, packField, rootsIn, unpackField, VERIFY_POINTS } from './charPoly.ts'
import { estimateDifference, narrowSketch } from './diffEstimate.ts'
import { GOSSIP_LIMITS, type RecordsMessage } from './gossipMessages.ts'
import { packHighs, packIds, RECON_LIMITS, unpackHighs, unpackIds, type CodedRecordsMessage, type CodedRoundMessage, type MoreMessage, type PolyMessage, type PolyWantMessage, type ReconDigestMessage, type SymbolsMessage, type WantMessage } from './reconMessages.ts'
import { recordsMessages } from './recordBatches.ts'
import { firstBatch, nextBatch, POLY_MAX_ESTIMATE, polyPoints } from './reconSizing.ts'
import { compareSymbolZero, idHi, idLo, idsOf, RIBLT_LIMITS, RibltDecoder, RibltEncoder } from './riblt.ts'
import type { WindowReader } from './WindowIndex.ts'
import { FINE_BITS } from './windowElement.ts'

export interface ReconPeerOptions {
  /** The node's window set (one index shared by every peer; in a node, read through its LazyWindow). */
  readonly index: WindowReader
  /** Most records in one `records` message; clamped to GOSSIP_LIMITS.maxRecordsPerMessage. */
  readonly maxRecordsPerMessage: number
  /** Approximate most bytes of one `records` message (default 1 MiB). */
  readonly maxRecordsBytes?: number
  /** The version of coded rounds run with the peer (both ends speak it: SessionRounds.ts codedAgreed); default 2. */
  readonly version?: ReconVersion
}

/** A version of coded rounds: 1, named fields; 2, compact forms (reconMessages.ts). */
export type ReconVersion = 1 | 2

/** The version-2 tag of a message answering (or starting a round in) version `v`. */
const form = (v: ReconVersion): { v?: 2 } => (v === 2 ? { v: 2 } : {})
const versionOf = (msg: { readonly v?: number }): ReconVersion => (msg.v === 2 ? 2 : 1)

/** What to do after a message: messages to send (in order), records to check and apply. */
export interface ReconOutput {
  readonly send: CodedRoundMessage[]
  readonly apply: MemoryRecord[]
  readonly seals?: PageSeals
}

export interface ReconStats {
  /** Rounds this node started with the peer. */
  readonly round: number
  /** Own rounds whose difference was decoded. */
  readonly decoded: number
  /** Own rounds given up: more than RIBLT_LIMITS.maxSymbols symbols needed. */
  readonly failed: number
  /** Coded symbols sent to and received from the peer. */
  readonly symbolsSent: number
  readonly symbolsReceived: number
  /** Records sent to and received from the peer by these rounds. */
  readonly sent: number
  readonly received: number
}

const DEFAULT_RECORDS_BYTES = 1024 * 1024

/** Calls of startRound in a row without an answer after which a round the peer had answered is given up. */
export const STALLED_TICKS = 3

/** The window start as a version-2 `rdigest` carries it. */
const wsMod = (ws: number): number => ws % 2 ** 32

/** This node's round in progress; `quiet`: calls of startRound since the peer last answered it. */
interface Own { readonly round: number, decoder?: RibltDecoder, quiet: number }
/** The peer's round we answer; the encoder is made at the first symbols asked for (a round answered with `rpoly` may have none). */
interface Theirs { readonly round: number, encoder?: RibltEncoder }

/**
 * Coded rounds with one connected peer; one instance per session, all sharing the node's
 * WindowIndex. Deterministic given the index contents.
 *
 *   const peer = new ReconPeer({ index, maxRecordsPerMessage: 5_000 })
 *   send(peer.startRound())                    // every p2p.gossipIntervalMs
 *   const { send: out, apply } = peer.onMessage(parsed)
 */
export class ReconPeer {
  private readonly index: WindowReader
  private readonly limits: { maxPerMessage: number, maxBytes: number }
  private readonly version: ReconVersion
  private round = 0
  /** Our latest round (one at a time: a newer round forgets an older one). */
  private own: Own | undefined
  /** The peer's latest round that asked for our symbols. */
  private theirs: Theirs | undefined
  private counts = { decoded: 0, failed: 0, symbolsSent: 0, symbolsReceived: 0, sent: 0, received: 0 }

  constructor (opts: ReconPeerOptions) {
    const positive = (v: number | undefined, field: string, fallback: number): number => {
      if (v === undefined) return fallback
      if (!Number.isSafeInteger(v) || v < 1) throw INVALID_INPUT(field, `must be an integer ≥ 1 (got ${String(v)})`)
      return v
    }
    this.index = opts.index
    this.limits = {
      maxPerMessage: Math.min(GOSSIP_LIMITS.maxRecordsPerMessage, positive(opts.maxRecordsPerMessage, 'maxRecordsPerMessage', GOSSIP_LIMITS.maxRecordsPerMessage)),
      maxBytes: positive(opts.maxRecordsBytes, 'maxRecordsBytes', DEFAULT_RECORDS_BYTES)
    }
    this.version = opts.version ?? 2
  }

  /**
   * Starts a round: the digest to send to the peer; or undefined while this node's round is still
   * going: the peer has answered it with symbols and has not been silent for STALLED_TICKS calls
   * in a row. A round that needs several batches of symbols on a slow link or a loaded machine
   * so finishes instead of being started over at every tick. A round the peer has not answered
   * (equal sets are not answered) is replaced by a new one at the next call.
   */
  startRound (): ReconDigestMessage | undefined {
    const own = this.own
    if (own?.decoder !== undefined && own.quiet < STALLED_TICKS) {
      own.quiet++
      return undefined
    }
    this.round++
    this.own = { round: this.round, quiet: 0 }
    const { ws, s, e } = this.index.codedDigest()
    return this.version === 2
      ? { t: 'rdigest', v: 2, round: this.round, ws: wsMod(ws), s, e: narrowSketch(e) }
      : { t: 'rdigest', round: this.round, ws, s, e }
  }

  /** Handles one message from the peer (validated by parseReconMessage, or a parsed `records`). */
  onMessage (msg: CodedRoundMessage): ReconOutput {
    switch (msg.t) {
      case 'rdigest': return this.onDigest(msg)
      case 'rsymbols': return this.onSymbols(msg)
      case 'rmore': return this.onMore(msg)
      case 'rwant': return this.onWant(msg)
      case 'rpoly': return this.onPoly(msg)
      case 'rpwant': return this.onPolyWant(msg)
      case 'records': return this.onRecords(msg)
    }
  }

  stats (): ReconStats {
    return { round: this.round, ...this.counts }
  }

  private onDigest (msg: ReconDigestMessage): ReconOutput {
    const v = versionOf(msg)
    const mine = this.index.codedDigest()
    if (msg.ws !== (v === 2 ? wsMod(mine.ws) : mine.ws)) return nothing()
    // symbol 0 alone settles equal sets and a single difference
    const zero = compareSymbolZero(msg.s, mine.s)
    if (zero.kind === 'equal') return nothing()
    // a single difference is one this node holds (sign −1) or lacks (+1); one that is not so is
    // a wrong decode (several ids passing for one), settled by symbols like any larger difference
    if (zero.kind === 'one' && this.holds(zero.hi, zero.lo) === (zero.sign < 0)) {
      const id = Uint32Array.of(zero.hi, zero.lo)
      return zero.sign > 0 ? this.settle(msg.round, v, id, new Uint32Array(0)) : this.settle(msg.round, v, new Uint32Array(0), id)
    }
    const estimate = estimateDifference(msg.e, v === 2 ? narrowSketch(mine.e) : mine.e)
    if (v === 2 && estimate <= POLY_MAX_ESTIMATE) {
      // a small difference: the characteristic polynomial at a few points (charPoly.ts)
      this.theirs = { round: msg.round }
      const e = evaluations(this.ids(), msg.round, polyPoints(estimate))
      return { send: [{ t: 'rpoly', v: 2, round: msg.round, count: mine.s[12]!, e: packField(e) }], apply: [] }
    }
    const encoder = new RibltEncoder(this.ids())
    this.theirs = { round: msg.round, encoder }
    const s = encoder.next(firstBatch(estimate))
    this.counts.symbolsSent += encoder.produced
    return { send: [{ t: 'rsymbols', ...form(v), round: msg.round, from: 0, s }], apply: [] }
  }

  private onSymbols (msg: SymbolsMessage): ReconOutput {
    const own = this.own
    if (own === undefined || own.round !== msg.round) return nothing()
    own.decoder ??= new RibltDecoder(this.ids())
    const decoder = own.decoder
    if (msg.from !== decoder.received) return nothing()
    own.quiet = 0
    decoder.add(msg.s)
    this.counts.symbolsReceived += decoder.received - msg.from
    if (decoder.done) {
      this.own = undefined
      this.counts.decoded++
      const { remote, local } = decoder.difference()
      return this.settle(msg.round, versionOf(msg), remote, local)
    }
    if (decoder.received >= RIBLT_LIMITS.maxSymbols) {
      this.own = undefined
      this.counts.failed++
      return nothing()
    }
    return { send: [{ t: 'rmore', ...form(versionOf(msg)), round: msg.round, to: nextBatch(decoder.received) }], apply: [] }
  }

  /**
   * The peer's polynomial: the difference decoded (charPoly.ts) and checked (every root of P one of
   * our elements' values), settled as after symbols, Q's coefficients in place of `rwant`; or not
   * decoded (larger than the points allow, or a wrong decode caught), symbols asked for instead.
   */
  private onPoly (msg: PolyMessage): ReconOutput {
    const own = this.own
    if (own === undefined || own.round !== msg.round || own.decoder !== undefined) return nothing()
    const ids = this.ids()
    const theirs = unpackField(msg.e)
    const mine = evaluations(ids, msg.round, theirs.length)
    const delta = (((this.index.codedDigest().s[12]! - msg.count) & 0xff) << 24) >> 24
    const found = decodePoly(mine, theirs, delta)
    const roots = found === undefined ? undefined : rootsIn(ids, msg.round, found.own)
    if (found === undefined || roots === undefined || roots.distinct !== found.own.length) {
      return { send: [{ t: 'rmore', v: 2, round: msg.round, to: firstBatch(Math.max(1, theirs.length - VERIFY_POINTS)) }], apply: [] }
    }
    this.own = undefined
    this.counts.decoded++
    const local = new Uint32Array(roots.indices.length * 2)
    roots.indices.forEach((k, i) => { local[2 * i] = ids[2 * k]!; local[2 * i + 1] = ids[2 * k + 1]! })
    const states = this.statesOf(local)
    this.counts.sent += states.length
    const send: CodedRoundMessage[] = found.theirs.length > 0 ? [{ t: 'rpwant', v: 2, round: msg.round, q: packField(found.theirs) }] : []
    send.push(...this.records(msg.round, 2, states))
    return { send, apply: [] }
  }

  /** Records of the elements whose values are roots of the peer's Q (any that are: a wrong Q sends records the peer holds, a no-op). */
  private onPolyWant (msg: PolyWantMessage): ReconOutput {
    const ids = this.ids()
    const { indices } = rootsIn(ids, msg.round, unpackField(msg.q))
    const want = new Uint32Array(indices.length * 2)
    indices.forEach((k, i) => { want[2 * i] = ids[2 * k]!; want[2 * i + 1] = ids[2 * k + 1]! })
    const states = this.statesOf(want)
    this.counts.sent += states.length
    return { send: this.records(msg.round, 2, states), apply: [] }
  }

  private onMore (msg: MoreMessage): ReconOutput {
    const theirs = this.theirs
    if (theirs === undefined || theirs.round !== msg.round) return nothing()
    const encoder = theirs.encoder ??= new RibltEncoder(this.ids())
    if (msg.to <= encoder.produced) return nothing()
    const from = encoder.produced
    const s = encoder.next(Math.min(msg.to, from + RECON_LIMITS.maxSymbolsPerMessage))
    this.counts.symbolsSent += encoder.produced - from
    return { send: [{ t: 'rsymbols', ...form(versionOf(msg)), round: msg.round, from, s }], apply: [] }
  }

  private onWant (msg: WantMessage): ReconOutput {
    const states = msg.v === 2 ? this.statesByHigh(unpackHighs(msg.ids)) : this.statesOf(unpackIds(msg.ids))
    this.counts.sent += states.length
    return { send: this.records(msg.round, versionOf(msg), states), apply: [] }
  }

  private onRecords (msg: RecordsMessage): ReconOutput {
    this.counts.received += msg.records.length
    return { send: [], apply: [...msg.records], ...(msg.seals !== undefined ? { seals: msg.seals } : {}) }
  }

  /** After a decode: a request for the ids only the peer has, and our records of the ids only we have. */
  private settle (round: number, v: ReconVersion, remote: Uint32Array, local: Uint32Array): ReconOutput {
    const states = this.statesOf(local)
    this.counts.sent += states.length
    const send: CodedRoundMessage[] = []
    for (let i = 0; i < remote.length / 2; i += RECON_LIMITS.maxIdsPerMessage) {
      const to = Math.min(remote.length / 2, i + RECON_LIMITS.maxIdsPerMessage)
      send.push({ t: 'rwant', ...form(v), round, ids: v === 2 ? packHighs(remote, i, to) : packIds(remote, i, to) })
    }
    send.push(...this.records(round, v, states))
    return { send, apply: [] }
  }

  private records (round: number, v: ReconVersion, states: StoredState[]): CodedRecordsMessage[] {
    const out = recordsMessages(round, states, id => this.index.batch(id), this.limits)
    return v === 2 ? out.map(m => ({ ...m, v: 2 })) : out
  }

  /** True when the window set holds an element with id (hi, lo). */
  private holds (hi: number, lo: number): boolean {
    for (const e of this.index.elementsIn(FINE_BITS, [hi >>> (32 - FINE_BITS)])) {
      if (idHi(e.element) === hi && idLo(e.element) === lo) return true
    }
    return false
  }

  /** The ids of the window set's elements. */
  private ids (): Uint32Array {
    return idsOf(mapIter(this.index.elements(), e => e.element), this.index.size)
  }

  /** The current states of the window elements with the given ids (unknown ids are skipped), found by fine bucket. */
  private statesOf (ids: Uint32Array): StoredState[] {
    const out: StoredState[] = []
    const seen = new Set<string>()
    for (let i = 0; i < ids.length; i += 2) {
      const hi = ids[i]!
      const lo = ids[i + 1]!
      if (seen.has(`${hi}:${lo}`)) continue
      seen.add(`${hi}:${lo}`)
      for (const e of this.index.elementsIn(FINE_BITS, [hi >>> (32 - FINE_BITS)])) {
        if (idHi(e.element) !== hi || idLo(e.element) !== lo) continue
        const state = this.index.state(e.kind, e.key)
        if (state !== undefined) out.push(state)
        break
      }
    }
    return out
  }

  /**
   * The current states of the window elements whose ids start with the given high halves (version
   * 2's `rwant`): every such element, usually the one asked for alone (another shares its high
   * half with chance n / 2^32, and its record, which the peer holds already, travels too).
   */
  private statesByHigh (his: Uint32Array): StoredState[] {
    const out: StoredState[] = []
    for (const hi of new Set(his)) {
      for (const e of this.index.elementsIn(FINE_BITS, [hi >>> (32 - FINE_BITS)])) {
        if (idHi(e.element) !== hi) continue
        const state = this.index.state(e.kind, e.key)
        if (state !== undefined) out.push(state)
      }
    }
    return out
  }
}

const nothing = (): ReconOutput => ({ send: [], apply: [] })

function * mapIter<A, B> (it: Iterable<A>, f: (a: A) => B): IterableIterator<B> {
  for (const a of it) yield f(a)
}
