/**
 * Which P2P sessions native sync takes on, and what each peer may send (docs/LIMITS.md,
 * docs/SECURITY.md).
 *
 * Admission. Before a peer has proven the seed it costs this node a session and a handshake;
 * so, for sessions other nodes open (this node's own dials are never refused):
 * - at most `maxHandshakes` handshakes in progress at once, and `maxHandshakesPerSource` from one
 *   source (an IPv4 address or an IPv6 /64): a node opening thousands of sessions without
 *   finishing them holds a few slots for the handshake timeout each, never all of them;
 * - at most `maxPeers` sessions (p2p.maxPeers), handshakes included;
 * - online guessing throttled: each handshake that does not complete is a guess of the secrets
 *   from its source, and a source gets `failedHandshakes` of them (a burst, then one every few
 *   seconds); past that, its sessions are refused before any handshake, and that is logged.
 * Manual peers this node has already reached (their node ids are proven by the transport) are
 * neither counted nor refused, so a flood of strangers cannot keep a node's own peers out. A
 * refused session is closed at once, before anything is read from it.
 *
 * Budgets. Every admitted session gets a PeerBudget (messages, bytes and requests per second).
 *
 * Refusals are counted (GET /api/v1/p2p/status, `refused`) and logged at most once per 10 s.
 */
import type { EngramError } from '../../core/errors.ts'
import type { NodeId } from '../../core/ids.ts'
import { clientKey } from '../../util/clientKey.ts'
import { KeyedBuckets, type RateSpec } from '../../util/tokenBucket.ts'
import type { Logger } from '../../util/log.ts'
import { PEER_BUDGET_DEFAULTS, PeerBudget } from './PeerBudget.ts'

export interface GuardLimits {
  readonly maxPeers: number
  readonly maxHandshakes: number
  readonly maxHandshakesPerSource: number
  readonly messagesPerSecond: number
  /** Handshakes that fail (guesses) one source may make (read when the guard is built). */
  readonly failedHandshakes: RateSpec
}

/** Handshakes that fail (guesses) one source may make: 10 at once, then one every 10 s. */
export const FAILED_HANDSHAKES: RateSpec = { ratePerSecond: 0.1, burst: 10 }

export const GUARD_DEFAULTS: GuardLimits = {
  maxPeers: 64,
  maxHandshakes: 64,
  maxHandshakesPerSource: 16,
  messagesPerSecond: PEER_BUDGET_DEFAULTS.messagesPerSecond,
  failedHandshakes: FAILED_HANDSHAKES
}
/** Sources whose failed handshakes are remembered (the least recently seen are forgotten). */
const MAX_SOURCES = 10_000

/** A new session as the guard sees it. */
export interface Candidate {
  readonly direction: 'inbound' | 'outbound'
  readonly remoteAddr: string
  readonly remoteNode: NodeId
  close (reason?: string): Promise<void>
}

export interface GuardCounts {
  /** Counted handshakes in progress. */
  readonly handshakes: number
  /** Sessions refused because too many handshakes were in progress. */
  readonly handshakes_refused: number
  /** Sessions refused because of p2p.maxPeers. */
  readonly peers_refused: number
  /** Requests ignored because a peer sent them too fast. */
  readonly requests_dropped: number
  /** Sessions closed because the peer sent too many messages or bytes. */
  readonly floods: number
  /** Handshakes of sessions other nodes opened that did not complete (wrong secret, timeout, …). */
  readonly handshakes_failed: number
  /** Sessions refused because their source failed too many handshakes (online guessing). */
  readonly guesses_refused: number
}

export interface SessionGuardOptions {
  readonly limits: () => GuardLimits
  readonly log: Logger
  readonly now?: () => number
}

const LOG_EVERY_MS = 10_000

export class SessionGuard {
  private readonly opts: SessionGuardOptions
  private readonly now: () => number
  private readonly bySource = new Map<string, number>()
  private inProgress = 0
  private refusedHandshakes = 0
  private refusedPeers = 0
  private dropped = 0
  private floods = 0
  private failed = 0
  private guessesRefused = 0
  private readonly failures: KeyedBuckets
  private unlogged = 0
  private loggedAt = -Infinity

  constructor (opts: SessionGuardOptions) {
    this.opts = opts
    this.now = opts.now ?? Date.now
    this.failures = new KeyedBuckets(opts.limits().failedHandshakes, MAX_SOURCES, this.now)
  }

  /**
   * Decides on a new session. `sessions`: the sessions this node holds now; `known`: whether a
   * node is a manual peer this node has reached. Admitted: a function to call when the handshake
   * ends, with whether it completed. Refused: undefined, and the session is being closed.
   */
  admit (c: Candidate, sessions: number, known: (node: NodeId) => boolean): ((completed?: boolean) => void) | undefined {
    if (c.direction === 'outbound' || known(c.remoteNode)) return () => {}
    const l = this.opts.limits()
    const source = clientKey(c.remoteAddr)
    let reason: string | undefined
    const guesses = this.failures.peek(source)
    if (guesses !== undefined && guesses.level < 1) {
      this.guessesRefused++
      reason = `too many failed handshakes from ${source}; retry in ${Math.ceil(guesses.retryAfterMs(1) / 1000)} s`
    } else if (sessions >= l.maxPeers) {
      this.refusedPeers++
      reason = `too many peers (p2p.maxPeers = ${l.maxPeers})`
    } else if (this.inProgress >= l.maxHandshakes || (this.bySource.get(source) ?? 0) >= l.maxHandshakesPerSource) {
      this.refusedHandshakes++
      reason = 'busy: too many handshakes in progress'
    }
    if (reason !== undefined) {
      void c.close(reason)
      this.note(`refused a P2P session from ${c.remoteNode} (${c.remoteAddr}): ${reason}`)
      return undefined
    }
    this.inProgress++
    this.bySource.set(source, (this.bySource.get(source) ?? 0) + 1)
    let released = false
    return (completed = true) => {
      if (released) return
      released = true
      if (!completed) {
        this.failed++
        this.failures.get(source).take(1)
      }
      this.inProgress--
      const n = (this.bySource.get(source) ?? 1) - 1
      if (n <= 0) this.bySource.delete(source)
      else this.bySource.set(source, n)
    }
  }

  /** The budget of a new session. */
  budget (): PeerBudget {
    const l = this.opts.limits()
    return new PeerBudget({ ...PEER_BUDGET_DEFAULTS, messagesPerSecond: l.messagesPerSecond }, this.now, () => {
      this.dropped++
      this.note('ignored requests a P2P peer sent too fast')
    })
  }

  /** A session ended (its error, if any). */
  ended (error: EngramError | undefined): void {
    if (error?.code === 'RATE_LIMITED') this.floods++
  }

  counts (): GuardCounts {
    return {
      handshakes: this.inProgress,
      handshakes_refused: this.refusedHandshakes,
      peers_refused: this.refusedPeers,
      requests_dropped: this.dropped,
      floods: this.floods,
      handshakes_failed: this.failed,
      guesses_refused: this.guessesRefused
    }
  }

  /** One warning per LOG_EVERY_MS; the others are counted into the next one. */
  private note (message: string): void {
    const t = this.now()
    if (t - this.loggedAt < LOG_EVERY_MS) { this.unlogged++; return }
    this.opts.log.warn(this.unlogged > 0 ? `${message} (and ${this.unlogged} more refusals since the last line)` : message, { ...this.counts() })
    this.unlogged = 0
    this.loggedAt = t
  }
}
