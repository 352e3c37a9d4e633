/**
 * Server-Sent Events plumbing shared by the streaming routes (GET /api/v1/events, GET
 * /api/v1/status/stream): taking a response over from fastify, the stream's headers, heartbeat
 * comments, the cap on data a subscriber leaves unread, and the counters GET /metrics reports
 * (open streams and bytes sent, by route).
 *
 *   const s = openEventStream(reply, opts, counter, () => subscribers.delete(s))
 *   s.write('retry: 2000\n')
 *   s.event('ready', {...})
 *
 * A stream ends when the client goes away, when it stops reading (its unsent data passes
 * `maxBufferedBytes`) or when `end()` is called (the server closing); `onGone` is called once
 * in every case.
 */
import type { FastifyReply } from 'fastify'

export interface EventStreamOptions {
  /** Interval of heartbeat comments, ms. */
  readonly heartbeatMs: number
  /** Unsent bytes after which a subscriber that does not read is disconnected. */
  readonly maxBufferedBytes: number
}

export interface EventStream {
  /** Writes raw event-stream text (nothing once the stream has ended). */
  write (text: string): void
  /** Writes one event: `event: <name>`, an optional `id`, and `data` as one line of JSON. */
  event (name: string, data: unknown, id?: string | number): void
  /** Ends the stream (the server is closing). */
  end (): void
  readonly open: boolean
}

/** Open streams and bytes sent on one route, for GET /metrics. */
export interface StreamCounter {
  readonly route: string
  open: number
  bytes: number
}

/** The counters of every streaming route. */
export class StreamCounters {
  private readonly byRoute = new Map<string, StreamCounter>()

  of (route: string): StreamCounter {
    let c = this.byRoute.get(route)
    if (c === undefined) this.byRoute.set(route, c = { route, open: 0, bytes: 0 })
    return c
  }

  list (): readonly StreamCounter[] {
    return [...this.byRoute.values()]
  }
}

export function openEventStream (reply: FastifyReply, opts: EventStreamOptions, counter: StreamCounter, onGone: () => void): EventStream {
  reply.hijack()
  const res = reply.raw
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no'
  })
  res.flushHeaders()
  let open = true
  counter.open++
  const heartbeat = setInterval(() => write(': heartbeat\n\n'), opts.heartbeatMs)
  heartbeat.unref()

  const close = (): void => {
    if (!open) return
    open = false
    counter.open--
    clearInterval(heartbeat)
    onGone()
  }
  const end = (): void => {
    close()
    if (!res.writableEnded) res.end(() => res.socket?.destroy())
  }
  const write = (text: string): void => {
    if (!open) return
    res.write(text)
    counter.bytes += Buffer.byteLength(text)
    // A subscriber that stopped reading must not make the node buffer without bound.
    if (res.writableLength > opts.maxBufferedBytes) end()
  }
  res.on('close', close)
  res.on('error', close)
  return {
    write,
    event: (name, data, id) => { write(`event: ${name}\n${id !== undefined ? `id: ${id}\n` : ''}data: ${JSON.stringify(data)}\n\n`) },
    end,
    get open () { return open }
  }
}
