/**
 * Loading a view's data from the REST API: `useQuery(load, key)` runs `load()` when `key`
 * changes and again whenever the node's changes feed moves (a write here, or changes received
 * from a peer: the live status stream says so), so a list on screen shows new records without a
 * reload. While the feed keeps moving (a catch-up), a list is loaded again at most once a second,
 * and never more often than every four times its last load took, so a slow query on a busy node
 * is not repeated back to back; a hidden page loads nothing (it renders nothing: lib/live.js) and
 * catches up when shown. A failure is kept as `error` (the node's message and code).
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { useLive } from './live.js'

const REFRESH_MS = 1000
/** The shortest wait between loads, in multiples of the last load's time. */
const REFRESH_SHARE = 4

/**
 * @template T
 * @param {() => Promise<T>} load
 * @param {string} key what the data depends on (the query)
 * @returns {{ data: T | undefined, error: any, loading: boolean, reload: () => void }}
 */
export function useQuery (load, key) {
  const [state, setState] = useState(/** @type {{ data: T | undefined, error: any, loading: boolean }} */ ({ data: undefined, error: undefined, loading: true }))
  const [version, setVersion] = useState(0)
  const live = useLive()
  const seq = live.snapshot?.node?.store?.stats?.lastSeq
  /** When the last load started, and how long it took (ms). */
  const lastLoad = useRef({ at: 0, took: 0 })
  const seenSeq = useRef(seq)

  // A move of the feed reloads, at most once a second and at most once every REFRESH_SHARE loads' time.
  useEffect(() => {
    if (seq === undefined || seq === seenSeq.current) return
    seenSeq.current = seq
    const { at, took } = lastLoad.current
    const wait = Math.max(0, at + Math.max(REFRESH_MS, REFRESH_SHARE * took) - Date.now())
    const t = setTimeout(() => setVersion(v => v + 1), wait)
    return () => clearTimeout(t)
  }, [seq])

  useEffect(() => {
    let current = true
    const at = Date.now()
    lastLoad.current = { at, took: 0 }
    const done = () => { lastLoad.current = { at, took: Date.now() - at } }
    setState(s => ({ ...s, loading: true }))
    load().then(
      data => { done(); if (current) setState({ data, error: undefined, loading: false }) },
      error => { done(); if (current) setState(s => ({ data: s.data, error, loading: false })) })
    return () => { current = false }
  }, [key, version])

  return { ...state, reload: () => setVersion(v => v + 1) }
}
