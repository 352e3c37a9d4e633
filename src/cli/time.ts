/**
 * Times on the command line (`--as-of`, `--since`, `--until`, `--after`): an ISO-8601
 * date-time (`2026-11-20T09:30:00Z`), milliseconds since the epoch, or a duration back from now
 * (`90s`, `30m`, `1h`, `2d`, `1w`). Sent to the daemon as ISO-8601.
 */
import { USAGE } from './exit.ts'

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

export function cliTime (text: string, option: string, command: string, now: number = Date.now()): string {
  const ago = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(text)
  if (ago !== null) return new Date(now - Number(ago[1]) * UNIT_MS[ago[2]!]!).toISOString()
  if (/^\d{1,16}$/.test(text)) return new Date(Number(text)).toISOString()
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) return text
  throw USAGE(`--${option} must be a time: an ISO-8601 date-time such as 2026-11-20T09:30:00Z, milliseconds since the epoch, or a duration back from now such as 1h or 30m (got ${JSON.stringify(text)})`, command)
}
