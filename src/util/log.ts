/**
 * A small leveled logger. One line per event, to stderr by default:
 *
 *   2026-11-20T09:30:00.000Z info  engram node started node=12D3KooW… api=http://127.0.0.1:19090
 *
 * A message says what happened and, when something needs doing, what to do about it. Fields
 * follow as key=value; values with spaces, quotes or '=' are JSON-quoted so a line always
 * parses back. The sink and the clock are injectable for tests.
 */

export type LogLevel = 'error' | 'warn' | 'info' | 'debug'
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug']

export type LogFields = Readonly<Record<string, unknown>>

export interface Logger {
  readonly level: LogLevel
  error (message: string, fields?: LogFields): void
  warn (message: string, fields?: LogFields): void
  info (message: string, fields?: LogFields): void
  debug (message: string, fields?: LogFields): void
  /** True when events of `level` are written. */
  enabled (level: LogLevel): boolean
  /** A logger that adds `fields` to every line. */
  child (fields: LogFields): Logger
}

export interface LoggerOptions {
  readonly level?: LogLevel
  /** Receives each line without its newline. Default: write to stderr. */
  readonly sink?: (line: string) => void
  /** Milliseconds since the epoch. Default: Date.now. */
  readonly now?: () => number
  readonly fields?: LogFields
}

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 }

const stderrSink = (line: string): void => { process.stderr.write(line + '\n') }

export function createLogger (opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'info'
  const sink = opts.sink ?? stderrSink
  const now = opts.now ?? Date.now
  const base = opts.fields ?? {}
  const write = (at: LogLevel, message: string, fields?: LogFields): void => {
    if (RANK[at] > RANK[level]) return
    sink(formatLine(now(), at, message, { ...base, ...fields }))
  }
  return {
    level,
    error: (m, f) => write('error', m, f),
    warn: (m, f) => write('warn', m, f),
    info: (m, f) => write('info', m, f),
    debug: (m, f) => write('debug', m, f),
    enabled: at => RANK[at] <= RANK[level],
    child: fields => createLogger({ level, sink, now, fields: { ...base, ...fields } })
  }
}

/** A logger that writes nothing. */
export const silentLogger: Logger = createLogger({ level: 'error', sink: () => {} })

export function formatLine (ms: number, level: LogLevel, message: string, fields: LogFields): string {
  let line = `${new Date(ms).toISOString()} ${level.padEnd(5)} ${oneLine(message)}`
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue
    line += ` ${k}=${formatValue(v)}`
  }
  return line
}

function formatValue (v: unknown): string {
  let s: string
  if (typeof v === 'string') s = v
  else if (v instanceof Error) s = v.message
  else if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === null) s = String(v)
  else {
    try { s = JSON.stringify(v) ?? String(v) } catch { s = String(v) }
    return oneLine(s)
  }
  return s === '' || /[\s"=\\]/.test(s) || !s.isWellFormed() ? JSON.stringify(s) : s
}

const oneLine = (s: string): string => s.replace(/\r?\n/g, ' ⏎ ')
