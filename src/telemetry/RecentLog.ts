/**
 * The node's recent warnings and errors, kept in memory for the dashboard (each peer's error
 * beside the log line that reported it) and counted for GET /metrics
 * (engram_log_messages_total).
 *
 * `withRecent(logger, recent)` is the node's logger with every warn and error line also kept
 * here (its children too); the lines still go where the logger writes them. At most `capacity`
 * lines are kept (the oldest go first), each message cut to 1,024 characters.
 */
import type { LogFields, Logger, LogLevel } from '../util/log.ts'

export interface LogEntry {
  /** ISO 8601. */
  readonly at: string
  readonly level: 'warn' | 'error'
  readonly message: string
  /** The line's fields, values as text. */
  readonly fields: Readonly<Record<string, string>>
}

const MAX_MESSAGE = 1024
const MAX_FIELD = 256

export class RecentLog {
  readonly capacity: number
  private readonly lines: LogEntry[] = []
  private readonly counts = { warn: 0, error: 0 }
  private readonly now: () => number
  private readonly listeners = new Set<() => void>()

  constructor (opts: { capacity?: number, now?: () => number } = {}) {
    this.capacity = opts.capacity ?? 100
    this.now = opts.now ?? Date.now
  }

  add (level: 'warn' | 'error', message: string, fields: LogFields = {}): void {
    this.counts[level]++
    const text: Record<string, string> = {}
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue
      text[k] = (v instanceof Error ? v.message : typeof v === 'string' ? v : safeJson(v)).slice(0, MAX_FIELD)
    }
    this.lines.push({ at: new Date(this.now()).toISOString(), level, message: message.slice(0, MAX_MESSAGE), fields: text })
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity)
    for (const l of this.listeners) l()
  }

  /** The kept lines, oldest first. */
  entries (): readonly LogEntry[] {
    return [...this.lines]
  }

  /** Warnings and errors logged since start (kept or not). */
  total (level: 'warn' | 'error'): number {
    return this.counts[level]
  }

  /** Calls `listener` after every line kept; returns the function that unsubscribes. */
  onLine (listener: () => void): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }
}

function safeJson (v: unknown): string {
  try { return JSON.stringify(v) ?? String(v) } catch { return String(v) }
}

/** `logger`, with every warn and error line (its children's too) also kept in `recent`. */
export function withRecent (logger: Logger, recent: RecentLog, base: LogFields = {}): Logger {
  const keep = (level: LogLevel, message: string, fields?: LogFields): void => {
    if ((level === 'warn' || level === 'error') && logger.enabled(level)) recent.add(level, message, { ...base, ...fields })
  }
  return {
    level: logger.level,
    error: (m, f) => { logger.error(m, f); keep('error', m, f) },
    warn: (m, f) => { logger.warn(m, f); keep('warn', m, f) },
    info: (m, f) => { logger.info(m, f) },
    debug: (m, f) => { logger.debug(m, f) },
    enabled: at => logger.enabled(at),
    child: fields => withRecent(logger.child(fields), recent, { ...base, ...fields })
  }
}
