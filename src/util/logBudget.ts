/**
 * A bound on log lines about one kind of event (refused connections, refused requests): each
 * event gets its own line until `perMinute` lines were written in the last minute; the events
 * beyond are only counted, and the next line that is written says how many went unlogged. A
 * peer hammering the node cannot fill its disk, and an operator still sees every kind of
 * refusal.
 */
export class LogBudget {
  private readonly perMinute: number
  private readonly now: () => number
  private windowStart = -Infinity
  private used = 0
  private skipped = 0

  constructor (perMinute: number, now: () => number = Date.now) {
    this.perMinute = perMinute
    this.now = now
  }

  /**
   * Whether to log this event: false when over budget (it is counted), else the number of
   * events that went unlogged since the last line (0 usually).
   */
  take (): number | false {
    const t = this.now()
    if (t - this.windowStart >= 60_000) {
      this.windowStart = t
      this.used = 0
    }
    if (this.used >= this.perMinute) {
      this.skipped++
      return false
    }
    this.used++
    const skipped = this.skipped
    this.skipped = 0
    return skipped
  }
}
