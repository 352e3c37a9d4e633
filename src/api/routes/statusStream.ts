/**
 * The node's status, live, as Server-Sent Events — what the dashboard's sync view shows:
 *
 *   GET /api/v1/status/stream
 *     → 200 text/event-stream
 *       retry: 2000
 *       event: ready    data: <snapshot, activity.full true>
 *       event: delta    data: {at, changes, activity}   (only when something changed: only what changed)
 *       : heartbeat     (a comment, every heartbeatMs)
 *     → 503 UNAVAILABLE when the node already serves its maximum number of such streams
 *
 * A snapshot is `{node, sync, p2p, mailbox, log, at, activity}`: `node` is the body of GET
 * /api/v1/status, `sync` that of GET /api/v1/sync/status without `native` and `pairBack` (null
 * while sync does not run), `p2p` that of GET /api/v1/p2p/status (null while P2P is off),
 * `mailbox` what the mailbox rounds did (null while the node uses none), `log`
 * the last warnings and errors logged, `activity` writes and received changes per second
 * (StatusFeed.ts says when snapshots are sent and what `activity` holds).
 */
import type { FastifyInstance } from 'fastify'
import { isEngramError, UNAVAILABLE } from '../../core/errors.ts'
import type { Telemetry } from '../../telemetry/Telemetry.ts'
import { openEventStream, type EventStream, type StreamCounters } from '../sse.ts'
import { StatusFeed, type SnapshotBody } from '../StatusFeed.ts'
import type { ApiDeps, StatusStreamOptions } from '../types.ts'
import { EVENT_DEFAULTS } from './events.ts'
import { nodeStatusBody } from './status.ts'

/** Log lines in a snapshot, the most recent. */
const LOG_LINES = 20

/**
 * Members of the status bodies that move while nothing else does (gossip rounds, bytes, last-sync
 * times, the window digest, the clock's readings and the peers' measured offsets): a change of
 * only these is not a change (StatusFeed refreshMs).
 */
const VOLATILE: ReadonlySet<string> = new Set(['round', 'pending_announcements', 'known_ids', 'bloom_filter_items', 'bloom_filter_fpr', 'coded_rounds', 'coded_failed',
  'total_successful_syncs', 'last_sync', 'bytes_sent', 'bytes_received', 'window', 'handshakes', 'sizeBytes', 'probedAt',
  'now', 'mark', 'markAheadMs', 'measuredAt', 'offsetMs', 'offset'])

/**
 * The native status as the stream takes it: its gossip window as taken in so far, so a snapshot
 * built during a catch-up does not make the node hash the inflow on its way (P2pStatus.ts).
 */
const LIVE = { lazyWindow: true } as const

function attempt (f: () => unknown): unknown {
  try {
    return f()
  } catch (e) {
    return isEngramError(e) ? { error: e.message, code: e.code } : { error: 'internal error; see the node log', code: 'INTERNAL' }
  }
}

/** The snapshot of the node's status (without activity and time, which the feed adds). */
export function statusSnapshot (deps: ApiDeps, telemetry: Telemetry): SnapshotBody {
  // sync's status embeds the P2P status in native mode: it is taken from there, not built twice
  let native: unknown
  const sync = deps.sync === undefined
    ? null
    : attempt(() => {
      const { native: n, ...polled } = deps.sync!.status(LIVE)
      native = n
      return polled
    })
  return {
    node: attempt(() => nodeStatusBody(deps)),
    sync,
    p2p: native ?? attempt(() => deps.p2p?.status(LIVE) ?? deps.p2pStatus?.() ?? null),
    mailbox: deps.mailbox?.() ?? null,
    log: telemetry.recentLog.entries().slice(-LOG_LINES)
  }
}

export function statusStreamRoutes (app: FastifyInstance, deps: ApiDeps, telemetry: Telemetry, streams: StreamCounters, options: StatusStreamOptions = {}): void {
  const heartbeatMs = options.heartbeatMs ?? EVENT_DEFAULTS.heartbeatMs
  const maxSubscribers = options.maxSubscribers ?? EVENT_DEFAULTS.maxSubscribers
  const feed = new StatusFeed({ build: () => statusSnapshot(deps, telemetry), volatile: VOLATILE }, telemetry, options)
  const counter = streams.of('status')
  const open = new Set<EventStream>()

  app.addHook('preClose', async () => {
    for (const s of [...open]) s.end()
    feed.close()
  })

  app.get('/api/v1/status/stream', async (request, reply) => {
    if (request.method === 'HEAD') return reply.code(200).header('content-type', 'text/event-stream; charset=utf-8').send()
    if (open.size >= maxSubscribers) {
      throw UNAVAILABLE(
        `this node already serves ${maxSubscribers} status streams, its maximum; close a dashboard and retry`,
        { limit: maxSubscribers })
    }
    let unsubscribe = (): void => {}
    const stream = openEventStream(reply, { heartbeatMs, maxBufferedBytes: EVENT_DEFAULTS.maxBufferedBytes }, counter, () => {
      open.delete(stream)
      unsubscribe()
    })
    open.add(stream)
    const sub = feed.subscribe(text => { stream.write(text) })
    unsubscribe = sub.unsubscribe
    stream.write('retry: 2000\n')
    stream.write(sub.ready)
  })
}
