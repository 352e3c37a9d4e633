/**
 * Rebuilds the full-text index in the background: slices of the changes feed (Store
 * continueTextRebuild, each its own short transaction) with a turn of the event loop between
 * them, so the node keeps answering and writing while it runs; records written meanwhile are
 * indexed by their own writes. Progress (records, total, rate, ETA) is logged every few seconds
 * and answered by `progress()`.
 *
 * `start` empties the index and rebuilds it (engram reindex); `resume` finishes a rebuild that
 * a store asks for when it opens (a migrated file, an index built by other rules, records a
 * catch-up left pending before the node stopped); `changed` (every committed change) starts it
 * when a far-behind catch-up's pages leave records pending (replication/farBehind.ts). While
 * the pending range keeps growing — the catch-up is still deferring — the rebuild waits, so its
 * slices do not slow the catch-up; it goes on `quietMs` after the range last grew.
 *
 * The same catch-up may have left out the store's secondary indexes of triples (Store
 * buildDeferredIndexes, replication/farBehind.ts): they are built first, one per turn of the event
 * loop (each a CREATE INDEX in one transaction: about half a second for the largest at a million
 * triples), then the text.
 */
import type { Store } from '../store/Store.ts'
import type { TextIndexState } from '../store/textSearch.ts'
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
  /** The rebuild waits until the pending range has not grown for this long (default 2,000 ms). */
  readonly quietMs?: number
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
  private readonly quietMs: number
  private started: { at: number, done: number } | undefined
  /** The pending range's end as last seen, and when it last grew. */
  private seen = { upto: 0, at: -Infinity }
  /** A rebuild failed here: changes do not start it again (its error would repeat with each), `start` does. */
  private failed = false

  constructor (opts: ReindexerOptions) {
    this.store = opts.store
    this.log = opts.log
    this.slice = opts.slice ?? 5000
    this.logEveryMs = opts.logEveryMs ?? 5000
    this.now = opts.now ?? Date.now
    this.quietMs = opts.quietMs ?? 2000
  }

  /** Empties the index and rebuilds it from the records; answers the state at the start. */
  start (): ReindexProgress {
    const s = this.store.startTextRebuild()
    this.log?.info('rebuilding the full-text index', { records: s.upto })
    this.started = { at: this.now(), done: 0 }
    this.seen = { upto: s.upto, at: -Infinity }
    this.failed = false
    this.resume()
    return this.progress()
  }

  /** Continues a rebuild under way, if any (and none is running here). */
  resume (): void {
    if (this.stopped || this.running !== undefined) return
    const s = this.store.textIndex()
    if (s.upto > this.seen.upto) this.seen = { upto: s.upto, at: this.seen.at }
    if (s.rebuilding || this.store.deferredIndexes() > 0) this.running = this.run().finally(() => { this.running = undefined })
  }

  /** A change was committed: a pending range that grew holds the rebuild; one pending starts it. */
  changed (): void {
    if (this.stopped || this.failed) return
    this.see(this.store.textIndex())
    if (this.running === undefined) this.resume()
  }

  private see (s: TextIndexState): void {
    if (s.upto > this.seen.upto) this.seen = { upto: s.upto, at: this.now() }
    else if (s.upto !== this.seen.upto) this.seen = { upto: s.upto, at: this.seen.at }
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
    let lastLog = this.now()
    try {
      while (!this.stopped) {
        const wait = this.seen.at + this.quietMs - this.now()
        if (wait > 0) {
          // a catch-up is still leaving records pending: the rate is measured from when the slices go on
          this.started = undefined
          await new Promise(resolve => setTimeout(resolve, Math.min(wait, 250)))
          continue
        }
        if (this.store.deferredIndexes() > 0) {
          const t0 = this.now()
          const left = this.store.buildDeferredIndexes()
          this.log?.info('built an index a catch-up left for later', { left, seconds: Math.round((this.now() - t0) / 100) / 10 })
          await new Promise(resolve => setImmediate(resolve))
          continue
        }
        if (!this.store.textIndex().rebuilding) return
        if (this.started === undefined) {
          const at = this.store.textIndex()
          this.started = { at: this.now(), done: at.done }
          this.log?.info('the full-text index is catching up', { done: at.done, of: at.upto })
        }
        const started = this.started
        const s = this.store.continueTextRebuild(this.slice)
        this.see(s)
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
      this.failed = true
      this.log?.error('rebuilding the full-text index failed; search finds only what it indexed so far. Run engram reindex to try again', { error: e })
    }
  }
}
