/**
 * One row per peer machine for the sync view, from the two places the node reports peers:
 * native P2P peers (GET /api/v1/p2p/status `peers`, by node id) and polled REST peers (GET
 * /api/v1/sync/status `peers`, by name, with the node id learnt at the first sync). A machine
 * known both ways is one row. Pure.
 */
import { shortId } from './format.js'

/**
 * @typedef {{ records: number, total: number | null, fraction: number | null, startedAt: string, rate: number, etaSeconds: number | null, done: boolean }} CatchUp
 * @typedef {{ records: number | null, seconds: number } | null} Lag
 * @typedef {{
 *   key: string, name: string, nodeId: string | null, mode: string, state: string, path: string,
 *   lastSync: string | null, sent: number | null, received: number | null,
 *   lagIn: Lag, catchUp: CatchUp | null,
 *   error: { message: string, code?: string } | null, source: string
 * }} PeerRow
 */

/**
 * How a native peer is reached: the path the node reports (direct, or relayed through `relay`),
 * with the transport read from its multiaddr; from the multiaddr alone for a node that reports no path.
 * @param {{ addr: string, path?: string | null, relay?: string | null }} p
 */
export function pathOf (p) {
  if (p.path === 'relayed' || p.addr.includes('/p2p-circuit')) return typeof p.relay === 'string' ? `relayed via ${shortId(p.relay)}` : 'relayed'
  if (p.addr.includes('/quic')) return 'direct, QUIC'
  if (p.addr.includes('/tcp/')) return 'direct, TCP'
  return 'direct'
}

/** @param {any} c */
function catchUpOf (c) {
  if (c === null || c === undefined) return null
  return {
    records: c.records ?? 0,
    total: typeof c.total === 'number' ? c.total : null,
    fraction: typeof c.fraction === 'number' ? c.fraction : null,
    startedAt: c.startedAt ?? c.started_at ?? null,
    rate: c.rate ?? 0,
    etaSeconds: c.etaSeconds ?? c.eta_seconds ?? null,
    done: c.done === true
  }
}

/** @param {any} l */
const lagOf = (l) => (l === null || l === undefined ? null : { records: typeof l.records === 'number' ? l.records : null, seconds: l.seconds ?? 0 })

/** @param {string | null | undefined} a @param {string | null | undefined} b */
const later = (a, b) => (a === null || a === undefined ? b ?? null : b === null || b === undefined ? a : (a > b ? a : b))

/**
 * @param {any} snapshot a live status snapshot ({sync, p2p})
 * @returns {PeerRow[]}
 */
export function peerRows (snapshot) {
  /** @type {Map<string, PeerRow>} */
  const rows = new Map()
  const native = Array.isArray(snapshot?.p2p?.peers) ? snapshot.p2p.peers : []
  for (const p of native) {
    const key = p.node_id ?? p.addr
    rows.set(key, {
      key,
      name: p.node_id ?? p.addr,
      nodeId: p.node_id,
      mode: 'native',
      state: p.connected ? 'connected' : p.failures > 0 ? 'unreachable' : 'offline',
      path: p.connected ? pathOf(p) : '–',
      lastSync: p.last_sync,
      sent: p.bytes_sent,
      received: p.bytes_received,
      lagIn: lagOf(p.lag?.in),
      catchUp: catchUpOf(p.catch_up),
      error: typeof p.last_error === 'string' ? { message: p.last_error } : null,
      source: p.source ?? ''
    })
  }
  const polled = Array.isArray(snapshot?.sync?.peers) ? snapshot.sync.peers : []
  for (const p of polled) {
    if (p.status === 'removed') continue
    const error = p.lastResult !== undefined && !p.lastResult.ok ? { message: p.lastResult.error ?? 'failed', code: p.lastResult.code } : null
    const existing = p.nodeId !== undefined ? rows.get(p.nodeId) : undefined
    if (existing !== undefined) {
      // One machine, both ways: native while its session is open, else its polled state.
      existing.name = p.name
      existing.lastSync = later(existing.lastSync, p.lastSyncAt)
      if (existing.state !== 'connected') {
        existing.mode = 'polled'
        existing.state = pollState(p)
        existing.path = `REST ${p.url}`
        existing.error = error ?? existing.error
      }
      continue
    }
    rows.set(`polled:${p.name}`, {
      key: `polled:${p.name}`,
      name: p.name,
      nodeId: p.nodeId ?? null,
      mode: 'polled',
      state: pollState(p),
      path: `REST ${p.url}`,
      lastSync: p.lastSyncAt ?? null,
      sent: null,
      received: p.lastResult?.bytes ?? null,
      // Polled sync reports no feed position of its peers: lag and catch-up are native sync's.
      lagIn: null,
      catchUp: null,
      error,
      source: 'paired'
    })
  }
  return [...rows.values()]
}

/** @param {any} p a polled peer */
function pollState (p) {
  if (p.status === 'paused') return 'paused'
  if (p.status === 'unreachable') return 'unreachable'
  if (p.lastResult === undefined) return 'waiting'
  return p.lastResult.ok ? 'in step' : 'failing'
}

/**
 * The log line that reported a peer's error: the most recent warning or error naming the peer
 * (by name, node id or address) — or undefined.
 * @param {PeerRow} row
 * @param {ReadonlyArray<{ at: string, level: string, message: string, fields: Record<string, string> }>} log
 */
export function logLineFor (row, log) {
  for (let i = log.length - 1; i >= 0; i--) {
    const l = log[i]
    if (l === undefined) continue
    const f = l.fields
    if (f.peer === row.name || (row.nodeId !== null && (f.node === row.nodeId || f.peer === row.nodeId || l.message.includes(row.nodeId)))) return l
  }
  return undefined
}
