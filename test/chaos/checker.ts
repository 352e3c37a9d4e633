/**
 * The chaos checker: judges a run's history against what every node holds at the end, in the
 * manner of Jepsen's set-full checker, and says exactly which acknowledged write was lost or
 * which deleted record came back. Pure: history and views in, a verdict out.
 *
 * **Order of writes to one key.** "After" is decided by the stamps the API returned (engram's
 * merge is last-writer-wins by stamp); for a key one node owned alone while its clock was far
 * off (`private`), by that node's writer order, since a clock repair re-stamps those writes.
 * Stamps must also respect real time where clocks were in step: when a write was acknowledged
 * before another write to the same key was even sent, and no clock fault was near either, the
 * later one must carry the larger stamp — otherwise an acknowledged re-add after a delete, say,
 * silently loses to it (`orderViolations`).
 *
 * **What must hold at the end, on every node** (live records; a collected tombstone and a
 * tombstone are the same):
 * - a triple is present exactly when the last acknowledged write to it is an add (`lost` when
 *   an add is last and it is absent, `resurrected` when a delete is last and it is present);
 * - a note holds the value of the last acknowledged write to it (absent after a delete);
 * - every acknowledged episode is present, with the data of its last acknowledged write;
 * - every acknowledged trace entry is present, exactly once (`duplicated` when more);
 * - every node holds the same live records (`divergent`: records not on every node), and none
 *   holds records aside.
 * An indeterminate write (`info`) may or may not have taken effect: where one touched a key, its
 * outcome is accepted too.
 */
import type { Heal, NodeView, Op } from './history.ts'

export interface Violation {
  readonly kind: 'lost' | 'resurrected' | 'wrong-value' | 'order' | 'duplicated' | 'divergent' | 'held'
  readonly key: string
  readonly node: string
  readonly detail: string
}

export interface Verdict {
  readonly ok: boolean
  readonly ops: { readonly total: number, readonly ok: number, readonly fail: number, readonly info: number }
  /** Acknowledged writes not in effect at the end (triple adds, note writes, episodes, traces). */
  readonly lost: number
  /** Records present at the end although an acknowledged delete was their last write. */
  readonly resurrected: number
  /** Live records not held identically by every node. */
  readonly divergent: number
  /** Pairs of writes whose stamps contradict the real-time order they were made in. */
  readonly orderViolations: number
  readonly duplicated: number
  /** Records held aside at the end, over every node. */
  readonly held: number
  readonly heals: number
  /** Heals after which the probes did not converge in time. */
  readonly unconverged: number
  readonly convergenceP50Ms: number | undefined
  readonly convergenceP99Ms: number | undefined
  readonly violations: readonly Violation[]
}

/** Real time between an acknowledgement and the next write that must be stamped after it (ms). */
const REAL_TIME_SLACK_MS = 5
/** Violations listed in full (all are counted). */
const MAX_LISTED = 200

export function check (ops: readonly Op[], views: readonly NodeView[], heals: readonly Heal[]): Verdict {
  const violations: Violation[] = []
  const counts = { lost: 0, resurrected: 0, divergent: 0, order: 0, duplicated: 0, held: 0 }
  const add = (v: Violation): void => {
    if (v.kind === 'wrong-value' || v.kind === 'lost') counts.lost++
    else if (v.kind === 'order') counts.order++
    else counts[v.kind]++
    if (violations.length < MAX_LISTED) violations.push(v)
  }
  const byKey = new Map<string, Op[]>()
  for (const op of ops) {
    if (op.outcome === 'fail') continue
    let list = byKey.get(op.key)
    if (list === undefined) byKey.set(op.key, list = [])
    list.push(op)
  }
  for (const [key, list] of byKey) {
    checkRealTime(key, list, add)
    const expected = expectation(list)
    if (expected === undefined) continue
    for (const view of views) checkKey(key, expected, view, add)
  }
  for (const v of checkDivergence(views)) add(v)
  for (const view of views) {
    if (view.held > 0) add({ kind: 'held', key: '*', node: view.node, detail: `${view.held} records still held aside at the end` })
  }
  const times = heals.map(h => h.convergedMs).filter((x): x is number => x !== undefined).sort((a, b) => a - b)
  const tally = { total: ops.length, ok: 0, fail: 0, info: 0 }
  for (const op of ops) tally[op.outcome]++
  const unconverged = heals.length - times.length
  const total = counts.lost + counts.resurrected + counts.divergent + counts.order + counts.duplicated + counts.held
  return {
    ok: total === 0 && unconverged === 0,
    ops: tally,
    lost: counts.lost,
    resurrected: counts.resurrected,
    divergent: counts.divergent,
    orderViolations: counts.order,
    duplicated: counts.duplicated,
    held: counts.held,
    heals: heals.length,
    unconverged,
    convergenceP50Ms: percentile(times, 0.5),
    convergenceP99Ms: percentile(times, 0.99),
    violations
  }
}

export function percentile (sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]
}

/** The state a key must end in: the effect of its last acknowledged write, and what indeterminate writes allow besides. */
interface Expectation {
  readonly last: Op
  /** Outcomes of indeterminate writes that may have come after `last`. */
  readonly alternatives: readonly Op[]
  /** Every acknowledged write (episodes and traces must all be present). */
  readonly acked: readonly Op[]
}

function expectation (list: readonly Op[]): Expectation | undefined {
  const acked = list.filter(op => op.outcome === 'ok')
  if (acked.length === 0) return undefined
  const isPrivate = acked.every(op => op.private)
  // Private keys: the owner's writer order (op ids are issued in that order); others: stamps.
  const later = (a: Op, b: Op): boolean => isPrivate ? a.id > b.id : (a.stamp ?? '') > (b.stamp ?? '')
  let last = acked[0]!
  for (const op of acked) if (later(op, last)) last = op
  // An indeterminate write sent before `last` was acknowledged may still sort after it by stamp.
  const alternatives = list.filter(op => op.outcome === 'info' && (!isPrivate || op.id > last.id))
  return { last, alternatives, acked }
}

/** Whether `view` holds what `op`, as the last write to its key, leaves. */
function holds (op: Op, view: NodeView): boolean {
  const k = op.key.slice(2)
  switch (op.kind) {
    case 'add': return view.triples.has(k)
    case 'delete': return !view.triples.has(k)
    case 'note-set': return view.notes.get(k)?.value === canonicalJson(op.value)
    case 'note-delete': return !view.notes.has(k)
    case 'episode': return view.episodes.get(k) === canonicalJson(op.value)
    case 'trace': return (view.traces.get(k) ?? 0) >= 1
  }
}

function checkKey (key: string, e: Expectation, view: NodeView, add: (v: Violation) => void): void {
  const { last } = e
  if (last.kind === 'trace') {
    const n = view.traces.get(key.slice(2)) ?? 0
    if (n === 0) add({ kind: 'lost', key, node: view.node, detail: `acknowledged trace entry (op ${last.id} on ${last.node}) is missing` })
    else if (n > 1) add({ kind: 'duplicated', key, node: view.node, detail: `trace entry of op ${last.id} is there ${n} times` })
    return
  }
  if (holds(last, view) || e.alternatives.some(op => holds(op, view))) return
  const what = `op ${last.id} ${last.kind} on ${last.node}${last.stamp !== undefined ? ` stamped ${last.stamp}` : ''}`
  switch (last.kind) {
    case 'add':
      add({ kind: 'lost', key, node: view.node, detail: `the last acknowledged write is an add (${what}), and the triple is absent` })
      return
    case 'delete':
      add({ kind: 'resurrected', key, node: view.node, detail: `the last acknowledged write is a delete (${what}), and the triple is present (stamp ${view.triples.get(key.slice(2))})` })
      return
    case 'note-delete':
      add({ kind: 'resurrected', key, node: view.node, detail: `the last acknowledged write is a delete (${what}), and the note holds ${view.notes.get(key.slice(2))?.value}` })
      return
    case 'note-set': {
      const got = view.notes.get(key.slice(2))
      add({ kind: got === undefined ? 'lost' : 'wrong-value', key, node: view.node, detail: `the last acknowledged write (${what}) set ${canonicalJson(last.value)}; the note ${got === undefined ? 'is absent' : `holds ${got.value} (stamp ${got.stamp})`}` })
      return
    }
    case 'episode': {
      const got = view.episodes.get(key.slice(2))
      add({ kind: got === undefined ? 'lost' : 'wrong-value', key, node: view.node, detail: `the last acknowledged write (${what}) put ${canonicalJson(last.value)}; the episode ${got === undefined ? 'is absent' : `holds ${got}`}` })
    }
  }
}

/**
 * Writes to one key acknowledged before another was sent (real time), both away from clock
 * faults: the later one must carry the larger stamp. Sorted by acknowledgement, each write is
 * compared with the largest stamp acknowledged before it was sent.
 */
function checkRealTime (key: string, list: readonly Op[], add: (v: Violation) => void): void {
  const safe = list.filter(op => op.outcome === 'ok' && op.clockSafe && !op.private && op.stamp !== undefined)
  if (safe.length < 2) return
  const byDone = [...safe].sort((a, b) => a.completedAt - b.completedAt)
  const bySent = [...safe].sort((a, b) => a.invokedAt - b.invokedAt)
  let i = 0
  let max: Op | undefined
  for (const op of bySent) {
    while (i < byDone.length && byDone[i]!.completedAt + REAL_TIME_SLACK_MS < op.invokedAt) {
      const done = byDone[i++]!
      if (max === undefined || done.stamp! > max.stamp!) max = done
    }
    if (max !== undefined && op.stamp! <= max.stamp!) {
      add({
        kind: 'order',
        key,
        node: op.node,
        detail: `op ${op.id} ${op.kind} on ${op.node} (sent at ${op.invokedAt.toFixed(0)} ms) is stamped ${op.stamp}, not after op ${max.id} ${max.kind} on ${max.node} (acknowledged at ${max.completedAt.toFixed(0)} ms, stamped ${max.stamp})`
      })
    }
  }
}

/** Live records not held by every node: each is one divergent record. */
function checkDivergence (views: readonly NodeView[]): Violation[] {
  if (views.length < 2) return []
  const holders = new Map<string, string[]>()
  for (const v of views) {
    for (const r of new Set(v.live)) {
      let list = holders.get(r)
      if (list === undefined) holders.set(r, list = [])
      list.push(v.node)
    }
  }
  const out: Violation[] = []
  for (const [record, nodes] of holders) {
    if (nodes.length === views.length) continue
    const missing = views.map(v => v.node).filter(n => !nodes.includes(n))
    out.push({ kind: 'divergent', key: record.slice(0, 160), node: missing.join(','), detail: `held by ${nodes.join(',')} only` })
  }
  return out
}

/** JSON text with object keys sorted, so equal values compare equal whatever their key order. */
export function canonicalJson (v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v)
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  const o = v as Record<string, unknown>
  return `{${Object.keys(o).sort().map(k => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`
}
