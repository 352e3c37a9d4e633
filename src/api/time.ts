/**
 * Times in requests (`asOf`, `since`, `until`, `after`): an ISO-8601 date-time with a zone
 * (`2026-11-20T09:30:00Z`, `…+02:00`), or milliseconds since the Unix epoch. The CLI also takes
 * a duration back from now (`1h`, `30m`), which it turns into a time before sending.
 */
import { INVALID_INPUT } from '../core/errors.ts'
import { normalizeDatetime } from '../core/validate.ts'

/** Milliseconds since the epoch of `value` (a number of ms, digits, or an ISO-8601 date-time); INVALID_INPUT naming `field`. */
export function parseTime (value: unknown, field: string): number {
  if (typeof value === 'number' || (typeof value === 'string' && /^\d{1,16}$/.test(value))) {
    const ms = Number(value)
    if (!Number.isSafeInteger(ms) || ms < 0) throw INVALID_INPUT(field, 'must be milliseconds since the epoch (an integer ≥ 0) or an ISO-8601 date-time')
    return ms
  }
  if (typeof value !== 'string') throw INVALID_INPUT(field, 'must be an ISO-8601 date-time such as 2026-11-20T09:30:00Z, or milliseconds since the epoch')
  return Date.parse(normalizeDatetime(value, field))
}
