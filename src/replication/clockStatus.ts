/**
 * The `clock` part of GET /api/v1/status (and of `engram status`): this node's clock and mark,
 * how far each peer's clock is from it (PeerClocks.ts), the records held aside because they are
 * stamped too far ahead, the last clock repair, and the members the knowledge vector tracks
 * (docs/SYNC.md, "Clocks" and "Deletes that stay deleted"). Built from the engine and the
 * peers' clock readings; a value, typed once for the server and its clients.
 */
import type { NodeId } from '../core/ids.ts'
import { goneMembers } from '../core/knowledge.ts'
import type { Engine } from '../engine/Engine.ts'
import { formatOffset, type PeerClocks } from './PeerClocks.ts'

export interface ClockRepairView {
  readonly at: string
  readonly restamped: number
  readonly generation: number
  /** How far ahead of the wall clock the mark was, ms. */
  readonly aheadMs: number
}

export interface ClockStatusView {
  /** This node's wall clock. */
  readonly now: string
  /** The persisted clock mark's wall time, and how far ahead of the wall clock it is (ms; ≤ 0 normally). */
  readonly mark: string
  readonly markAheadMs: number
  readonly maxDriftMs: number
  /** Whether this node's clock agrees with the majority of the peers heard of recently (null: none). */
  readonly agreesWithPeers: boolean | null
  readonly peers: ReadonlyArray<{ readonly node: string, readonly offsetMs: number, readonly measuredAt: string, readonly offset: string }>
  /** Records held aside, per origin, with the sentence the log says about them. */
  readonly held: ReadonlyArray<{ readonly node: string, readonly count: number, readonly aheadMs: number, readonly appliesAt: string }>
  readonly lastRepair: ClockRepairView | null
  /** Nodes this node knows of (the knowledge vector), and those declared gone. */
  readonly members: { readonly known: number, readonly gone: readonly string[] }
}

export interface ClockStatusInput {
  readonly engine: Engine
  readonly clocks?: PeerClocks
  readonly lastRepair?: ClockRepairView
  readonly memberGoneMs: number
}

export function clockStatus (i: ClockStatusInput): ClockStatusView {
  const { engine } = i
  const now = engine.clock.wallNow()
  const mark = engine.store.clockMark()
  const entries = engine.knowledge.list().filter(e => e.node !== engine.node)
  return {
    now: iso(now),
    mark: iso(mark.wall),
    markAheadMs: mark.wall - now,
    maxDriftMs: engine.clock.maxDriftMs,
    agreesWithPeers: i.clocks?.agreesWithPeers() ?? null,
    peers: (i.clocks?.offsets() ?? []).map(o => ({ node: o.peer, offsetMs: o.offsetMs, measuredAt: iso(o.measuredAt), offset: formatOffset(o.offsetMs) })),
    held: engine.heldSummary(now).map(h => ({ node: h.node, count: h.count, aheadMs: h.aheadMs, appliesAt: iso(h.appliesAt) })),
    lastRepair: i.lastRepair ?? null,
    members: { known: entries.length, gone: goneMembers(entries, engine.node as NodeId, now, i.memberGoneMs) }
  }
}

const iso = (ms: number): string => {
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString()
}
