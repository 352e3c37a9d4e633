/**
 * What one P2P peer may send, per session (docs/LIMITS.md, docs/SECURITY.md), checked for every
 * frame received after the handshake:
 *
 * - frames: `messagesPerSecond` (p2p.maxMessagesPerSecond), bursts of twice as many, and
 *   `bytesPerSecond`, bursts of four seconds' worth. A peer over either is flooding: the session
 *   is closed (RATE_LIMITED) and the peer is dialled again later with backoff.
 * - requests: messages that make this node read its store, compute or send — `cursor` (restarts
 *   the stream), `digest`, `buckets`, `bloom` (a filter is answered with records and a filter),
 *   and the coded rounds' `rdigest`, `rsymbols`, `rmore`, `rwant`, `rpoly`, `rpwant` (each answered with symbols, evaluations or records) —
 *   at most `requestsPerSecond`, bursts of one second's worth. One over it is ignored (and
 *   counted): the stream asks again after its timeout, and gossip rounds are lossy by design
 *   (the next round finds the same difference), so an honest peer loses nothing.
 *
 * The request burst is a quarter of the smallest frame burst (requestsPerSecond × 1 s against
 * 2 × the smallest messagesPerSecond), so a flood of which half or more are requests has requests
 * ignored before it is cut, however fast it comes.
 *
 * An honest peer stays well below every budget: its pages wait for acknowledgements (at most two
 * unacknowledged) and it starts a gossip round every p2p.gossipIntervalMs.
 */
import { RATE_LIMITED, type EngramError } from '../../core/errors.ts'
import { TokenBucket } from '../../util/tokenBucket.ts'

export interface PeerBudgetLimits {
  readonly messagesPerSecond: number
  readonly bytesPerSecond: number
  readonly requestsPerSecond: number
}

export const PEER_BUDGET_DEFAULTS: PeerBudgetLimits = {
  messagesPerSecond: 5_000,
  bytesPerSecond: 64 * 1024 * 1024,
  requestsPerSecond: 50
}

/** Message types that make this node work for the sender. */
export const REQUEST_TYPES: readonly string[] = ['cursor', 'digest', 'buckets', 'bloom', 'rdigest', 'rsymbols', 'rmore', 'rwant', 'rpoly', 'rpwant']

export class PeerBudget {
  readonly limits: PeerBudgetLimits
  private readonly frames: TokenBucket
  private readonly bytes: TokenBucket
  private readonly requests: TokenBucket
  private readonly onDrop: (() => void) | undefined
  /** Requests ignored because they came too fast. */
  dropped = 0

  constructor (limits: PeerBudgetLimits = PEER_BUDGET_DEFAULTS, now: () => number = Date.now, onDrop?: () => void) {
    this.limits = limits
    this.onDrop = onDrop
    this.frames = new TokenBucket({ ratePerSecond: limits.messagesPerSecond, burst: limits.messagesPerSecond * 2 }, now)
    this.bytes = new TokenBucket({ ratePerSecond: limits.bytesPerSecond, burst: limits.bytesPerSecond * 4 }, now)
    this.requests = new TokenBucket({ ratePerSecond: limits.requestsPerSecond, burst: limits.requestsPerSecond }, now)
  }

  /** Charges a received frame; the error to close the session with when the peer is flooding. */
  frame (byteLength: number): EngramError | undefined {
    if (!this.frames.take(1)) {
      return RATE_LIMITED(`the peer sent more than ${this.limits.messagesPerSecond} messages per second (p2p.maxMessagesPerSecond)`, this.frames.retryAfterMs(1))
    }
    if (!this.bytes.takeDebt(byteLength)) {
      return RATE_LIMITED(`the peer sent more than ${this.limits.bytesPerSecond} bytes per second`, this.bytes.retryAfterMs(1))
    }
    return undefined
  }

  /** Whether a message of type `t` is handled (false: a request over the budget, to be ignored). */
  admit (t: string): boolean {
    if (!REQUEST_TYPES.includes(t) || this.requests.take(1)) return true
    this.dropped++
    this.onDrop?.()
    return false
  }
}
