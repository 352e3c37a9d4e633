/**
 * The parts of a native sync session once its handshake is done (NativeSession.ts): the
 * receiver of the peer's feed (FeedReceiver.ts), the sender of this node's (FeedSender.ts; not
 * without streaming), and the session's part in dissemination (SessionRoutes.ts; not when the
 * node's routes are off), wired to each other and to the session's sends.
 */
import type { EarlierLeftOut, RouteMessage } from '../../protocol/native/gossipRoutes.ts'
import { leftOutOn, type LeftOut } from '../../replication/peerCursor.ts'
import type { AckMessage, CursorMessage } from '../../protocol/native/messages.ts'
import type { PeerView } from '../../replication/conflicts.ts'
import { FeedReceiver } from './FeedReceiver.ts'
import { FeedSender } from './FeedSender.ts'
import type { SessionOptionsOf } from './SessionOptions.ts'
import { SessionRoutes } from './SessionRoutes.ts'

/** What the parts need of their session. */
export interface SessionLinks {
  /** Sends a message (a failure closes the session). */
  readonly send: (msg: CursorMessage | AckMessage | RouteMessage) => void
  /** Sends an encoded frame, bounded in time. */
  readonly sendFrame: (frame: Uint8Array) => Promise<void>
  /** What the peer has applied of this node's feed. */
  readonly view: () => PeerView
  /** The stream could not send: the session closes. */
  readonly fail: (err: unknown) => void
}

export interface SessionParts {
  readonly routes: SessionRoutes | undefined
  readonly receiver: FeedReceiver
  readonly sender: FeedSender | undefined
}

/** What a peer's stream left out before, as the routes wait for it (not when which origins is unknown). */
function earlierLeftOut (left: LeftOut | undefined): EarlierLeftOut | undefined {
  if (left === undefined || left.all === true) return undefined
  return { from: left.from, marks: new Map([...left.origins].map(o => [o, left.marks.get(o)])) }
}

export function sessionParts<S> (opts: SessionOptionsOf<S>, peerFeed: string, links: SessionLinks): SessionParts {
  const { engine, feedId } = opts
  const peer = opts.conn.remoteNode
  const now = opts.now ?? Date.now
  // the receiver is made right below (a graft only comes once one of its pages was applied)
  const routes: SessionRoutes | undefined = opts.routes === undefined
    ? undefined
    : new SessionRoutes({
      routes: opts.routes, peer, send: links.send, graft: (origins, from) => { receiver.graft(origins, from) }, grafting: (): boolean => receiver.grafting, now,
      earlier: () => earlierLeftOut(leftOutOn(engine.store, peer, peerFeed))
    })
  const receiver: FeedReceiver = new FeedReceiver({
    engine,
    peer,
    peerFeed,
    conflicts: opts.conflicts,
    view: links.view,
    send: links.send,
    routes: routes !== undefined,
    onApplied: (msg, changed) => { routes?.applied(msg, changed, now()) },
    log: opts.log,
    now
  })
  const sender = (opts.stream ?? true)
    ? new FeedSender({
      store: engine.store,
      ...(opts.tail !== undefined ? { tail: opts.tail } : {}),
      peer,
      feedId,
      peerFeed,
      send: frame => links.sendFrame(frame),
      pageRecords: () => opts.settings().pageRecords,
      onError: links.fail,
      now,
      // read once a turn for every stream when there is a tail
      knowledge: () => opts.tail?.knowledge() ?? engine.knowledgeToSend(),
      voids: () => engine.knowledge.voids(),
      ...(routes !== undefined ? { pruned: routes.pruned } : {})
    })
    : undefined
  return { routes, receiver, sender }
}
