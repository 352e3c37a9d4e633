/**
 * Auto-sync (`sync.autoSync`): agent-end hooks and configuration changes ask for a sync; the
 * asks are debounced (a burst of them makes one run, `debounceMs` after the last, and never
 * later than `maxDelayMs` after the first) and never overlap: an ask that arrives while a run
 * is under way makes exactly one more run after it.
 */
import type { Logger } from '../util/log.ts'

export interface AutoSyncOptions {
  /** One sync with every peer. */
  readonly run: () => Promise<unknown>
  readonly log: Logger
  readonly debounceMs?: number
  readonly maxDelayMs?: number
  readonly now?: () => number
}

export class AutoSync {
  readonly debounceMs: number
  private readonly maxDelayMs: number
  private readonly opts: AutoSyncOptions
  private timer: NodeJS.Timeout | undefined
  private firstAskAt: number | undefined
  private reasons = new Set<string>()
  private running: Promise<void> | undefined
  private again = false
  private stopped = false
  /** Runs started so far (for tests and status). */
  runs = 0

  constructor (opts: AutoSyncOptions) {
    this.opts = opts
    this.debounceMs = opts.debounceMs ?? 1000
    this.maxDelayMs = Math.max(this.debounceMs, opts.maxDelayMs ?? 10 * this.debounceMs)
  }

  private get now (): number { return (this.opts.now ?? Date.now)() }

  /** True when a run is due after the one under way. */
  get queued (): boolean { return this.again }

  trigger (reason: string): void {
    if (this.stopped) return
    this.reasons.add(reason)
    this.firstAskAt ??= this.now
    if (this.timer !== undefined) clearTimeout(this.timer)
    const delay = Math.max(0, Math.min(this.debounceMs, this.firstAskAt + this.maxDelayMs - this.now))
    this.timer = setTimeout(() => this.fire(), delay)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    await this.running
  }

  private fire (): void {
    this.timer = undefined
    this.firstAskAt = undefined
    if (this.stopped) return
    if (this.running !== undefined) { this.again = true; return }
    const reasons = [...this.reasons].join(', ')
    this.reasons.clear()
    this.runs++
    this.opts.log.debug('auto-sync', { reasons })
    this.running = this.opts.run()
      .then(() => undefined, e => this.opts.log.warn(`auto-sync failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        this.running = undefined
        if (this.again) { this.again = false; this.fire() }
      })
  }
}
