/**
 * How the REST client says that it reached no daemon: UNREACHABLE (nothing answered at the base
 * URL; it says how to start one, and the CLI exits 3 on `details.unreachable`) and UNTRUSTED
 * (a TLS daemon answered with a certificate the client does not trust, or wanted one from the
 * client), with the words for a failed fetch and the test for a connection closed under a
 * request.
 */
import { UNAVAILABLE, type EngramError } from '../core/errors.ts'

/** The daemon did not answer: says how to start one (the CLI exits 3 on `details.unreachable`). */
export function UNREACHABLE (url: string, why: string): EngramError {
  return UNAVAILABLE(
    `no engram daemon reachable at ${url} (${why}); start one with \`engram start\` (or \`npm start\` in the engram folder), ` +
    'or point the CLI at it with --url, ENGRAM_URL or --data-dir', { url, unreachable: true })
}

/** The daemon answered over TLS, but the client does not trust its certificate (or it wants one from the client). */
export function UNTRUSTED (url: string, why: string): EngramError {
  return UNAVAILABLE(
    `the engram daemon at ${url} answered over TLS, but ${why}; the CLI trusts tls.ca (ENGRAM_SYNC_TLS_CA), ` +
    'else the CA in the api.json of the daemon of its data directory (--data-dir), else the CA of engram tls init', { url, tls: true })
}

/** Whether a fetch failed because the connection was closed under it (not refused, not timed out). */
export function isConnectionReset (e: unknown): boolean {
  const cause = (e as { cause?: { code?: string } }).cause
  return cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET' || cause?.code === 'EPIPE'
}

/** Why a fetch failed, in a few words: a timeout, or the cause's errno or message. */
export function describeFetchError (e: unknown, timeoutMs: number): string {
  if (e instanceof DOMException && (e.name === 'TimeoutError' || e.name === 'AbortError')) return `no answer within ${timeoutMs / 1000} s`
  const cause = (e as { cause?: { code?: string, message?: string } }).cause
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e))
}
