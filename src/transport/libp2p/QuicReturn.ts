/**
 * Back to QUIC after a fallback: a dial whose QUIC address had no answer within its per-address
 * limit and that connected over TCP leaves its session on TCP, though the peer may answer QUIC
 * again seconds later — a paused process's kernel keeps accepting TCP connections while QUIC
 * needs the process itself, so a peer that resumes completes the TCP attempt first; a partition
 * that heals during a dial's TCP phase does the same. While such a session runs on TCP, this
 * probes the peer's QUIC addresses in the background, with capped exponential backoff (±20 %
 * jitter). A probe that connects opens a QUIC connection on both ends, and the transport's path
 * rule moves the session onto it: the node with the smaller id opens a new session over the
 * preferred connection, which replaces the TCP one (`QuicTransport.ts`, `../path.ts`); the sync
 * session above resumes from its cursors, so nothing is lost or applied twice. A probe whose
 * connection carries no session is closed by the idle rule (`ConnectionUse.ts`).
 *
 * One loop per peer at most; it ends when the session is on QUIC, ends, or the transport stops.
 */
import type { Multiaddr } from '@multiformats/multiaddr'
import type { NodeId } from '../../core/ids.ts'
import { carrierOf, isBetterPath } from '../path.ts'
import { abortableDelay, errorMessage } from '../util.ts'

/** First probe this long after the fallback, ms; then doubling. */
export const QUIC_RETRY_BASE_MS = 2_000
/** Longest wait between two probes, ms: a session returns within about this after QUIC works again. */
export const QUIC_RETRY_MAX_MS = 60_000

export interface QuicReturnOptions {
  /** Opens a new libp2p connection to `target` (not one that exists already). */
  readonly connect: (target: Multiaddr, signal: AbortSignal) => Promise<unknown>
  /** The remote address of the established session with `peer`; undefined without one. */
  readonly sessionAddr: (peer: NodeId) => string | undefined
  /** Limit of each probe, ms (the handshake limit). */
  readonly probeMs: number
  /** Aborted when the transport stops. */
  readonly signal: AbortSignal
  readonly baseMs?: number
  readonly maxMs?: number
  readonly random?: () => number
  /** Each probe that finds no answer (debug). */
  readonly log: (message: string, details?: Record<string, unknown>) => void
  /** The fallback seen, and QUIC answering again: the lines a user reads. */
  readonly notice: (message: string, details?: Record<string, unknown>) => void
}

export class QuicReturn {
  private readonly o: QuicReturnOptions
  /** The QUIC addresses probed, by peer (one loop each). */
  private readonly loops = new Map<NodeId, { targets: readonly Multiaddr[] }>()

  constructor (o: QuicReturnOptions) {
    this.o = o
  }

  /** Peers whose sessions are being moved back to QUIC now. */
  get size (): number {
    return this.loops.size
  }

  /**
   * A dial to `peer` connected over TCP after its QUIC addresses among `targets` had no answer:
   * probes them until the session is on QUIC again (the newest targets replace a loop's).
   */
  watch (peer: NodeId, targets: readonly Multiaddr[]): void {
    const quic = targets.filter(t => carrierOf(t.toString()) === 'quic')
    if (quic.length === 0 || this.o.signal.aborted) return
    const running = this.loops.get(peer)
    if (running !== undefined) { running.targets = quic; return }
    const loop = { targets: quic }
    this.loops.set(peer, loop)
    this.o.notice(`the session with ${peer} runs on the TCP fallback (QUIC had no answer); trying QUIC again in the background`, { peer })
    void this.run(peer, loop).catch(() => undefined).finally(() => {
      if (this.loops.get(peer) === loop) this.loops.delete(peer)
    })
  }

  /** Whether the session with `peer` runs on a path a QUIC connection would be preferred to. */
  private stillFallback (peer: NodeId, target: Multiaddr): boolean {
    const addr = this.o.sessionAddr(peer)
    return addr !== undefined && isBetterPath(target.toString(), addr)
  }

  private async run (peer: NodeId, loop: { targets: readonly Multiaddr[] }): Promise<void> {
    const base = this.o.baseMs ?? QUIC_RETRY_BASE_MS
    const max = this.o.maxMs ?? QUIC_RETRY_MAX_MS
    const random = this.o.random ?? Math.random
    for (let attempt = 0; attempt < 1_000_000; attempt++) {
      const delay = Math.min(max, base * 2 ** Math.min(attempt, 30))
      await abortableDelay(Math.round(delay * (0.8 + 0.4 * random())), this.o.signal)
      for (const target of loop.targets) {
        if (this.o.signal.aborted || !this.stillFallback(peer, target)) return
        try {
          await this.o.connect(target, AbortSignal.any([this.o.signal, AbortSignal.timeout(this.o.probeMs)]))
          this.o.notice(`QUIC to ${peer} answers again; moving the session off the TCP fallback`, { peer, addr: target.toString() })
          break
        } catch (err) {
          this.o.log('QUIC still has no answer; the session stays on TCP', { peer, addr: target.toString(), error: errorMessage(err), attempt: attempt + 1 })
        }
      }
    }
  }
}
