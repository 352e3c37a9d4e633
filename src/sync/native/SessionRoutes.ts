/**
 * One session's part in dissemination (protocol/native/gossipRoutes.ts, docs/PROTOCOL.md §2
 * "Dissemination"), both directions:
 *
 * - as a sender: the origins the peer pruned (PrunedOrigins.ts), which the stream leaves out;
 *   the peer's `cursor` with `g` puts them back, and the stream restarts at that cursor;
 * - as a receiver: once the peer's `cursor` said it honours them (`pr`), this node's link in the
 *   node's EagerRoutes — each page applied tells it what was new and what was a duplicate (it
 *   prunes) and what the peer left out (`lz`: it waits, then grafts), the watchdog checks the
 *   waits, and the session's end grafts elsewhere what this peer brought first. A graft moves
 *   the receiver's cursor back and sends it with `g` (FeedReceiver.graft). What the peer's
 *   stream left out in earlier sessions and no path is known to have brought (kept beside the
 *   cursor, replication/peerCursor.ts) is waited for again when the link opens.
 *
 * A peer that never sent `pr` (an older one) is never sent `prune` nor `g`, and its own stream
 * carries everything, as before.
 */
import type { NodeId } from '../../core/ids.ts'
import type { ChangesMessage } from '../../protocol/native/messages.ts'
import type { EagerRoutes, EarlierLeftOut, RouteLink, RouteMessage } from '../../protocol/native/gossipRoutes.ts'
import { PrunedOrigins } from './PrunedOrigins.ts'

export interface SessionRoutesOptions {
  /** The node's routes (shared by its sessions). */
  readonly routes: EagerRoutes
  readonly peer: NodeId
  readonly send: (msg: RouteMessage) => void
  /** Moves this node's cursor on the peer back to `from` and sends it with `g` (FeedReceiver.graft). */
  readonly graft: (origins: readonly NodeId[], from: number) => void
  /** A graft sent is not answered yet. */
  readonly grafting: () => boolean
  /** What the peer's stream left out in earlier sessions (kept beside the cursor), read when the link opens. */
  readonly earlier?: () => EarlierLeftOut | undefined
  readonly now?: () => number
}

export class SessionRoutes {
  /** The origins the peer pruned from this node's stream. */
  readonly pruned = new PrunedOrigins()
  private readonly opts: SessionRoutesOptions
  private link: RouteLink | undefined
  private closed = false

  constructor (opts: SessionRoutesOptions) {
    this.opts = opts
  }

  /** The peer's `cursor` arrived: with `pr` this node may prune its stream from now on; `g` puts origins back in this node's stream. */
  peerCursor (pr: boolean, g: readonly NodeId[] | undefined): void {
    if (g !== undefined) this.pruned.graft(g)
    if (!pr || this.link !== undefined || this.closed) return
    this.link = this.opts.routes.open(this.opts.peer, msg => { this.opts.send(msg) }, (origins, from) => { this.opts.graft(origins, from) }, () => this.opts.grafting(),
      this.opts.earlier?.(), this.opts.now?.() ?? Date.now())
  }

  /** A page of the peer's stream was applied here: `changed`, per origin, how many of its records changed something. */
  applied (msg: ChangesMessage, changed: ReadonlyMap<NodeId, number>, now: number): void {
    if (!this.closed) this.opts.routes.page(this.link, this.opts.peer, msg, changed, now)
  }

  /** The watchdog: grafts what the peer announced and no path brought within `timeoutMs`. */
  check (now: number, timeoutMs: number): void {
    if (this.link !== undefined && !this.closed) this.opts.routes.check(this.link, now, timeoutMs)
  }

  /** The peer pruned origins from this node's stream. */
  onPrune (origins: readonly NodeId[]): void {
    this.pruned.prune(origins)
  }

  /** The session ended: the origins the peer brought first are grafted on another link. */
  close (): void {
    if (this.closed) return
    this.closed = true
    if (this.link !== undefined) this.opts.routes.close(this.link)
  }
}
