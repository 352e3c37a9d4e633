/**
 * Which view the page shows, from the URL's hash: `#/sync`, `#/memory?subject=user:alice`,
 * `#/entity/kg:Alice`, `#/notes`, `#/episodes`, `#/traces`, `#/conflicts`, `#/search?q=tea`.
 * Views are bookmarkable and the back button works; nothing is loaded again but the view's own data.
 */
import { useEffect, useState } from 'preact/hooks'

/**
 * @typedef {{ view: string, arg: string, params: URLSearchParams }} Route
 */

/** @returns {Route} */
export function parseHash (hash = location.hash) {
  const text = hash.replace(/^#\/?/, '')
  const q = text.indexOf('?')
  const path = q < 0 ? text : text.slice(0, q)
  const slash = path.indexOf('/')
  const view = (slash < 0 ? path : path.slice(0, slash)) || 'sync'
  const arg = slash < 0 ? '' : decodeURIComponent(path.slice(slash + 1))
  return { view, arg, params: new URLSearchParams(q < 0 ? '' : text.slice(q + 1)) }
}

/**
 * The hash of a view.
 * @param {string} view
 * @param {string} [arg]
 * @param {Record<string, string | number | undefined>} [params]
 */
export function href (view, arg, params = {}) {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') p.set(k, String(v))
  const qs = p.toString()
  return `#/${view}${arg !== undefined && arg !== '' ? `/${encodeURIComponent(arg)}` : ''}${qs === '' ? '' : `?${qs}`}`
}

/** The page offset of a list view (`offset` in the URL), 0 when absent or not a number. @param {URLSearchParams} params */
export const offsetOf = (params) => Math.max(0, Number(params.get('offset') ?? '0') || 0)

/** The current route; re-renders on every hash change. */
export function useRoute () {
  const [route, setRoute] = useState(parseHash)
  useEffect(() => {
    const on = () => setRoute(parseHash())
    addEventListener('hashchange', on)
    return () => removeEventListener('hashchange', on)
  }, [])
  return route
}
