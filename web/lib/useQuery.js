/**
 * Loading a view's data from the REST API: `useQuery(load, key)` runs `load()` when `key`
 * changes and again, at most once a second, whenever the node's changes feed moves (a write
 * here, or changes received from a peer: the live status stream says so), so a list on screen
 * shows new records without a reload. A failure is kept as `error` (the node's message and code).
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { useLive } from './live.js'

const REFRESH_MS = 1000

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
  const lastLoad = useRef(0)
  const seenSeq = useRef(seq)

  // A move of the feed reloads, at most once a second.
  useEffect(() => {
    if (seq === undefined || seq === seenSeq.current) return
    seenSeq.current = seq
    const wait = Math.max(0, lastLoad.current + REFRESH_MS - Date.now())
    const t = setTimeout(() => setVersion(v => v + 1), wait)
    return () => clearTimeout(t)
  }, [seq])

  useEffect(() => {
    let current = true
    lastLoad.current = Date.now()
    setState(s => ({ ...s, loading: true }))
    load().then(
      data => { if (current) setState({ data, error: undefined, loading: false }) },
      error => { if (current) setState(s => ({ data: s.data, error, loading: false })) })
    return () => { current = false }
  }, [key, version])

  return { ...state, reload: () => setVersion(v => v + 1) }
}
