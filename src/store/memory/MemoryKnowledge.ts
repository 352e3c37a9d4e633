/**
 * What a MemoryStore knows and holds aside (the `knowledge`, `voids` and `held` tables of the
 * SQLite store, store/sqlite/knowledge.ts): the knowledge vector, the latest clock void of each
 * node and the records held aside with their seals. One `apply` stages its changes
 * (`KnowledgeStaging`: voids first, then releases, holds and what it learns) and they take
 * effect only when the whole batch succeeded. A held record's batch counts it (BatchStaging), so
 * the batch is kept while the record is held.
 */
import { compareHlc, compareMark, type HlcMark } from '../../core/hlc.ts'
import type { NodeId } from '../../core/ids.ts'
import type { ClockVoid, KnowledgeEntry } from '../../core/knowledge.ts'
import type { MemoryRecord } from '../../core/model.ts'
import type { StoredSeal } from '../../core/seals.ts'
import { checkPage } from '../checks.ts'
import { heldIdent } from '../decide.ts'
import { compareText } from '../order.ts'
import type { ApplyOptions, HeldOrigin, HeldRecord } from '../Store.ts'
import type { BatchStaging } from './MemoryBatches.ts'

/** The changes one `apply` makes to what the store knows and holds. */
export interface KnowledgeStaging {
  readonly knowledge: Map<NodeId, HlcMark>
  readonly voids: Map<NodeId, ClockVoid>
  /** Held records leaving (voided or released), by id. */
  readonly drop: Set<number>
  readonly holding: HeldRecord[]
  readonly idents: Set<string>
  next: number
  /** How many held records the batch's voids dropped. */
  readonly voided: number
}

export class MemoryKnowledge {
  private readonly entries = new Map<NodeId, HlcMark>()
  private readonly voidMap = new Map<NodeId, ClockVoid>()
  /** Held records by id; `heldIdents` the identities among them. */
  private readonly heldMap = new Map<number, HeldRecord>()
  private readonly heldIdents = new Set<string>()
  private heldNext = 1

  /** Stages the voids of a batch (what they void no longer held) and the releases; their batches' counts to `batches`. */
  stage (opts: ApplyOptions, batches: BatchStaging): KnowledgeStaging {
    const voids = new Map(this.voidMap)
    const knowledge = new Map(this.entries)
    const voidedIds = new Set<number>()
    for (const v of opts.voids ?? []) {
      if ((voids.get(v.node)?.generation ?? 0) >= v.generation) continue
      voids.set(v.node, v)
      for (const [id, h] of this.heldMap) if (h.record.hlc.node === v.node && compareMark(h.record.hlc, v) > 0) voidedIds.add(id)
      const k = knowledge.get(v.node)
      if (k !== undefined && compareMark(k, v) > 0) knowledge.set(v.node, { wall: v.wall, counter: v.counter })
    }
    const drop = new Set<number>([...voidedIds, ...(opts.release ?? [])])
    for (const id of drop) batches.count(this.heldMap.get(id)?.seal?.batch, -1)
    return { knowledge, voids, drop, holding: [], idents: new Set(), next: this.heldNext, voided: voidedIds.size }
  }

  /** Stages holding `r` aside; false when that very state is held already. */
  hold (st: KnowledgeStaging, r: MemoryRecord, via: NodeId | undefined, at: number, seal: StoredSeal | undefined): boolean {
    const ident = heldIdent(r)
    if (this.heldIdents.has(ident) || st.idents.has(ident)) return false
    st.idents.add(ident)
    st.holding.push({ id: st.next++, record: r, via, arrivedAt: at, ...(seal !== undefined ? { seal } : {}) })
    return true
  }

  /** Stages raising each entry to the one learnt (never lowering). */
  learn (st: KnowledgeStaging, learnt: readonly KnowledgeEntry[]): void {
    for (const e of learnt) {
      const k = st.knowledge.get(e.node)
      if (k === undefined || compareMark(e, k) > 0) st.knowledge.set(e.node, { wall: e.wall, counter: e.counter })
    }
  }

  commit (st: KnowledgeStaging): void {
    for (const id of st.drop) {
      const h = this.heldMap.get(id)
      if (h === undefined) continue
      this.heldMap.delete(id)
      this.heldIdents.delete(heldIdent(h.record))
    }
    for (const h of st.holding) { this.heldMap.set(h.id, h); this.heldIdents.add(heldIdent(h.record)) }
    this.heldNext = st.next
    this.entries.clear()
    for (const [k, v] of st.knowledge) this.entries.set(k, v)
    for (const [k, v] of st.voids) this.voidMap.set(k, v)
  }

  /** Records this node's own void, whatever was recorded. */
  setVoid (v: ClockVoid): void {
    this.voidMap.set(v.node, v)
  }

  knowledge (): KnowledgeEntry[] {
    return [...this.entries].sort(([a], [b]) => compareText(a, b)).map(([node, m]) => ({ node, wall: m.wall, counter: m.counter }))
  }

  voids (): ClockVoid[] {
    return [...this.voidMap.values()].sort((a, b) => compareText(a.node, b.node))
  }

  held (opts: { readonly limit: number, readonly upToWall?: number }): HeldRecord[] {
    checkPage({ limit: opts.limit, offset: 0 })
    const upTo = opts.upToWall
    return [...this.heldMap.values()]
      .filter(h => upTo === undefined || h.record.hlc.wall <= upTo)
      .sort((a, b) => compareHlc(a.record.hlc, b.record.hlc) || a.id - b.id)
      .slice(0, opts.limit)
  }

  origins (): HeldOrigin[] {
    const by = new Map<NodeId, { count: number, min: HlcMark, max: HlcMark }>()
    for (const { record: { hlc } } of this.heldMap.values()) {
      const o = by.get(hlc.node)
      if (o === undefined) by.set(hlc.node, { count: 1, min: hlc, max: hlc })
      else { o.count++; if (compareMark(hlc, o.min) < 0) o.min = hlc; if (compareMark(hlc, o.max) > 0) o.max = hlc }
    }
    return [...by].sort(([a], [b]) => compareText(a, b)).map(([node, o]) => ({
      node, count: o.count, min: { wall: o.min.wall, counter: o.min.counter }, max: { wall: o.max.wall, counter: o.max.counter }
    }))
  }
}
