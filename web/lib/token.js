/**
 * The node's API token, when it requires one (`api.requireToken`; docs/API.md): `engram ui`
 * opens the page at `/#token=<token>`; the page keeps the token in this tab's sessionStorage,
 * takes it out of the address bar at once (so it is not bookmarked or shared), and sends it as
 * `Authorization: Bearer <token>` with every API call. Without a token nothing is sent.
 */

const KEY = 'engram.token'

/** Takes a token from the URL's fragment, if there is one (call once, before routing). */
export function takeTokenFromUrl () {
  const m = /^#token=([^&]*)/.exec(location.hash)
  if (m === null) return
  try { sessionStorage.setItem(KEY, decodeURIComponent(m[1] ?? '')) } catch { /* storage off: no token kept */ }
  history.replaceState(null, '', `${location.pathname}${location.search}#/sync`)
}

/** The headers every API call carries: who calls (the API's guard asks it of body-less POSTs), and the token. */
export function authHeaders () {
  /** @type {Record<string, string>} */
  const h = { 'x-engram-client': 'ui' }
  let token = null
  try { token = sessionStorage.getItem(KEY) } catch { /* storage off */ }
  if (token !== null && token !== '') h.authorization = `Bearer ${token}`
  return h
}
