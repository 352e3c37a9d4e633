/**
 * Time for discovery, injectable: the static-fallback deadline, mDNS expiry and the peer book's
 * sweep all read `now()` and wait with `setTimer`, so tests drive them with `ManualClock` instead
 * of waiting. Timers never keep the process alive.
 */

export interface Timer {
  cancel (): void
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now (): number
  /** Runs `fn` once after `ms`. */
  setTimer (ms: number, fn: () => void): Timer
}

/** The wall clock and real (unref'd) timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer (ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms))
    t.unref()
    return { cancel: () => { clearTimeout(t) } }
  }
}

interface Pending {
  readonly at: number
  readonly seq: number
  readonly fn: () => void
  cancelled: boolean
}

/** A clock that moves only when told to; `advance` runs the timers that fall due, in order. */
export class ManualClock implements Clock {
  private t: number
  private seq = 0
  private pending: Pending[] = []

  constructor (start = 1_700_000_000_000) {
    this.t = start
  }

  now (): number {
    return this.t
  }

  setTimer (ms: number, fn: () => void): Timer {
    const p: Pending = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false }
    this.pending.push(p)
    return { cancel: () => { p.cancelled = true } }
  }

  /** Timers not yet run nor cancelled. */
  get timers (): number {
    return this.pending.filter(p => !p.cancelled).length
  }

  /**
   * Moves the clock forward by `ms`, running every timer due on the way (timers set by those
   * timers too, when they fall due within the same advance). At most `maxTimers` run.
   */
  advance (ms: number, maxTimers = 100_000): void {
    const end = this.t + ms
    for (let n = 0; n < maxTimers; n++) {
      this.pending = this.pending.filter(p => !p.cancelled)
      let next: Pending | undefined
      for (const p of this.pending) if (p.at <= end && (next === undefined || p.at < next.at || (p.at === next.at && p.seq < next.seq))) next = p
      if (next === undefined) break
      this.pending.splice(this.pending.indexOf(next), 1)
      this.t = Math.max(this.t, next.at)
      next.fn()
    }
    this.t = end
  }
}
