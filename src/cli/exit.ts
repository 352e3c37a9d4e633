/**
 * Exit codes of the engram CLI, and how errors map to them:
 *
 *   0   ok
 *   1   the command failed at run time (e.g. not found)
 *   2   usage error or invalid input (bad flag, bad value, refused by validation)
 *   3   the daemon is not reachable
 *   78  configuration error (EX_CONFIG of sysexits.h)
 */
import { EngramError, isEngramError, BAD_INPUT } from '../core/errors.ts'

export { UNREACHABLE } from '../client/failures.ts'

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  config: 78
} as const

/** A usage error: a message, and the command whose --help explains the right use. */
export function USAGE (message: string, command?: string): EngramError {
  const hint = command !== undefined ? `; see engram ${command} --help` : '; see engram --help'
  return BAD_INPUT(message + hint, { usage: true })
}

export function exitCodeFor (err: unknown): number {
  if (!isEngramError(err)) return EXIT.failed
  if (err.details?.unreachable === true) return EXIT.unreachable
  switch (err.code) {
    case 'CONFIG_INVALID': return EXIT.config
    case 'INVALID_INPUT': case 'ID_MISMATCH': case 'LIMIT_EXCEEDED': return EXIT.usage
    default: return EXIT.failed
  }
}

/** The one line printed for an error: `engram: <message> (<CODE>)`. */
export function errorLine (err: unknown): string {
  if (isEngramError(err)) return `engram: ${oneLine(err.message)} (${err.code})`
  const message = err instanceof Error ? err.message : String(err)
  return `engram: ${oneLine(message)} (INTERNAL)`
}

const oneLine = (s: string): string => s.replace(/\s*\r?\n\s*/g, ' ')
