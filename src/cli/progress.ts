/**
 * The progress of a long operation (an export, an import, a catch-up sync), on stderr.
 *
 * On a terminal, one line redrawn in place at most ten times a second, with a bar when the
 * total is known:
 *
 *   export  [██████████░░░░░░░░░░]  52,000/100,000 records  12,400/s  ETA 0:04
 *
 * Elsewhere (a pipe, a log file), a plain line every few seconds and one at the end, so a log
 * says how far it got without a line per record:
 *
 *   export: 52,000 of 100,000 records (52 %), 12,400/s, about 4 s left
 *
 * The rate is measured over the last few seconds (a stall shows), the ETA is what remains at
 * that rate. The formatting is pure (`progressLine`); `Progress` only decides when to print.
 */
import type { CliIo } from './io.ts'

export interface ProgressSnapshot {
  readonly label: string
  /** What is counted, plural: "records", "items". */
  readonly unit: string
  readonly done: number
  /** Undefined while the total is not known. */
  readonly total?: number
  /** Per second, undefined until it can be measured. */
  readonly rate?: number
}

const num = (n: number): string => Math.round(n).toLocaleString('en-US')

/** "0:04", "12:30", "1:02:03". */
export function clock (seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const ss = String(s % 60).padStart(2, '0')
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`
}

/** Seconds left at the current rate, or undefined when it cannot be said. */
export function eta (p: ProgressSnapshot): number | undefined {
  if (p.total === undefined || p.rate === undefined || p.rate <= 0) return undefined
  return Math.max(0, p.total - p.done) / p.rate
}

/** The terminal line: label, bar (total known), count, rate, ETA; fits `columns`. */
export function progressLine (p: ProgressSnapshot, columns: number): string {
  const count = p.total !== undefined ? `${num(p.done)}/${num(p.total)} ${p.unit}` : `${num(p.done)} ${p.unit}`
  const rate = p.rate !== undefined ? `  ${num(p.rate)}/s` : ''
  const left = eta(p)
  const tail = `  ${count}${rate}${left !== undefined ? `  ETA ${clock(left)}` : ''}`
  if (p.total === undefined || p.total <= 0) return (p.label + tail).slice(0, Math.max(1, columns - 1))
  const width = Math.max(10, Math.min(40, columns - 1 - p.label.length - 4 - tail.length))
  const filled = Math.min(width, Math.round(width * Math.min(1, p.done / p.total)))
  return `${p.label}  [${'█'.repeat(filled)}${'░'.repeat(width - filled)}]${tail}`.slice(0, Math.max(1, columns - 1))
}

/** The plain line for logs. */
export function progressText (p: ProgressSnapshot): string {
  const of = p.total !== undefined && p.total > 0
    ? `${num(p.done)} of ${num(p.total)} ${p.unit} (${Math.floor(Math.min(1, p.done / p.total) * 100)} %)`
    : `${num(p.done)} ${p.unit}`
  const left = eta(p)
  return `${p.label}: ${of}${p.rate !== undefined ? `, ${num(p.rate)}/s` : ''}${left !== undefined ? `, about ${clock(left)} left` : ''}`
}

export interface ProgressOptions {
  readonly unit: string
  readonly total?: number
  /** Time between plain lines when not on a terminal (default 5 s). */
  readonly plainEveryMs?: number
  readonly now?: () => number
}

/** Samples kept for the rate: the last RATE_WINDOW_MS of updates. */
const RATE_WINDOW_MS = 5000
const REDRAW_MS = 100

export class Progress {
  private readonly io: CliIo
  private readonly label: string
  private readonly opts: ProgressOptions
  private readonly now: () => number
  private total: number | undefined
  private done = 0
  private samples: Array<{ t: number, done: number }> = []
  private lastPrint = -Infinity
  private drawn = false

  constructor (io: CliIo, label: string, opts: ProgressOptions) {
    this.io = io
    this.label = label
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.total = opts.total
    this.samples.push({ t: this.now(), done: 0 })
  }

  setTotal (total: number | undefined): void { this.total = total }

  /** `done` so far (absolute); prints when it is time to. */
  update (done: number): void {
    this.done = done
    const t = this.now()
    this.samples.push({ t, done })
    while (this.samples.length > 2 && t - this.samples[1]!.t > RATE_WINDOW_MS) this.samples.shift()
    const every = this.io.errTerminal !== undefined ? REDRAW_MS : (this.opts.plainEveryMs ?? 5000)
    if (t - this.lastPrint >= every) this.print(t)
  }

  /** Ends the display: the last state, then `summary` on its own line when given. */
  finish (summary?: string): void {
    const t = this.now()
    if (this.io.errTerminal !== undefined) {
      if (this.drawn || summary === undefined) this.print(t)
      this.io.err('\n')
    } else if (this.lastPrint > -Infinity || summary === undefined) {
      this.print(t)
    }
    if (summary !== undefined) this.io.err(summary + '\n')
  }

  snapshot (): ProgressSnapshot {
    const first = this.samples[0]!
    const last = this.samples[this.samples.length - 1]!
    const dt = (last.t - first.t) / 1000
    const rate = dt >= 0.2 ? (last.done - first.done) / dt : undefined
    return { label: this.label, unit: this.opts.unit, done: this.done, ...(this.total !== undefined ? { total: this.total } : {}), ...(rate !== undefined ? { rate } : {}) }
  }

  private print (t: number): void {
    this.lastPrint = t
    const s = this.snapshot()
    const term = this.io.errTerminal
    if (term !== undefined) {
      this.io.err(`\r${progressLine(s, term.columns())}\x1b[K`)
      this.drawn = true
    } else {
      this.io.err(progressText(s) + '\n')
    }
  }
}
