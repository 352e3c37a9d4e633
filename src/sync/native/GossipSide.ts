/**
 * The gossip side of one session (SessionOptions.ts SessionGossip): which rounds it runs with
 * the peer and who answers what the peer sends (docs/PROTOCOL.md §3).
 *
 * With a peer whose hello lists coded rounds (`rc`), this node starts coded rounds (recon.ts);
 * after a coded round that gave up (more differences than its symbols can decode), the next
 * round is a bloom round (gossip.ts), and coded rounds resume after it. With a peer that does not
 * list them (an older node, or one with them switched off), bloom rounds only, as before. Both
 * kinds of messages are always answered, so either end may start either kind of round.
 *
 * The peers read the window index through the node's LazyWindow (its `reader`: brought up to
 * date first, never built on the spot); until it is `ready` — built in the background after a
 * start, or not started yet — rounds wait, and of a peer's messages only `records` (which do not
 * read it) are taken.
 */
import type { GossipPeer } from '../../protocol/native/gossip.ts'
import type { ReconPeer } from '../../protocol/native/recon.ts'
import { isReconMessage } from '../../protocol/native/reconWire.ts'
import type { LazyWindow } from './LazyWindow.ts'
import type { SessionGossip } from './SessionOptions.ts'

export interface GossipSideOptions {
  readonly window: LazyWindow
  readonly bloom: GossipPeer
  /** Coded rounds with this peer; undefined: the peer speaks bloom rounds only. */
  readonly coded?: ReconPeer
}

export function gossipSide (opts: GossipSideOptions): SessionGossip {
  const { window, bloom, coded } = opts
  let failedSeen = 0
  return {
    startRound: () => {
      if (!window.ready) return undefined
      if (coded === undefined) return bloom.startRound()
      const failed = coded.stats().failed
      if (failed > failedSeen) { failedSeen = failed; return bloom.startRound() }
      return coded.startRound()
    },
    onMessage: msg => {
      if (msg.t === 'records') return bloom.onMessage(msg)
      if (!window.ready) return { send: [], apply: [] }
      if (!isReconMessage(msg)) return bloom.onMessage(msg)
      // a coded message from a peer this node never offered coded rounds to is ignored
      return coded !== undefined ? coded.onMessage(msg) : { send: [], apply: [] }
    }
  }
}
