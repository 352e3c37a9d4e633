/**
 * The REST API, as the dashboard calls it: the same routes the CLI uses (docs/API.md), on the
 * node that served the page (same origin, relative URLs), with the headers the API's guard asks
 * of a local client (lib/token.js). Every failure is an ApiError with the node's message and
 * stable code (`{error, code, details}`), or code UNREACHABLE when the node does not answer.
 */
import { authHeaders } from './token.js'

export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {string} code
   * @param {number} status
   */
  constructor (message, code, status) {
    super(message)
    this.code = code
    this.status = status
  }
}

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api (method, path, body) {
  /** @type {RequestInit} */
  const init = { method, headers: { accept: 'application/json', ...authHeaders() } }
  if (body !== undefined) {
    init.headers = { ...init.headers, 'content-type': 'application/json' }
    init.body = JSON.stringify(body)
  }
  let res
  try {
    res = await fetch(path, init)
  } catch (e) {
    throw new ApiError(`the node does not answer (${e instanceof Error ? e.message : String(e)}); is it still running?`, 'UNREACHABLE', 0)
  }
  const text = await res.text()
  let parsed
  try { parsed = text === '' ? undefined : JSON.parse(text) } catch { parsed = undefined }
  if (!res.ok) {
    const message = typeof parsed?.error === 'string' ? parsed.error : `${res.status} ${res.statusText}`
    throw new ApiError(message, typeof parsed?.code === 'string' ? parsed.code : 'HTTP_' + res.status, res.status)
  }
  return parsed
}

/** @param {Record<string, string | number | undefined>} q */
export function query (q) {
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v))
  const s = p.toString()
  return s === '' ? '' : `?${s}`
}

/** A path segment (note key, episode id) %-encoded, `/` included. */
export const seg = (/** @type {string} */ s) => encodeURIComponent(s)
