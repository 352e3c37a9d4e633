/**
 * A live stream of the node's changes, as Server-Sent Events:
 *
 *   GET /api/v1/events?namespaces=kg,project&kinds=triple,note
 *     → 200 text/event-stream
 *       retry: 2000
 *       event: ready    data: {"nodeId", "lastSeq", "heartbeatMs"}
 *       event: change   id: <last seq of the batch>   data: <ChangeSummary, see changeSummary.ts>
 *       : heartbeat     (a comment, every heartbeatMs)
 *     → 503 UNAVAILABLE when the node already serves its maximum number of subscribers
 *
 * One `change` event per committed batch, local writes and records from peers alike (`via`
 * names the peer). The stream has no replay: a client that reconnects compares `lastSeq` of the
 * new `ready` event with the last `id` it saw, and re-reads what it needs if they differ.
 *
 * The route listens to the engine once, whatever the number of subscribers, and stops
 * listening when the last one leaves. A subscriber that disconnects is removed at once; one
 * that does not read (its unsent data passes `maxBufferedBytes`) is disconnected. Streams are
 * ended when the server closes (the stream itself: ../sse.ts).
 */
import type { FastifyInstance } from 'fastify'
import { UNAVAILABLE } from '../../core/errors.ts'
import type { ChangeEvent } from '../../engine/Engine.ts'
import { parseChangeFilter, summarizeChange, type ChangeFilter } from '../changeSummary.ts'
import { openEventStream, StreamCounters, type EventStream } from '../sse.ts'
import type { ApiDeps } from '../types.ts'

export interface EventRouteOptions {
  /** Interval of heartbeat comments, ms (default 15,000). */
  readonly heartbeatMs?: number
  /** Most concurrent subscribers (default 64). */
  readonly maxSubscribers?: number
  /** Unsent bytes after which a subscriber that does not read is disconnected (default 4 MiB). */
  readonly maxBufferedBytes?: number
  /** Most changes listed in one event (default 1,000). */
  readonly maxKeysPerEvent?: number
}

export const EVENT_DEFAULTS = {
  heartbeatMs: 15_000,
  maxSubscribers: 64,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxKeysPerEvent: 1000
} as const

const eventsQuery = {
  type: 'object',
  properties: { namespaces: { type: 'string' }, kinds: { type: 'string' } },
  additionalProperties: false
} as const

interface Subscriber {
  readonly filter: ChangeFilter
  readonly stream: EventStream
}

export function eventRoutes (app: FastifyInstance, deps: ApiDeps, options: EventRouteOptions = {}, streams = new StreamCounters()): void {
  const opts: Required<EventRouteOptions> = {
    heartbeatMs: options.heartbeatMs ?? EVENT_DEFAULTS.heartbeatMs,
    maxSubscribers: options.maxSubscribers ?? EVENT_DEFAULTS.maxSubscribers,
    maxBufferedBytes: options.maxBufferedBytes ?? EVENT_DEFAULTS.maxBufferedBytes,
    maxKeysPerEvent: options.maxKeysPerEvent ?? EVENT_DEFAULTS.maxKeysPerEvent
  }
  const { engine } = deps
  const counter = streams.of('events')
  const subscribers = new Set<Subscriber>()
  const onChange = (event: ChangeEvent): void => {
    for (const s of subscribers) {
      const summary = summarizeChange(event, s.filter, opts.maxKeysPerEvent)
      if (summary !== undefined) s.stream.event('change', summary, summary.seq.to)
    }
  }

  const add = (s: Subscriber): void => {
    if (subscribers.size === 0) engine.on('change', onChange)
    subscribers.add(s)
  }
  const remove = (s: Subscriber): void => {
    if (!subscribers.delete(s)) return
    if (subscribers.size === 0) engine.off('change', onChange)
  }

  app.addHook('preClose', async () => {
    for (const s of [...subscribers]) s.stream.end()
  })

  app.get<{ Querystring: { namespaces?: string, kinds?: string } }>('/api/v1/events',
    { schema: { querystring: eventsQuery } },
    async (request, reply) => {
      const filter = parseChangeFilter(request.query)
      // HEAD (which fastify routes here too) answers the headers and no stream.
      if (request.method === 'HEAD') return reply.code(200).header('content-type', 'text/event-stream; charset=utf-8').send()
      if (subscribers.size >= opts.maxSubscribers) {
        throw UNAVAILABLE(
          `this node already serves ${opts.maxSubscribers} event subscribers, its maximum; close another subscriber and retry`,
          { limit: opts.maxSubscribers })
      }
      const lastSeq = engine.store.stats().lastSeq
      const subscriber: Subscriber = { filter, stream: openEventStream(reply, opts, counter, () => remove(subscriber)) }
      add(subscriber)
      subscriber.stream.write('retry: 2000\n')
      subscriber.stream.event('ready', { nodeId: engine.node, lastSeq, heartbeatMs: opts.heartbeatMs })
    })
}
