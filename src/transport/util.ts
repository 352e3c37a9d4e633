/**
 * Helpers shared by the transport implementations: the errors they raise, deadlines, and
 * parsing of `host:port` dial addresses.
 */
import { EngramError, INVALID_INPUT, TIMEOUT, isEngramError, UNAVAILABLE, INTERNAL } from '../core/errors.ts'

/** The session is closed (or closing): nothing more can be sent on it. */
export function connectionClosed (id: string, reason: string | undefined): EngramError {
  return UNAVAILABLE(`connection ${id} is closed${reason !== undefined ? ` (${reason})` : ''}`,
    { connection: id, reason })
}

/** A peer could not be reached, or refused the session. */
export function unreachable (addr: string, why: string, cause?: unknown): EngramError {
  return UNAVAILABLE(`cannot connect to ${addr}: ${why}`, { addr }, cause)
}

/** The transport is not running. */
export function notStarted (what: string): EngramError {
  return UNAVAILABLE(`transport is not running: cannot ${what}`)
}

/** An unexpected failure inside a session (for example a frame handler that threw). */
export function internalError (why: string, cause?: unknown): EngramError {
  return INTERNAL(why, undefined, cause)
}

/** Wraps any failure of a dial into an `EngramError`, preferring `TIMEOUT` when the deadline passed. */
export function dialFailure (addr: string, err: unknown, timedOut: boolean, timeoutMs: number): EngramError {
  if (timedOut) return TIMEOUT(`dial ${addr}`, timeoutMs)
  if (isEngramError(err)) return err
  return unreachable(addr, errorMessage(err), err)
}

export function errorMessage (err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    return err.errors.map(errorMessage).join('; ')
  }
  if (err instanceof Error) return err.message !== '' ? err.message : err.name
  return String(err)
}

/** A `host:port` dial address after parsing. */
export interface HostPort {
  host: string
  port: number
  /** 4 or 6 when `host` is an IP literal, 0 for a host name. */
  family: 0 | 4 | 6
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/

/**
 * Parses `host:port`, `[v6]:port` or `host name:port`. IPv6 literals must be bracketed (a bare
 * `::1:19091` is ambiguous). Throws `INVALID_INPUT` naming the address and what is accepted.
 */
export function parseHostPort (addr: string): HostPort {
  const bad = (problem: string): EngramError =>
    INVALID_INPUT('address', `${JSON.stringify(addr)} ${problem}; expected a multiaddr, "host:port" or "[ipv6]:port" with a port in 1-65535`)
  let host: string
  let portText: string
  if (addr.startsWith('[')) {
    const end = addr.indexOf(']')
    if (end < 0 || addr[end + 1] !== ':') throw bad('is not a valid bracketed IPv6 address')
    host = addr.slice(1, end)
    portText = addr.slice(end + 2)
    if (!isIPv6Literal(host)) throw bad('does not hold an IPv6 address between the brackets')
  } else {
    const colon = addr.lastIndexOf(':')
    if (colon < 0) throw bad('has no port')
    host = addr.slice(0, colon)
    portText = addr.slice(colon + 1)
    if (host.includes(':')) throw bad('looks like an IPv6 address without brackets')
    if (!IPV4.test(host) && (!HOSTNAME.test(host) || /^[\d.]+$/.test(host))) throw bad('has an invalid host')
  }
  if (!/^\d{1,5}$/.test(portText)) throw bad('has an invalid port')
  const port = Number(portText)
  if (port < 1 || port > 65535) throw bad('has a port out of range')
  const family = IPV4.test(host) ? 4 : isIPv6Literal(host) ? 6 : 0
  return { host, port, family }
}

function isIPv6Literal (s: string): boolean {
  return s.includes(':') && /^[0-9A-Fa-f:.]+(%[A-Za-z0-9._-]+)?$/.test(s) && (s.match(/::/g) ?? []).length <= 1
}

/**
 * An abort signal that fires when `ms` elapse or any of `signals` aborts, plus a way to tell
 * whether it was the deadline that fired.
 */
export function deadline (ms: number, ...signals: Array<AbortSignal | undefined>): { signal: AbortSignal, timedOut: () => boolean, remaining: () => number } {
  const timer = AbortSignal.timeout(Math.max(0, ms))
  const end = Date.now() + ms
  const all = [timer, ...signals.filter((s): s is AbortSignal => s !== undefined)]
  return {
    signal: AbortSignal.any(all),
    timedOut: () => timer.aborted,
    remaining: () => Math.max(0, end - Date.now())
  }
}

/** Resolves after `ms`, or rejects as soon as `signal` aborts. Used for bounded waits, never as a sleep. */
export function abortableDelay (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason); return }
    const onAbort = (): void => { clearTimeout(t); reject(signal.reason) }
    const t = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Races a promise against an abort signal; the promise keeps running, its result is ignored. */
export function raceAbort<T> (p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(v => { signal.removeEventListener('abort', onAbort); resolve(v) },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e) })
  })
}
