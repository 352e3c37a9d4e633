/**
 * The node's status, live: one EventSource on GET /api/v1/status/stream for the whole page.
 * The node sends a snapshot when the page connects (`ready`) and another only when something
 * changed (`status`), so an idle node sends nothing but a heartbeat comment; the browser
 * reconnects by itself (the stream says `retry: 2000`) and the next `ready` brings the page up
 * to date.
 *
 * Activity seconds ([epoch second, writes, received]) are kept by second: a `ready` brings the
 * whole window, a `status` the seconds since the previous one.
 *
 * Components read it with `useLive()`, which re-renders them on every snapshot.
 */
import { useEffect, useState } from 'preact/hooks'

/**
 * @typedef {'connecting' | 'live' | 'reconnecting' | 'closed'} Connection
 * @typedef {[number, number, number]} Point
 * @typedef {{ snapshot: any, connection: Connection, points: Map<number, Point>, windowSeconds: number, version: number, skewMs: number }} LiveState
 */

/** @type {LiveState} */
const state = { snapshot: undefined, connection: 'connecting', points: new Map(), windowSeconds: 300, version: 0, skewMs: 0 }
/** @type {Set<() => void>} */
const listeners = new Set()
/** @type {EventSource | undefined} */
let source

function notify () {
  state.version++
  for (const l of listeners) l()
}

/** @param {MessageEvent} e */
function onSnapshot (e) {
  const s = JSON.parse(e.data)
  const a = s.activity
  if (a.full) state.points = new Map()
  for (const p of a.points) state.points.set(p[0], p)
  state.windowSeconds = a.windowSeconds
  const oldest = Math.floor(Date.parse(s.at) / 1000) - a.windowSeconds
  for (const k of state.points.keys()) if (k <= oldest) state.points.delete(k)
  state.snapshot = s
  // The node's clock minus the browser's (times on the page are the node's).
  state.skewMs = Date.parse(s.at) - Date.now()
  state.connection = 'live'
  notify()
}

/** Opens the stream (once). */
export function startLive () {
  if (source !== undefined) return
  source = new EventSource('/api/v1/status/stream')
  source.addEventListener('ready', onSnapshot)
  source.addEventListener('status', onSnapshot)
  source.addEventListener('error', () => {
    state.connection = source?.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'
    notify()
  })
}

/** The live state; the component re-renders on every snapshot and connection change. */
export function useLive () {
  const [, setVersion] = useState(0)
  useEffect(() => {
    const l = () => setVersion(state.version)
    listeners.add(l)
    return () => { listeners.delete(l) }
  }, [])
  return state
}

/**
 * The node's time now (ms), updated every `everyMs` while the page is visible, so "12 s ago"
 * stays true on an idle page; nothing runs while the page is hidden.
 * @param {number} [everyMs]
 */
export function useNow (everyMs = 15000) {
  const [now, setNow] = useState(() => Date.now() + state.skewMs)
  useEffect(() => {
    /** @type {ReturnType<typeof setInterval> | undefined} */
    let timer
    const sync = () => {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
      if (document.visibilityState !== 'visible') return
      setNow(Date.now() + state.skewMs)
      timer = setInterval(() => setNow(Date.now() + state.skewMs), everyMs)
    }
    sync()
    document.addEventListener('visibilitychange', sync)
    return () => { if (timer !== undefined) clearInterval(timer); document.removeEventListener('visibilitychange', sync) }
  }, [everyMs])
  return Math.max(now, Date.now() + state.skewMs)
}
