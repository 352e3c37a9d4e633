/**
 * The measure of one heal, and what explains it.
 *
 * **Convergence after heal** (the figure the run is judged by): right after a fault heals, a
 * probe triple is written on every running node; it is the time until every acknowledged probe
 * is on every running node. For a restart, "healed" is when the restarted node answers its API
 * (its start-up comes before and is not in the figure).
 *
 * Measured beside it, to say where the time went (none of them changes the figure):
 * - `startupMs` (restarts): from the restart command until the node answered — its start-up. A
 *   node away longer than the tombstone TTL may find its cursors below its peers' feed floors
 *   and be served whole snapshots, so a slow start lengthens the heal that follows;
 * - `sessionsMs`: from the heal until every running node had a P2P session with every other
 *   (redial and handshake time), watched until 5 s after the probes converged (a probe crosses
 *   by relay before every session is back, so it may come after the figure);
 * - `catchUps`: the largest catch-ups the nodes report after the heal (records received from one
 *   peer in one multi-page catch-up; a snapshot shows as one of about the whole store).
 */
import type { Cluster, ClusterNode } from './Cluster.ts'
import type { CatchUp, Heal, Op } from './history.ts'
import { elementId, OBJECT, outcomeOf, PREDICATE, type RunClock } from './workload.ts'

/** Pause between two rounds of probe reads (and of session counts). */
const POLL_MS = 100
/** How long the session count is still watched after the probes converged (probes cross by relay before every session is back). */
const SESSIONS_GRACE_MS = 5_000
/** Catch-ups listed per heal (the largest). */
const CATCH_UPS_KEPT = 3

export interface HealContext {
  readonly cluster: Cluster
  readonly clock: RunClock
  readonly record: (op: Omit<Op, 'id'>) => Op
}

/** Writes a probe on every running node; waits until every acknowledged probe is on every running node. */
export async function measureHeal (c: HealContext, no: number, what: string, limitMs: number, startupMs?: number): Promise<Heal> {
  const { cluster, clock, record } = c
  const at = clock.now()
  const wallAt = Date.now()
  const up = cluster.nodes.filter(n => n.daemon !== undefined && !n.paused)
  const sessions = watchSessions(cluster, up, clock, at, limitMs)
  const probes: string[] = []
  await Promise.all(up.map(async n => {
    const subject = `probe:h${no}-${n.name}`
    const invokedAt = clock.now()
    const a = await cluster.call(n, 'POST', '/api/v1/triples', { subject, predicate: PREDICATE, object: OBJECT }, 5_000)
    const completedAt = clock.now()
    const op = record({ node: n.name, kind: 'add', key: `t:${elementId(subject)}`, invokedAt, completedAt, private: false, probe: true, clockSafe: clock.clockSafe(invokedAt, completedAt), ...outcomeOf(a, b => (b as { hlc: string }).hlc) })
    if (op.outcome === 'ok') probes.push(elementId(subject))
  }))
  const found = new Set<string>()
  let convergedMs: number | undefined
  for (let i = 0; i < 10_000 && clock.now() - at < limitMs; i++) {
    await Promise.all(up.flatMap(n => probes.map(async id => {
      if (found.has(`${n.name}/${id}`)) return
      const a = await cluster.call(n, 'GET', `/api/v1/triples/${id}`, undefined, 2_000)
      if (a.kind === 'answered' && a.status === 200) found.add(`${n.name}/${id}`)
    })))
    if (found.size === up.length * probes.length) { convergedMs = clock.now() - at; break }
    await sleep(POLL_MS)
  }
  const sessionsMs = await sessions.stop(SESSIONS_GRACE_MS)
  const catchUps = await readCatchUps(cluster, up, wallAt)
  return {
    at,
    what,
    convergedMs,
    ...(startupMs !== undefined ? { startupMs } : {}),
    ...(sessionsMs !== undefined ? { sessionsMs } : {}),
    ...(catchUps.length > 0 ? { catchUps } : {})
  }
}

/** One line on a heal: its figure and what explains it. */
export function describeHeal (h: Heal): string {
  const s = (ms: number | undefined): string => ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(2)} s`
  const parts = [
    h.convergedMs === undefined ? 'probes did NOT converge' : `converged in ${s(h.convergedMs)}`,
    ...(h.startupMs !== undefined ? [`start-up ${s(h.startupMs)} before`] : []),
    h.sessionsMs === undefined ? 'sessions NOT all up' : `sessions all up after ${s(h.sessionsMs)}`,
    ...(h.catchUps !== undefined ? [`largest catch-ups: ${h.catchUps.map(x => `${x.node}<-${x.peer} ${x.records} records at ${x.rate.toFixed(0)}/s`).join(', ')}`] : [])
  ]
  return parts.join('; ')
}

/** The heals that took longest, worst first, one line each. */
export function worstHeals (heals: readonly Heal[], n: number): string[] {
  const key = (h: Heal): number => h.convergedMs ?? Infinity
  return [...heals].sort((a, b) => key(b) - key(a)).slice(0, n).map(h => `${(h.at / 1000).toFixed(1)} s, ${h.what}: ${describeHeal(h)}`)
}

/**
 * Polls the nodes' P2P status until every one has a session with every other, `limitMs` after
 * `at`, or `graceMs` after `stop` is called: resolves with ms from `at` until every session was
 * up, undefined if that did not happen by then.
 */
function watchSessions (cluster: Cluster, up: readonly ClusterNode[], clock: RunClock, at: number, limitMs: number): { stop: (graceMs: number) => Promise<number | undefined> } {
  let until = at + limitMs
  const done = (async (): Promise<number | undefined> => {
    for (let i = 0; i < 10_000 && clock.now() < until; i++) {
      const counts = await Promise.all(up.map(async n => {
        const a = await cluster.call(n, 'GET', '/api/v1/p2p/status', undefined, 3_000)
        return a.kind === 'answered' ? ((a.body as { peer_count?: number }).peer_count ?? 0) : 0
      }))
      if (counts.every(x => x >= up.length - 1)) return clock.now() - at
      await sleep(POLL_MS * 2)
    }
    return undefined
  })()
  return { stop: async graceMs => { until = Math.min(until, clock.now() + graceMs); return await done } }
}

/** The largest catch-ups started since `sinceWall` (ms, real time), over every node. */
async function readCatchUps (cluster: Cluster, up: readonly ClusterNode[], sinceWall: number): Promise<CatchUp[]> {
  interface Status { node_id?: string, peers?: Array<{ node_id: string | null, catch_up?: { records: number, rate: number, startedAt: string } }> }
  const statuses = await Promise.all(up.map(async n => {
    const a = await cluster.call(n, 'GET', '/api/v1/p2p/status', undefined, 5_000)
    return { node: n.name, status: a.kind === 'answered' && a.status === 200 ? a.body as Status : undefined }
  }))
  const names = new Map(statuses.flatMap(s => s.status?.node_id !== undefined ? [[s.status.node_id, s.node] as const] : []))
  return statuses.flatMap(({ node, status }) => (status?.peers ?? []).flatMap(p => {
    const c = p.catch_up
    if (c === undefined || Date.parse(c.startedAt) < sinceWall - 1_000) return []
    return [{ node, peer: names.get(p.node_id ?? '') ?? (p.node_id ?? '?').slice(-6), records: c.records, rate: c.rate }]
  })).sort((a, b) => b.records - a.records).slice(0, CATCH_UPS_KEPT)
}

function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
