/**
 * What this node knows (core/knowledge.ts), kept in memory over the store's tables: the
 * knowledge vector, the clock voids learnt and a summary of the records held aside. The engine
 * reads it on every remote batch (Rule A, what a received vector may teach, whether a void is
 * new) and refreshes it after each commit that changed it; the store stays the truth (a
 * restarted node reloads it).
 *
 * **Its own history.** A node's own entry is its clock mark: every stamp it issued is committed
 * or unused — true of the store that issued them. A store created empty under an identity that
 * may have written before (a recreated data directory: the composition root knows the identity
 * is older than the store) does not hold that identity's earlier states, which its peers still
 * have. So such a store, created empty, records when it was created (the
 * meta key `knowledge.ownFrom`): its own entry covers only stamps after that (Rule A lets its old
 * states come back from its peers), and it sends no entry for itself, so no peer takes its empty
 * past for deletions. The first peer feed it applies to the end with a vector completes it: it
 * holds all of its states that peer held, and from then on its own entry is its clock mark.
 */
import { compareMark, type HlcMark } from '../core/hlc.ts'
import type { NodeId } from '../core/ids.ts'
import { markBelow, stableMark, toLearn, type ClockVoid, type Knowledge, type KnowledgeEntry, type KnownMark, type SentKnowledgeEntry } from '../core/knowledge.ts'
import type { HeldOrigin, Store } from '../store/Store.ts'

/** What a node sends of its knowledge: its vector (its own entry its clock mark) and the voids it knows. */
export interface KnowledgeToSend {
  readonly entries: SentKnowledgeEntry[]
  readonly voids: ClockVoid[]
}

/** Meta key: the wall time this store was created empty, while its own history is incomplete ("0": complete). */
export const OWN_FROM_KEY = 'knowledge.ownFrom'

export class NodeKnowledge {
  private readonly store: Store
  private readonly self: NodeId
  /** The wall time before which this store may lack its own states (0: it holds its whole history). */
  private ownFrom: number
  private entries = new Map<NodeId, HlcMark>()
  private voidMap = new Map<NodeId, ClockVoid>()
  private heldMap = new Map<NodeId, HeldOrigin>()

  /**
   * `now`: the wall clock, recorded as the creation time of a store that is still empty when
   * `ownHistoryElsewhere` (its identity may have written states before it); a store created empty
   * for a new identity holds its whole (empty) history.
   */
  constructor (store: Store, self: NodeId, now: number, ownHistoryElsewhere = false) {
    this.store = store
    this.self = self
    let from = store.getMeta(OWN_FROM_KEY)
    if (from === undefined) {
      // A store written before this key existed holds its history; an empty one of an older identity starts now.
      const fresh = store.stats().lastSeq === 0 && store.clockMark().wall === 0
      from = fresh && ownHistoryElsewhere ? String(now) : '0'
      store.setMeta(OWN_FROM_KEY, from)
    }
    this.ownFrom = Number(from) || 0
    this.reload()
  }

  /** Whether this store lacks its own states from before it was created (see the file comment). */
  ownHistoryIncomplete (): boolean {
    return this.ownFrom > 0
  }

  /** The meta write that completes the own history, with a batch that learns a peer's vector (none when complete). */
  completesOwnHistory (): Array<readonly [string, string]> {
    return this.ownFrom > 0 ? [[OWN_FROM_KEY, '0']] : []
  }

  /** After the batch of completesOwnHistory() committed. */
  ownHistoryCompleted (): void {
    this.ownFrom = 0
  }

  /** Reads everything again from the store (after a commit that changed it). */
  reload (): void {
    this.entries = new Map(this.store.knowledge().map(e => [e.node, { wall: e.wall, counter: e.counter }]))
    this.voidMap = new Map(this.store.voids().map(v => [v.node, v]))
    this.reloadHeld()
  }

  reloadHeld (): void {
    this.heldMap = new Map(this.store.heldOrigins().map(o => [o.node, o]))
  }

  /** Every void recorded (the latest of each node). */
  voids (): ClockVoid[] {
    return [...this.voidMap.values()]
  }

  /** The latest void recorded for `node`. */
  voidOf (node: NodeId): ClockVoid | undefined {
    return this.voidMap.get(node)
  }

  /** The voids of `received` this node has not recorded yet (its own are never taken from others). */
  newVoids (received: readonly ClockVoid[] | undefined): ClockVoid[] {
    if (received === undefined) return []
    const out = new Map<NodeId, ClockVoid>()
    for (const v of received) {
      if (v.node === this.self || v.generation <= (this.voidMap.get(v.node)?.generation ?? 0)) continue
      const prev = out.get(v.node)
      if (prev === undefined || prev.generation < v.generation) out.set(v.node, v)
    }
    return [...out.values()]
  }

  /**
   * Rule A's vector for a batch: the knowledge as it is after `voids`, with this node's own
   * entry (its clock mark: every stamp it issued up to it is committed or unused; only those
   * after the store's creation while its own history is incomplete).
   */
  known (ownMark: HlcMark, voids: readonly ClockVoid[]): Knowledge {
    const k = new Map(this.entries)
    for (const v of voids) {
      const e = k.get(v.node)
      if (e !== undefined && compareMark(e, v) > 0) k.set(v.node, { wall: v.wall, counter: v.counter })
    }
    const own: KnownMark = this.ownFrom > 0 ? { ...ownMark, from: markBelow({ wall: this.ownFrom, counter: 0 }) } : ownMark
    k.set(this.self, own)
    return k
  }

  /**
   * Whether this node holds every state `node` issued with a stamp up to `mark` (invariant I):
   * its entry, lowered to the node's void, reaches `mark`. Its own entry is `ownMark`, and
   * counts only while its own history is complete.
   */
  covers (node: NodeId, mark: HlcMark, ownMark: HlcMark): boolean {
    let e: HlcMark | undefined
    if (node === this.self) e = this.ownFrom > 0 ? undefined : ownMark
    else e = this.entries.get(node)
    if (e === undefined) return false
    const v = this.voidMap.get(node)
    if (v !== undefined && compareMark(e, v) > 0) e = v
    return compareMark(e, mark) >= 0
  }

  /**
   * The entries of a received vector to learn with a batch that also holds `holding` aside and
   * records `voids` (core/knowledge.ts toLearn).
   */
  toLearn (received: readonly SentKnowledgeEntry[] | undefined, voids: readonly ClockVoid[], holding: readonly { readonly hlc: { readonly node: NodeId, readonly wall: number, readonly counter: number } }[]): KnowledgeEntry[] {
    if (received === undefined || received.length === 0) return []
    const voidOf = new Map(this.voidMap)
    for (const v of voids) voidOf.set(v.node, v)
    const heldMin = new Map<NodeId, HlcMark>([...this.heldMap].map(([n, o]) => [n, o.min]))
    for (const { hlc } of holding) {
      const m = heldMin.get(hlc.node)
      if (m === undefined || compareMark(hlc, m) < 0) heldMin.set(hlc.node, { wall: hlc.wall, counter: hlc.counter })
    }
    return toLearn(received, {
      current: this.known({ wall: 0, counter: 0 }, voids),
      voidOf: n => voidOf.get(n),
      heldMin: n => heldMin.get(n),
      self: this.self
    })
  }

  /**
   * What this node sends: its vector with each entry's void generation, its own entry `ownMark`
   * (none while its own history is incomplete), and every void it knows.
   */
  toSend (ownMark: HlcMark): KnowledgeToSend {
    const entries: SentKnowledgeEntry[] = []
    for (const [node, m] of this.entries) {
      if (node === this.self) continue
      entries.push({ node, wall: m.wall, counter: m.counter, generation: this.voidMap.get(node)?.generation ?? 0 })
    }
    if (this.ownFrom === 0) entries.push({ node: this.self, wall: ownMark.wall, counter: ownMark.counter, generation: this.voidMap.get(this.self)?.generation ?? 0 })
    return { entries, voids: [...this.voidMap.values()] }
  }

  /** Rule B's stable mark (core/knowledge.ts stableMark). */
  stable (now: number, goneMs: number): HlcMark | undefined {
    return stableMark(this.list(), this.self, now, goneMs)
  }

  list (): KnowledgeEntry[] {
    return [...this.entries].map(([node, m]) => ({ node, wall: m.wall, counter: m.counter }))
  }

  /** The records held aside, per origin. */
  held (): HeldOrigin[] {
    return [...this.heldMap.values()]
  }

  /** How many records are held aside. */
  heldCount (): number {
    let n = 0
    for (const o of this.heldMap.values()) n += o.count
    return n
  }

  /** The smallest stamp's wall held aside (undefined: none). */
  heldMinWall (): number | undefined {
    let w: number | undefined
    for (const o of this.heldMap.values()) if (w === undefined || o.min.wall < w) w = o.min.wall
    return w
  }
}
