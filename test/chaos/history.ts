/**
 * What a chaos run records (the history the checker judges) and what it reads back at the end.
 *
 * Every operation a writer makes through a node's REST API is one `Op`: what it asked, when (the
 * harness's monotonic clock, ms since the run started), and how it ended:
 *
 * - `ok`   — acknowledged (2xx), with the stamp the API returned;
 * - `fail` — refused or never sent (4xx, connection refused): it had no effect;
 * - `info` — indeterminate (timed out, connection cut): it may or may not have taken effect,
 *            and its stamp is unknown.
 *
 * Keys name what an op touched: `t:<triple id>`, `n:<note key>`, `e:<episode id>`,
 * `r:<trace marker>` (every trace carries a unique marker in its data).
 */
import type { Json } from '../../src/core/model.ts'

export type OpKind = 'add' | 'delete' | 'note-set' | 'note-delete' | 'episode' | 'trace'
export type Outcome = 'ok' | 'fail' | 'info'

export interface Op {
  /** Sequential in the run. */
  readonly id: number
  readonly node: string
  readonly kind: OpKind
  readonly key: string
  /** The value written: a note's value, an episode's data, a trace's data. */
  readonly value?: Json
  readonly invokedAt: number
  completedAt: number
  outcome: Outcome
  /** The stamp the API returned (text form, sortable), for `ok` writes. */
  stamp?: string
  error?: string
  /**
   * False when a clock fault may have moved stamps away from real time around this op (a node's
   * clock was stepped, or had been shortly before): stamp order is then not checked against
   * real-time order.
   */
  clockSafe: boolean
  /**
   * The key belongs to one node alone for a while (its clock was far off): its ops are ordered by
   * that node's (sequential) writer, not by stamps, which a clock repair rewrites.
   */
  readonly private: boolean
  /** A convergence probe (written at a heal; never deleted). */
  readonly probe?: boolean
}

/** What one node holds at the end, live records only (tombstones are collected at different times). */
export interface NodeView {
  readonly node: string
  /** Triple id → stamp. */
  readonly triples: ReadonlyMap<string, string>
  /** Note key → value (canonical JSON text) and stamp. */
  readonly notes: ReadonlyMap<string, { readonly value: string, readonly stamp: string }>
  /** Episode id → data (canonical JSON text). */
  readonly episodes: ReadonlyMap<string, string>
  /** Trace marker → how many trace entries carry it. */
  readonly traces: ReadonlyMap<string, number>
  /** Canonical texts of every live record, for the divergence check. */
  readonly live: readonly string[]
  /** Records held aside at the end (stamped too far ahead); 0 when every record was applied. */
  readonly held: number
}

/** A heal and how long until a probe written on every running node was on every running node. */
export interface Heal {
  readonly at: number
  readonly what: string
  /** ms from the heal until every probe was everywhere; undefined when it never happened in time. */
  readonly convergedMs: number | undefined
  /** Restarts: ms from the restart until the node answered (its start-up, before `at`; heal.ts). */
  readonly startupMs?: number
  /** ms from the heal until every running node had a P2P session with every other; undefined when not in time. */
  readonly sessionsMs?: number
  /** The largest catch-ups the nodes reported after the heal. */
  readonly catchUps?: readonly CatchUp[]
}

/** One catch-up a node reported: records received from one peer in one multi-page catch-up. */
export interface CatchUp {
  readonly node: string
  readonly peer: string
  readonly records: number
  /** Records per second. */
  readonly rate: number
}
