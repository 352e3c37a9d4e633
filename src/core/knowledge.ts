/**
 * Knowledge: what a node knows it has seen of every origin's writes, so that a deletion can be
 * remembered after its tombstone is collected (docs/SYNC.md, "Deletes that stay deleted").
 * After the "knowledge" and "forgotten knowledge" of the WinFS / Microsoft Sync Framework
 * replicas (Malkhi & Terry, "Concise version vectors in WinFS", 2005) and causal stability for
 * tombstone collection (Wuu & Bernstein 1984; Baquero, Almeida & Shoker 2017).
 *
 * A node P keeps a vector K: origin node → clock mark. The invariant:
 *
 *   (I) for every origin O, P holds every state O issued with a stamp ≤ K[O] (and not voided,
 *       below), or a state that supersedes it, or held a tombstone that superseded it and was
 *       collected.
 *
 * - K[P] is P's own persisted clock mark (every stamp P issued is committed or unused).
 * - A feed page of a peer Q that reaches the end of Q's feed carries K_Q, read in the same step
 *   as the scan; once P applied it (its cursor on Q at that end), P holds everything Q held, so
 *   P learns K_Q pointwise — in the transaction that moves the cursor (`toLearn`).
 * - Records held aside (too far ahead of the clock, not merged) are not knowledge: an entry is
 *   learnt only below the lowest stamp P holds aside for that origin.
 *
 * **Rule A** (`covers`): a triple or note whose key is absent here and whose stamp K covers was
 * held here and deleted, and its tombstone collected: it is dropped, not stored again.
 * **Rule B** (`stableMark`): a tombstone may be collected only when every member that is not
 * gone has knowledge past it (and it is older than the TTL), so every state it deleted is
 * covered by Rule A on every node that learns from this one.
 *
 * **Voids.** A node whose clock ran ahead and was fixed repairs itself: it lowers its clock mark
 * to S and re-stamps its own records stamped beyond the drift guard. It then announces a void
 * {node, generation, S}: its states stamped above S from before the repair are void. Knowledge
 * of that node from before generation g is only valid up to S_g (`toLearn` clamps such
 * entries), and a node that learns a void drops the records of that node above S it holds aside.
 * A void cannot tell an old future stamp from a new one by the stamp alone, so a state that
 * arrives by store and forward after its void (`voidedInTransit`: a mailbox keeps pages for days)
 * is judged by where it stands against the clock too.
 *
 * Pure: no I/O, no clock.
 */
import { PROTOCOL } from './errors.ts'
import { compareMark, MAX_COUNTER, MAX_WALL, type Hlc, type HlcMark } from './hlc.ts'
import { isNodeId, type NodeId } from './ids.ts'

/** One entry of a knowledge vector: every state `node` issued with a stamp ≤ (wall, counter) is known. */
export interface KnowledgeEntry {
  readonly node: NodeId
  readonly wall: number
  readonly counter: number
}

/** An entry as sent: with the void generation of its node the sender had learnt (0: none). */
export interface SentKnowledgeEntry extends KnowledgeEntry {
  readonly generation: number
}

/** `node`'s states stamped above (wall, counter) issued before its repair number `generation` are void. */
export interface ClockVoid {
  readonly node: NodeId
  readonly generation: number
  readonly wall: number
  readonly counter: number
}

/**
 * A mark of a vector, with an optional lower bound: only stamps above `from` (and at or below
 * the mark) are known. A node's own entry has one while its store does not hold its own history
 * from before the store was created (a store recreated under the same identity).
 */
export type KnownMark = HlcMark & { readonly from?: HlcMark }

/** A vector: origin → the largest mark known. */
export type Knowledge = ReadonlyMap<NodeId, KnownMark>

/**
 * Whether a state that reached this node by store and forward (a mailbox page, deposited maybe
 * days before), or over a session after its origin's void (then held aside: ClockKeeper
 * dropVoidedHeld), is void: its origin repaired its clock (`v`, the latest void of that origin this
 * node learnt), the state is stamped above S, and it is still beyond the drift guard
 * (`tooFarAhead`). After a repair the origin stamps with a clock its peers agreed with, so a
 * state of it that far ahead was stamped before the repair — the repair re-stamped it, and that
 * new state travels too — or while its clock ran ahead again later, whose states its feed still
 * delivers (held there until their time). Dropping such a state from the mailbox loses nothing;
 * holding it would apply an old write over everything written since, once its time came.
 */
export function voidedInTransit (stamp: HlcMark, v: ClockVoid | undefined, tooFarAhead: boolean): boolean {
  return v !== undefined && tooFarAhead && compareMark(stamp, v) > 0
}

/** Most entries in a vector or voids in a list one peer may send. */
export const MAX_KNOWLEDGE_ENTRIES = 4096

export const markOf = (e: { readonly wall: number, readonly counter: number }): HlcMark => ({ wall: e.wall, counter: e.counter })

/** The mark just below `m` (every stamp below `m` is ≤ it). */
export function markBelow (m: HlcMark): HlcMark {
  if (m.counter > 0) return { wall: m.wall, counter: m.counter - 1 }
  return m.wall > 0 ? { wall: m.wall - 1, counter: MAX_COUNTER } : { wall: 0, counter: 0 }
}

const minMark = (a: HlcMark, b: HlcMark): HlcMark => (compareMark(a, b) <= 0 ? a : b)

/** Rule A: whether `k` covers the stamp (its origin's entry is at or above it). */
export function covers (k: Knowledge, h: Hlc): boolean {
  const m = k.get(h.node)
  return m !== undefined && compareMark(h, m) <= 0 && (m.from === undefined || compareMark(h, m.from) > 0)
}

export interface LearnContext {
  /** This node's knowledge now. */
  readonly current: Knowledge
  /** The latest void this node has recorded for a node (after the voids that came with the entries). */
  readonly voidOf: (node: NodeId) => ClockVoid | undefined
  /** The lowest stamp this node holds aside for an origin, if any. */
  readonly heldMin: (node: NodeId) => HlcMark | undefined
  /** This node: its own entry is its clock mark, never learnt. */
  readonly self: NodeId
}

/**
 * The entries of a received vector this node may learn: each clamped to what is known for
 * sure — below the lowest stamp of its origin held aside here, and up to S of a void the
 * sender had not learnt — keeping only those that advance this node's knowledge. An entry
 * for a generation this node has not learnt is skipped (the void travels with the vector; one
 * that did not come is not trusted).
 */
export function toLearn (received: readonly SentKnowledgeEntry[], ctx: LearnContext): KnowledgeEntry[] {
  const out: KnowledgeEntry[] = []
  for (const e of received) {
    if (e.node === ctx.self) continue
    const v = ctx.voidOf(e.node)
    const localGen = v?.generation ?? 0
    if (e.generation > localGen) continue
    let m: HlcMark = markOf(e)
    if (v !== undefined && e.generation < localGen) m = minMark(m, markOf(v))
    const held = ctx.heldMin(e.node)
    if (held !== undefined) m = minMark(m, markBelow(held))
    const now = ctx.current.get(e.node)
    if (now === undefined ? (m.wall > 0 || m.counter > 0) : compareMark(m, now) > 0) out.push({ node: e.node, wall: m.wall, counter: m.counter })
  }
  return out
}

/**
 * A peer's vector as knowledge this node can rely on: entries clamped to S of a void this node
 * knows and the peer had not learnt, entries of a generation this node has not learnt left out.
 */
export function asKnowledge (received: readonly SentKnowledgeEntry[], voidOf: (node: NodeId) => ClockVoid | undefined): Knowledge {
  const k = new Map<NodeId, HlcMark>()
  for (const e of received) {
    const v = voidOf(e.node)
    const gen = v?.generation ?? 0
    if (e.generation > gen) continue
    k.set(e.node, v !== undefined && e.generation < gen ? minMark(markOf(e), markOf(v)) : markOf(e))
  }
  return k
}

/**
 * Rule B: the mark every tombstone must be at or below to be collected — the lowest entry of
 * the members that are not gone — or undefined when no member constrains it (a node alone).
 * A member is gone when its entry lags both `now` and the freshest other entry by more than
 * `goneMs`: the node has not been heard of while the others were (a node that was itself away
 * finds everyone's entries equally old, and declares no one gone).
 */
export function stableMark (entries: readonly KnowledgeEntry[], self: NodeId, now: number, goneMs: number): HlcMark | undefined {
  const gone = new Set(goneMembers(entries, self, now, goneMs))
  let low: HlcMark | undefined
  for (const e of entries) {
    if (e.node === self || gone.has(e.node)) continue
    if (low === undefined || compareMark(e, low) < 0) low = markOf(e)
  }
  return low
}

/** The members declared gone (for status and logs): entries that lag `now` and the freshest other by more than `goneMs`. */
export function goneMembers (entries: readonly KnowledgeEntry[], self: NodeId, now: number, goneMs: number): NodeId[] {
  const others = entries.filter(e => e.node !== self)
  let freshest = 0
  for (const e of others) if (e.wall > freshest) freshest = e.wall
  return others.filter(e => e.wall < now - goneMs && e.wall < freshest - goneMs).map(e => e.node)
}

const isCount = (n: unknown, max: number): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= max

/**
 * A vector from a peer, as `[node, wall, counter, generation?]` rows. Throws PROTOCOL naming the
 * field. Duplicate nodes keep their largest entry.
 */
export function parseKnowledge (value: unknown, field: string): SentKnowledgeEntry[] {
  if (!Array.isArray(value)) throw PROTOCOL(`${field} must be an array of [node, wall, counter, generation?]`)
  if (value.length > MAX_KNOWLEDGE_ENTRIES) throw PROTOCOL(`${field} has ${value.length} entries; at most ${MAX_KNOWLEDGE_ENTRIES}`)
  const out = new Map<string, SentKnowledgeEntry>()
  value.forEach((row, i) => {
    if (!Array.isArray(row) || row.length < 3 || row.length > 4) throw PROTOCOL(`${field}[${i}] must be [node, wall, counter, generation?]`)
    const [node, wall, counter, generation = 0] = row as unknown[]
    if (!isNodeId(node)) throw PROTOCOL(`${field}[${i}][0] must be a node id`)
    if (!isCount(wall, MAX_WALL) || !isCount(counter, MAX_COUNTER) || !isCount(generation, 2 ** 31)) {
      throw PROTOCOL(`${field}[${i}]: wall, counter and generation must be integers in range`)
    }
    const e = { node, wall, counter, generation }
    const prev = out.get(node)
    if (prev === undefined || prev.generation < generation || (prev.generation === generation && compareMark(e, prev) > 0)) out.set(node, e)
  })
  return [...out.values()]
}

/** Voids from a peer, as `[node, generation, wall, counter]` rows. Throws PROTOCOL naming the field. */
export function parseVoids (value: unknown, field: string): ClockVoid[] {
  if (!Array.isArray(value)) throw PROTOCOL(`${field} must be an array of [node, generation, wall, counter]`)
  if (value.length > MAX_KNOWLEDGE_ENTRIES) throw PROTOCOL(`${field} has ${value.length} entries; at most ${MAX_KNOWLEDGE_ENTRIES}`)
  return value.map((row, i) => {
    if (!Array.isArray(row) || row.length !== 4) throw PROTOCOL(`${field}[${i}] must be [node, generation, wall, counter]`)
    const [node, generation, wall, counter] = row as unknown[]
    if (!isNodeId(node)) throw PROTOCOL(`${field}[${i}][0] must be a node id`)
    if (!isCount(generation, 2 ** 31) || generation < 1 || !isCount(wall, MAX_WALL) || !isCount(counter, MAX_COUNTER)) {
      throw PROTOCOL(`${field}[${i}]: generation (from 1), wall and counter must be integers in range`)
    }
    return { node, generation, wall, counter }
  })
}

/** Rows of a vector as sent. */
export const knowledgeRows = (entries: readonly SentKnowledgeEntry[]): Array<[string, number, number] | [string, number, number, number]> =>
  entries.map(e => e.generation > 0 ? [e.node, e.wall, e.counter, e.generation] : [e.node, e.wall, e.counter])

/** Rows of voids as sent. */
export const voidRows = (voids: readonly ClockVoid[]): Array<[string, number, number, number]> =>
  voids.map(v => [v.node, v.generation, v.wall, v.counter])
