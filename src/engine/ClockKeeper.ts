/**
 * The engine's clock work (docs/SYNC.md, "Deletes that stay deleted" and "Clocks"): the records
 * held aside — what they amount to per origin, and their release once the clock reaches them —,
 * the ticks that keep this node's own knowledge entry moving, Rule B's tombstone collection and
 * the clock repair (clockRepair.ts).
 *
 * Held records passed the provenance gate before they were held (Engine.applyChecked) and keep
 * their seals while held; a release applies them with those seals through the same path as a
 * batch from the peer they came from (voids, Rule A, the merge), without checking them again and
 * without moving any cursor. A clock repair's re-stamped states are signed by this node like any
 * local write, and the states they replace go to history.
 */
import { goneMembers, voidedInTransit } from '../core/knowledge.ts'
import { compareMark, type HlcMark, type HybridClock } from '../core/hlc.ts'
import type { NodeId } from '../core/ids.ts'
import type { MemoryRecord } from '../core/model.ts'
import type { SignedBatch } from '../core/signing.ts'
import type { ApplyResult, ApplySeals, HeldRecord, Store } from '../store/Store.ts'
import { repairClock, type ClockRepairResult } from './clockRepair.ts'
import type { KnowledgeToSend, NodeKnowledge } from './NodeKnowledge.ts'

/** How far the persisted clock mark may lag the wall clock before a tick writes it (ms). */
const TICK_MS = 1000

/** Most held records one sweep for void states reads (the rest wait for the next sweep). */
const VOID_SWEEP_LIMIT = 10_000

/** Records held aside from one origin, for status and logs. */
export interface HeldSummary {
  readonly node: NodeId
  readonly count: number
  /** How far ahead of this node's clock the newest is, ms. */
  readonly aheadMs: number
  /** When the first of them applies (ms since the epoch): its stamp minus the drift allowed. */
  readonly appliesAt: number
}

/** What the clock work needs of the engine. */
export interface ClockKeeperDeps {
  readonly store: Store
  readonly node: NodeId
  readonly clock: HybridClock
  readonly knowledge: NodeKnowledge
  /** This node's seals of its own states (absent: it does not sign). */
  readonly seal: (records: readonly MemoryRecord[], at: HlcMark) => ApplySeals | undefined
  /** Applies released records that came from `via`, with their seals, leaving the held set (`release`). */
  readonly release: (records: readonly MemoryRecord[], seals: ApplySeals | undefined, via: NodeId | undefined, release: readonly number[]) => void
  /** Tells listeners about a commit made here. */
  readonly notify: (result: ApplyResult) => void
}

export class ClockKeeper {
  private readonly d: ClockKeeperDeps

  constructor (deps: ClockKeeperDeps) {
    this.d = deps
  }

  /** The records held aside, per origin: how many, how far ahead, when they apply. */
  heldSummary (pt: number = this.d.clock.wallNow()): HeldSummary[] {
    return this.d.knowledge.held().map(o => ({ node: o.node, count: o.count, aheadMs: o.max.wall - pt, appliesAt: o.min.wall - this.d.clock.maxDriftMs }))
  }

  /**
   * Applies the held records the clock has reached (stamped within the drift guard now), each
   * with its seal, through the same path as a batch from the peer it came from, without moving
   * any cursor. Returns how many were released.
   */
  releaseDue (): number {
    const { clock, knowledge, store } = this.d
    let released = 0
    for (let round = 0; round < 1000; round++) {
      const pt = clock.wallNow()
      const minWall = knowledge.heldMinWall()
      if (minWall === undefined || minWall > pt + clock.maxDriftMs) return released
      const due = store.held({ limit: 1000, upToWall: pt + clock.maxDriftMs })
      if (due.length === 0) { knowledge.reloadHeld(); return released }
      const byVia = new Map<NodeId | undefined, HeldRecord[]>()
      for (const h of due) {
        let list = byVia.get(h.via)
        if (list === undefined) byVia.set(h.via, list = [])
        list.push(h)
      }
      for (const [via, list] of byVia) {
        this.d.release(list.map(h => h.record), heldSeals(store, list), via, list.map(h => h.id))
        released += list.length
      }
    }
    return released
  }

  /**
   * Drops the held records that a void recorded here makes void although they arrived after it
   * (core/knowledge.ts voidedInTransit: stamped above their origin's latest void and still beyond
   * the drift guard). A void drops what is held when it is learnt; a state that arrives later —
   * a gossip batch checked while the repaired feed applied, a page sent before the repair and
   * delivered after the void came through another peer — would otherwise stay held until its
   * time, and then apply an old write over the re-stamped one. Only for origins whose clock is
   * `settled` (this node's clock agrees with its peers' and the origin's with this node's): a
   * state stamped that far ahead of a settled origin's clock was stamped while that clock ran
   * ahead, and the origin re-stamps it (its repair, or its next one). A node whose own clock is
   * behind, or an origin whose clock still runs ahead, keeps its records held. Returns how many
   * were dropped.
   */
  dropVoidedHeld (settled: (origin: NodeId) => boolean): number {
    const { clock, knowledge, store } = this.d
    const voided = knowledge.held().some(o => {
      const v = knowledge.voidOf(o.node)
      return v !== undefined && compareMark(o.max, v) > 0 && settled(o.node)
    })
    if (!voided) return 0
    const pt = clock.wallNow()
    const ids = store.held({ limit: VOID_SWEEP_LIMIT })
      .filter(h => settled(h.record.hlc.node) && voidedInTransit(h.record.hlc, knowledge.voidOf(h.record.hlc.node), clock.isTooFarAhead(h.record.hlc, pt)))
      .map(h => h.id)
    if (ids.length > 0) store.apply([], { clock: clock.last, release: ids })
    knowledge.reloadHeld()
    return ids.length
  }

  /**
   * Advances the clock's persisted mark to the wall clock when it is more than a second behind
   * it (a "tick"), so an idle node's own knowledge entry keeps moving and its peers can collect
   * tombstones (Rule B); at most one store write a second. Returns the persisted mark (the
   * entry this node advertises for itself: only persisted marks are advertised).
   */
  tick (): HlcMark {
    const { clock, store } = this.d
    const pt = clock.wallNow()
    const persisted = store.clockMark()
    if (pt - persisted.wall < TICK_MS) return persisted
    if (pt > clock.last.wall) clock.advanceTo({ wall: pt, counter: 0 })
    store.apply([], { clock: clock.last })
    return store.clockMark()
  }

  /** What to send a peer with a page that reaches the end of the feed: ticks first. */
  knowledgeToSend (): KnowledgeToSend {
    return this.d.knowledge.toSend(this.tick())
  }

  /**
   * Collects tombstones older than `ttlMs` that every member that is not gone (no news of it
   * for `goneMs`, core/knowledge.ts stableMark) knows past, into history. Returns how many, the
   * stable mark, and the members declared gone.
   */
  collectTombstones (ttlMs: number, goneMs: number): { removed: number, stable: HlcMark | undefined, gone: NodeId[] } {
    const { clock, knowledge, store, node } = this.d
    const now = clock.wallNow()
    const stable = knowledge.stable(now, goneMs)
    const removed = store.collectTombstones(Math.max(0, Math.floor(now - ttlMs)), stable)
    return { removed, stable, gone: goneMembers(knowledge.list(), node, now, goneMs) }
  }

  /**
   * Repairs the clock after a wall clock that ran ahead was fixed (clockRepair.ts): the caller
   * has checked that this node's wall clock agrees with its peers'. Undefined when the persisted
   * mark is not ahead of the wall clock by more than the drift guard.
   */
  repairClock (): ClockRepairResult | undefined {
    const { store, clock, node, knowledge } = this.d
    const result = repairClock({ store, clock, node, voidOf: n => knowledge.voidOf(n), seal: this.d.seal })
    if (result === undefined) return undefined
    knowledge.reload()
    this.d.notify(result.applied)
    return result
  }
}

/** The seals of held records as `Store.apply` takes them (their batches read back from the store). */
function heldSeals (store: Store, held: readonly HeldRecord[]): ApplySeals | undefined {
  if (held.every(h => h.seal === undefined)) return undefined
  const index = new Map<number, number>()
  const batches: SignedBatch[] = []
  const refs = held.map(h => {
    if (h.seal === undefined) return undefined
    let i = index.get(h.seal.batch)
    if (i === undefined) {
      const batch = store.getBatch(h.seal.batch)
      // A held record's batch is kept while it is held (its count includes the record).
      if (batch === undefined) return undefined
      i = batches.length
      batches.push(batch)
      index.set(h.seal.batch, i)
    }
    return { batch: i, leaf: h.seal.leaf }
  })
  return { batches, refs }
}
