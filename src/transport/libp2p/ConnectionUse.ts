/**
 * Which libp2p connections `QuicTransport` still needs: each session and each attempt in flight
 * counts as one use of its connection; a connection whose last use ends is closed, and a
 * connection that carries no session one handshake's time after it opened (a peer that
 * connected and went silent) is closed too.
 */
import type { Connection as Libp2pConnection } from '@libp2p/interface'

export class ConnectionUse {
  private readonly uses = new Map<string, number>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly closeTimeoutMs: number
  private readonly idleMs: number

  constructor (closeTimeoutMs: number, idleMs: number) {
    this.closeTimeoutMs = closeTimeoutMs
    this.idleMs = idleMs
  }

  use (conn: Libp2pConnection): void {
    this.uses.set(conn.id, (this.uses.get(conn.id) ?? 0) + 1)
  }

  unuse (conn: Libp2pConnection): void {
    const n = (this.uses.get(conn.id) ?? 1) - 1
    if (n > 0) { this.uses.set(conn.id, n); return }
    this.uses.delete(conn.id)
    this.release(conn)
  }

  /** Closes a connection that no session or attempt uses. */
  release (conn: Libp2pConnection): void {
    if ((this.uses.get(conn.id) ?? 0) > 0 || conn.status !== 'open') return
    conn.close({ signal: AbortSignal.timeout(this.closeTimeoutMs) }).catch((err: unknown) => {
      conn.abort(err instanceof Error ? err : new Error(String(err)))
    })
  }

  /**
   * A connection that carries no session after one handshake's time is closed, unless `keep` says
   * otherwise then (a connection to a relay, or from a node admitted to this relay).
   */
  watchIdle (conn: Libp2pConnection, keep: (conn: Libp2pConnection) => boolean = () => false): void {
    this.after(this.idleMs, () => { if (!keep(conn)) this.release(conn) })
  }

  /** Runs `fn` after `ms` unless `clear()` comes first (the timer does not keep the process alive). */
  after (ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      fn()
    }, ms)
    timer.unref()
    this.timers.add(timer)
    return timer
  }

  cancel (timer: NodeJS.Timeout): void {
    clearTimeout(timer)
    this.timers.delete(timer)
  }

  clear (): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }
}
