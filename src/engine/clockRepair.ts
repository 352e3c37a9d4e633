/**
 * The clock repair (docs/SYNC.md, "Clocks"): a node whose wall clock ran ahead stamped its
 * writes in the future; its peers hold them aside until their clocks get there. When its clock
 * is fixed (the caller has checked that the wall clock agrees with the peers'), the node:
 *
 * 1. takes S = max(now, the largest stamp of any record it holds that is ≤ now + drift) — peers
 *    may have merged its own, and it has merged others' up to there, so nothing it issues from
 *    now on may sort below them (the clock's promise: a new stamp is above everything seen);
 * 2. lowers its clock mark to S and re-stamps every current state of its own records stamped
 *    beyond now + drift (all above S): same content, fresh stamps above S, in their original
 *    order; a trace gets a new id (its id hashes its stamp), the old entry goes;
 * 3. records the void {itself, generation + 1, S}: its states above S from before are void. The
 *    void travels with its pages and vectors; a peer that learns it drops the records of this
 *    node above S that it holds aside (never merged by a node whose clock was right) and clamps
 *    its knowledge of this node to S.
 *
 * The re-stamped states are signed by this node like any local write (`seal`), and the states
 * they replace go to history like any replaced state. All in one store transaction. Replication
 * resumes at once: the new stamps are within every peer's drift guard.
 */
import { compareMark, makeMark, type HlcMark, type HybridClock } from '../core/hlc.ts'
import type { NodeId } from '../core/ids.ts'
import type { ClockVoid } from '../core/knowledge.ts'
import type { MemoryRecord } from '../core/model.ts'
import { makeTrace } from '../core/records.ts'
import type { ApplyResult, ApplySeals, Store } from '../store/Store.ts'

/** Records of its own a node re-stamps in one repair, at most (a node with more repairs again). */
const MAX_RESTAMPED = 1_000_000

export interface ClockRepairResult {
  /** How many records were re-stamped. */
  readonly restamped: number
  /** The void recorded (S and the generation). */
  readonly void: ClockVoid
  /** How far ahead of the wall clock the mark was, ms. */
  readonly aheadMs: number
  readonly applied: ApplyResult
}

export interface ClockRepairInput {
  readonly store: Store
  readonly clock: HybridClock
  readonly node: NodeId
  readonly voidOf: (node: NodeId) => ClockVoid | undefined
  /** This node's seals of its own states (undefined: it does not sign). */
  readonly seal?: (records: readonly MemoryRecord[], at: HlcMark) => ApplySeals | undefined
}

export function repairClock (x: ClockRepairInput): ClockRepairResult | undefined {
  const { store, clock, node } = x
  const now = clock.wallNow()
  const persisted = store.clockMark()
  const limit = now + clock.maxDriftMs
  if (persisted.wall <= limit && clock.last.wall <= limit) return undefined
  let s: HlcMark = makeMark(now, 0)
  const restamp: MemoryRecord[] = []
  for (const r of store.stampedAfter(now, { limit: MAX_RESTAMPED })) {
    if (r.hlc.wall > limit) {
      // Only this node's own records can be stamped beyond its drift guard (others' are held aside).
      if (r.hlc.node === node) restamp.push(r)
    } else if (compareMark(r.hlc, s) > 0) {
      s = makeMark(r.hlc.wall, r.hlc.counter)
    }
  }
  const generation = (x.voidOf(node)?.generation ?? 0) + 1
  const aheadMs = Math.max(persisted.wall, clock.last.wall) - now
  clock.reset(s)
  const records = restamp.map((r): MemoryRecord => {
    const hlc = clock.now()
    return r.kind === 'trace' ? makeTrace(r.runId, r.type, r.data, hlc) : { ...r, hlc }
  })
  const v: ClockVoid = { node, generation, wall: s.wall, counter: s.counter }
  const removeTraces = restamp.filter(r => r.kind === 'trace').map(r => r.id)
  const seals = x.seal?.(records, clock.last)
  const applied = store.repairClock({ clock: clock.last, records, removeTraces, void: v, ...(seals !== undefined ? { seals } : {}) })
  return { restamped: records.length, void: v, aheadMs, applied }
}
