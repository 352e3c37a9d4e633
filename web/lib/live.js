/**
 * The node's status, live: one stream of GET /api/v1/status/stream for the whole page
 * (lib/sse.js). The node sends a snapshot when the page connects (`ready`), then only what
 * changed (`delta`, applied by lib/delta.js), and only when something did, so an idle node sends
 * nothing but a heartbeat comment; after a disconnection the page connects again and the next
 * `ready` brings it up to date.
 *
 * Activity seconds ([epoch second, writes, received]) are kept by second: a `ready` brings the
 * whole window, a `delta` the seconds since the previous event.
 *
 * Components read it with `useLive()`, which re-renders them on every snapshot.
 */
import { useEffect, useState } from 'preact/hooks'
import { applyChanges } from './delta.js'
import { readEvents } from './sse.js'

/**
 * @typedef {'connecting' | 'live' | 'reconnecting' | 'closed' | 'unauthorized'} Connection
 * @typedef {[number, number, number]} Point
 * @typedef {{ snapshot: any, connection: Connection, detail: string, points: Map<number, Point>, windowSeconds: number, version: number, skewMs: number }} LiveState
 */

/** @type {LiveState} */
const state = { snapshot: undefined, connection: 'connecting', detail: '', points: new Map(), windowSeconds: 300, version: 0, skewMs: 0 }
/** @type {Set<() => void>} */
const listeners = new Set()
let started = false

function notify () {
  state.version++
  for (const l of listeners) l()
}

/**
 * @param {string} event
 * @param {string} text
 */
function onSnapshot (event, text) {
  const data = JSON.parse(text)
  // a delta before any snapshot (cannot happen on one stream) is ignored: the next ready brings it all
  if (event === 'delta' && state.snapshot === undefined) return
  const s = event === 'delta' ? { ...applyChanges(state.snapshot, data.changes), at: data.at, activity: data.activity } : data
  const a = s.activity
  if (a.full) state.points = new Map()
  for (const p of a.points) state.points.set(p[0], p)
  state.windowSeconds = a.windowSeconds
  const oldest = Math.floor(Date.parse(s.at) / 1000) - a.windowSeconds
  for (const k of state.points.keys()) if (k <= oldest) state.points.delete(k)
  // the first snapshot is when the page can show the node (a mark for measuring the first view)
  if (state.snapshot === undefined) performance.mark('engram:first-snapshot')
  state.snapshot = s
  // The node's clock minus the browser's (times on the page are the node's).
  state.skewMs = Date.parse(s.at) - Date.now()
  state.connection = 'live'
  notify()
}

/** Opens the stream (once). */
export function startLive () {
  if (started) return
  started = true
  readEvents('/api/v1/status/stream', (event, data) => {
    if (event === 'ready' || event === 'delta') onSnapshot(event, data)
  }, (s, detail) => {
    // 'open' shows as live with the first snapshot
    if (s === 'open') return
    state.connection = s === 'retrying' ? 'reconnecting' : s
    state.detail = detail ?? ''
    notify()
  })
}

/** The live state; the component re-renders on every snapshot and connection change. */
export function useLive () {
  const [, setVersion] = useState(state.version)
  useEffect(() => {
    const l = () => setVersion(state.version)
    listeners.add(l)
    // a snapshot that came between the render and now (effects run after the paint) is not missed
    l()
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
