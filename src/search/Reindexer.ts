/**
 * Rebuilds the full-text index in the background: slices of the changes feed (Store
 * continueTextRebuild, each its own short transaction) with a turn of the event loop between
 * them, so the node keeps answering and writing while it runs; records written meanwhile are
 * indexed by their own writes. Progress (records, total, rate, ETA) is logged every few seconds
 * and answered by `progress()`.
 *
 * `start` empties the index and rebuilds it (engram reindex); `resume` finishes a rebuild that
 * a store asks for when it opens (a migrated file, an index built by other rules).
 */
import type { TextIndexState, Store } from '../store/Store.ts'
import type { Logger } from '../util/log.ts'

export interface ReindexProgress extends TextIndexState {
  /** Feed positions per second, since this rebuild started here. */
  readonly ratePerSecond?: number
  readonly etaSeconds?: number
}

export interface ReindexerOptions {
  readonly store: Store
  readonly log?: Logger
  /** Feed positions per transaction (default 5,000). */
  readonly slice?: number
  /** Time between progress lines in the log (default 5,000 ms). */
  readonly logEveryMs?: number
  readonly now?: () => number
}

export class Reindexer {
  private readonly store: Store
  private readonly log: Logger | undefined
  private readonly slice: number
  private readonly logEveryMs: number
  private readonly now: () => number
  private running: Promise<void> | undefined
  private stopped = false
  private started: { at: number, done: number } | undefined

  constructor (opts: ReindexerOptions) {
    this.store = opts.store
    this.log = opts.log
    this.slice = opts.slice ?? 5000
    this.logEveryMs = opts.logEveryMs ?? 5000
    this.now = opts.now ?? Date.now
  }

  /** Empties the index and rebuilds it from the records; answers the state at the start. */
  start (): ReindexProgress {
    const s = this.store.startTextRebuild()
    this.log?.info('rebuilding the full-text index', { records: s.upto })
    this.started = { at: this.now(), done: 0 }
    this.resume()
    return this.progress()
  }

  /** Continues a rebuild under way, if any (and none is running here). */
  resume (): void {
    if (this.stopped || this.running !== undefined || !this.store.textIndex().rebuilding) return
    this.running = this.run().finally(() => { this.running = undefined })
  }

  progress (): ReindexProgress {
    const s = this.store.textIndex()
    if (!s.rebuilding || this.started === undefined) return s
    const seconds = (this.now() - this.started.at) / 1000
    const rate = seconds > 0 ? (s.done - this.started.done) / seconds : 0
    return rate > 0 ? { ...s, ratePerSecond: Math.round(rate), etaSeconds: Math.ceil((s.upto - s.done) / rate) } : s
  }

  /** Resolves when the rebuild running here has ended (or paused: stop). */
  async idle (): Promise<void> {
    while (this.running !== undefined) await this.running
  }

  async stop (): Promise<void> {
    this.stopped = true
    await this.running
  }

  private async run (): Promise<void> {
    this.started ??= { at: this.now(), done: this.store.textIndex().done }
    const started = this.started
    let lastLog = this.now()
    try {
      while (!this.stopped) {
        const s = this.store.continueTextRebuild(this.slice)
        if (!s.rebuilding) {
          this.log?.info('the full-text index is complete', { records: s.docs, seconds: Math.round((this.now() - started.at) / 100) / 10 })
          this.started = undefined
          return
        }
        if (this.now() - lastLog >= this.logEveryMs) {
          lastLog = this.now()
          const p = this.progress()
          this.log?.info('rebuilding the full-text index', { done: p.done, of: p.upto, perSecond: p.ratePerSecond, etaSeconds: p.etaSeconds })
        }
        await new Promise(resolve => setImmediate(resolve))
      }
    } catch (e) {
      this.log?.error('rebuilding the full-text index failed; search finds only what it indexed so far. Run engram reindex to try again', { error: e })
    }
  }
}
