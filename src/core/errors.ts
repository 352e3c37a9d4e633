/**
 * Errors carry a stable `code` that callers (and the REST API) branch on, a message that
 * says what is wrong and what is allowed, and optional structured `details`.
 * Build them with the factories below, never with `new EngramError` scattered around.
 */

export type ErrorCode =
  | 'INVALID_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'HLC_DRIFT'
  | 'HLC_OVERFLOW'
  | 'ID_MISMATCH'
  | 'LIMIT_EXCEEDED'
  | 'CONFIG_INVALID'
  | 'STORE_UNAVAILABLE'
  | 'STORE_CORRUPT'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'TIMEOUT'
  | 'PROTOCOL'
  | 'UNAVAILABLE'
  | 'RATE_LIMITED'
  | 'INTERNAL'

export class EngramError extends Error {
  readonly code: ErrorCode
  readonly details: Record<string, unknown> | undefined

  constructor (code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'EngramError'
    this.code = code
    this.details = details
  }
}

export const isEngramError = (e: unknown): e is EngramError => e instanceof EngramError

/** A value that breaks a rule: names the field, the value (abbreviated) and what is allowed. */
export function INVALID_INPUT (field: string, problem: string, details?: Record<string, unknown>): EngramError {
  return new EngramError('INVALID_INPUT', `${field}: ${problem}`, { field, ...details })
}

export function NOT_FOUND (what: string, id: string): EngramError {
  return new EngramError('NOT_FOUND', `${what} not found: ${id}`, { what, id })
}

export function LIMIT_EXCEEDED (what: string, limit: number, actual: number, hint?: string): EngramError {
  return new EngramError('LIMIT_EXCEEDED', `${what} is ${actual}, over the limit of ${limit}${hint !== undefined ? `: ${hint}` : ''}`, { what, limit, actual })
}

export function HLC_DRIFT (remoteWallMs: number, localWallMs: number, maxDriftMs: number, from: string): EngramError {
  const ahead = remoteWallMs - localWallMs
  return new EngramError('HLC_DRIFT',
    `timestamp from ${from} is ${ahead} ms ahead of this node's clock (allowed: ${maxDriftMs} ms); ` +
    'check the clocks of both machines (NTP) or raise hlc.maxDriftMs',
    { remoteWallMs, localWallMs, maxDriftMs, from })
}

export function ID_MISMATCH (claimed: string, computed: string): EngramError {
  return new EngramError('ID_MISMATCH', `triple id ${claimed} does not match its content (computed ${computed})`, { claimed, computed })
}

/** `config KEY = VALUE (from SOURCE): ALLOWED`, or `config KEY is not set: ALLOWED` for a key that has no value. */
export function CONFIG_INVALID (key: string, value: unknown, allowed: string, source?: string): EngramError {
  const from = source !== undefined && source !== 'default' ? ` (from ${source})` : ''
  const what = value === undefined ? `config ${key} is not set${from}` : `config ${key} = ${preview(value)}${from}`
  return new EngramError('CONFIG_INVALID', `${what}: ${allowed}`, { key, value, allowed, source })
}

export function UNAUTHORIZED (why: string, details?: Record<string, unknown>, cause?: unknown): EngramError {
  return new EngramError('UNAUTHORIZED', why, details, cause === undefined ? undefined : { cause })
}

/** Something this needs is not there or not running now (a peer, the store, sync, an embedding server); retrying later may work. */
export function UNAVAILABLE (why: string, details?: Record<string, unknown>, cause?: unknown): EngramError {
  return new EngramError('UNAVAILABLE', why, details, cause === undefined ? undefined : { cause })
}

/** The request contradicts what is already there (a second daemon, a name already taken). */
export function CONFLICT (why: string, details?: Record<string, unknown>): EngramError {
  return new EngramError('CONFLICT', why, details)
}

/** The caller may not use this at all (e.g. a route that only this machine may call). */
export function FORBIDDEN (why: string, details?: Record<string, unknown>): EngramError {
  return new EngramError('FORBIDDEN', why, details)
}

export function TIMEOUT (what: string, ms: number): EngramError {
  return new EngramError('TIMEOUT', `${what} timed out after ${ms} ms`, { what, ms })
}

/** A sender went over a rate limit (docs/LIMITS.md); it may retry after `retryAfterMs`. */
export function RATE_LIMITED (why: string, retryAfterMs: number, details?: Record<string, unknown>): EngramError {
  return new EngramError('RATE_LIMITED', why, { ...details, retryAfterMs })
}

export function PROTOCOL (why: string, details?: Record<string, unknown>): EngramError {
  return new EngramError('PROTOCOL', why, details)
}

/** The store cannot be used: it is closed, the file cannot be opened, or it was written by a newer version. */
export function STORE_UNAVAILABLE (why: string, details?: Record<string, unknown>, cause?: unknown): EngramError {
  return new EngramError('STORE_UNAVAILABLE', why, details, cause === undefined ? undefined : { cause })
}

/** The store's file is damaged (SQLite reports corruption, or its contents break the schema's rules). */
export function STORE_CORRUPT (why: string, details?: Record<string, unknown>, cause?: unknown): EngramError {
  return new EngramError('STORE_CORRUPT', why, details, cause === undefined ? undefined : { cause })
}

/** A broken internal rule: a bug, never a user's mistake. */
export function INTERNAL (why: string, details?: Record<string, unknown>, cause?: unknown): EngramError {
  return new EngramError('INTERNAL', why, details, cause === undefined ? undefined : { cause })
}

// Codes whose factory above builds a fixed sentence have a second factory for a sentence of
// the caller's own, when the fixed one cannot say what to do (each still names the value and
// what is allowed, or what to do next).

/** INVALID_INPUT in the caller's words (a usage error, a file that cannot be read). */
export function BAD_INPUT (why: string, details?: Record<string, unknown>): EngramError {
  return new EngramError('INVALID_INPUT', why, details)
}

/** NOT_FOUND in the caller's words, saying how to make the missing thing. */
export function ABSENT (why: string, details?: Record<string, unknown>): EngramError {
  return new EngramError('NOT_FOUND', why, details)
}

/** LIMIT_EXCEEDED in the caller's words (a count of peers, saying which to remove). */
export function TOO_MANY (why: string, limit: number, details?: Record<string, unknown>): EngramError {
  return new EngramError('LIMIT_EXCEEDED', why, { limit, ...details })
}

/** CONFIG_INVALID for something configured that cannot be used as it is (a file, a host, a key's mode). */
export function CONFIG_UNUSABLE (why: string, details?: Record<string, unknown>): EngramError {
  return new EngramError('CONFIG_INVALID', why, details)
}

/**
 * An error another engram process answered with (a daemon's `{error, code, details}`, a peer's
 * stream), rebuilt here with its code, so callers branch on it as on their own.
 */
export function REMOTE_ERROR (code: ErrorCode, message: string, details?: Record<string, unknown>): EngramError {
  return new EngramError(code, message, details)
}

/** A short, single-line rendering of a value for error messages. */
export function preview (value: unknown, max = 60): string {
  let s: string
  try {
    s = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value)
  } catch {
    s = String(value)
  }
  return s.length > max ? `${s.slice(0, max - 1)}…` : s
}
