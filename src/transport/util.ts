/**
 * Helpers shared by the transport implementations: the errors they raise, deadlines, and
 * parsing of `host:port` dial addresses.
 */
import { parseHostPort, type HostPort } from '../core/address.ts'
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

export type { HostPort } from '../core/address.ts'

/** The host and port of a dial address, read by the one parser (core/address.ts); throws `INVALID_INPUT` naming the address and what is accepted. */
export function dialAddress (addr: string): HostPort {
  const r = parseHostPort(addr)
  if (r.ok) return r.address
  throw INVALID_INPUT('address', `${JSON.stringify(addr)} ${r.problem}; expected a multiaddr, "host:port" or "[ipv6]:port" with a port in 1-65535`)
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
