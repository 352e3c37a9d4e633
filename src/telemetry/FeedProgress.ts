/**
 * How far one node has read another's changes feed, as pages arrive: the catch-up in flight
 * (records, total, rate, time left) and the lag (records of the feed not read yet, and for how
 * long). The same for both carriers (a native session's pages, a polled pull's pages) and for
 * both directions (pages received here; a peer's acknowledgements of this node's pages). Pure
 * but for the injected clock.
 *
 *   page {from, to, end?, records, more}
 *     more ───────────► a catch-up starts (at `from`) or goes on
 *     !more ──────────► it is done (kept `keepDoneMs` for the dashboard, at 100 %)
 *
 * `end` is the last position of the feed when the sender read the page (an optional field of
 * the wire: older senders do not send it); without it the total and the time left are unknown,
 * and the lag is only known to be 0 once a page says there is no more.
 *
 * A catch-up's progress is measured in feed positions (exact), its count in records received;
 * the total shown is the records received plus the positions still to read, which is exact for
 * a feed of records written once and an upper bound otherwise (a position may hold a record the
 * reader already has, or none), and becomes the count when the catch-up is done.
 */

export interface PageMark {
  /** The reader's position before the page. */
  readonly from: number
  /** Its position after the page. */
  readonly to: number
  /** The feed's last position when the page was read, when the sender says. */
  readonly end?: number
  /** Records in the page. */
  readonly records: number
  /** More pages follow at once. */
  readonly more: boolean
}

export interface CatchUpView {
  readonly records: number
  /** Records expected in all (see the module comment); null while unknown. */
  readonly total: number | null
  /** Share done, 0 to 1 (by feed positions); null while unknown. */
  readonly fraction: number | null
  readonly startedAt: string
  /** Records per second since the start. */
  readonly rate: number
  readonly etaSeconds: number | null
  readonly done: boolean
}

export interface LagView {
  /** Positions of the feed not read yet; null while unknown (a sender that does not say its end). */
  readonly records: number | null
  /** How long the reader has been behind (0 when it is not). */
  readonly seconds: number
}

export interface FeedProgressOptions {
  readonly now?: () => number
  /** How long a finished catch-up is still shown, ms (default 60,000). */
  readonly keepDoneMs?: number
}

interface Run {
  readonly from: number
  readonly startedAt: number
  to: number
  records: number
  doneAt: number | undefined
}

export class FeedProgress {
  private readonly now: () => number
  private readonly keepDoneMs: number
  private run: Run | undefined
  private position = 0
  private end: number | undefined
  /** Since when the reader has been behind; undefined while it is not. */
  private behindSince: number | undefined

  constructor (opts: FeedProgressOptions = {}) {
    this.now = opts.now ?? Date.now
    this.keepDoneMs = opts.keepDoneMs ?? 60_000
  }

  /** A page was read (applied, or acknowledged by the peer). */
  page (p: PageMark): void {
    const now = this.now()
    if (p.more && (this.run === undefined || this.run.doneAt !== undefined)) {
      this.run = { from: p.from, startedAt: now, to: p.from, records: 0, doneAt: undefined }
    }
    const run = this.run
    if (run !== undefined && run.doneAt === undefined) {
      run.to = p.to
      run.records += p.records
      if (!p.more) run.doneAt = now
    }
    this.position = p.to
    // without the sender's end, a page that says there is no more puts the reader at the end
    if (p.end !== undefined) this.end = Math.max(p.end, p.to)
    else if (!p.more) this.end = p.to
    const behind = this.end !== undefined ? this.end > p.to : p.more
    if (!behind) this.behindSince = undefined
    else this.behindSince ??= now
  }

  /** The feed grew to `end` (a sender's own feed, before the reader has read it). */
  feedEnd (end: number): void {
    if (end > (this.end ?? 0)) this.end = end
    if (end > this.position) this.behindSince ??= this.now()
  }

  /** The catch-up in flight, or one finished less than keepDoneMs ago; undefined otherwise. */
  catchUp (): CatchUpView | undefined {
    const run = this.run
    const now = this.now()
    if (run === undefined || (run.doneAt !== undefined && now - run.doneAt > this.keepDoneMs)) return undefined
    const done = run.doneAt !== undefined
    const seconds = Math.max(0.001, ((run.doneAt ?? now) - run.startedAt) / 1000)
    const end = this.end
    const span = end !== undefined ? end - run.from : undefined
    const left = end !== undefined ? Math.max(0, end - run.to) : undefined
    const positionsPerSecond = (run.to - run.from) / seconds
    return {
      records: run.records,
      total: done ? run.records : left !== undefined ? run.records + left : null,
      fraction: done ? 1 : span !== undefined && span > 0 ? Math.min(1, (run.to - run.from) / span) : null,
      startedAt: new Date(run.startedAt).toISOString(),
      rate: Math.round(run.records / seconds),
      etaSeconds: done ? 0 : left !== undefined && positionsPerSecond > 0 ? Math.round(left / positionsPerSecond * 10) / 10 : null,
      done
    }
  }

  /** How far behind the reader is; undefined until a page or the feed's end says. */
  lag (): LagView | undefined {
    if (this.end === undefined && this.behindSince === undefined) return undefined
    const records = this.end === undefined ? null : Math.max(0, this.end - this.position)
    const seconds = this.behindSince === undefined ? 0 : Math.round((this.now() - this.behindSince) / 100) / 10
    return { records, seconds }
  }
}
