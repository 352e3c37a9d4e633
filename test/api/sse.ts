/**
 * A minimal Server-Sent Events reader for tests: opens a stream with node:http, collects every
 * event and comment, and lets a test wait (with a deadline) for one that matches.
 */
import { get } from 'node:http'
import { setTimeout as delay } from 'node:timers/promises'

export interface SseEvent {
  readonly event: string
  readonly id?: string
  readonly data: string
}

export interface SseStream {
  readonly status: number
  readonly events: SseEvent[]
  readonly comments: string[]
  /** True once the server ended the stream. */
  ended (): boolean
  /** The first event (after `from`) that matches, waiting at most `ms`. */
  next (match: (e: SseEvent) => boolean, ms: number, from?: number): Promise<SseEvent>
  close (): void
}

export function openSse (url: string): Promise<SseStream> {
  return new Promise((resolve, reject) => {
    // node:http without an agent: one connection per stream, closed with it.
    const req = get(url, { agent: false, headers: { accept: 'text/event-stream' } }, res => {
      const events: SseEvent[] = []
      const comments: string[] = []
      let done = false
      let buffer = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        buffer += chunk
        let cut: number
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          let event = 'message'
          let id: string | undefined
          const data: string[] = []
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim())
            else if (line.startsWith('event: ')) event = line.slice(7)
            else if (line.startsWith('id: ')) id = line.slice(4)
            else if (line.startsWith('data: ')) data.push(line.slice(6))
          }
          if (data.length > 0) events.push({ event, id, data: data.join('\n') })
        }
      })
      const finish = (): void => { done = true }
      res.on('end', finish).on('close', finish).on('error', finish)
      resolve({
        status: res.statusCode ?? 0,
        events,
        comments,
        ended: () => done,
        async next (match, ms, from = 0) {
          const deadline = Date.now() + ms
          for (;;) {
            const found = events.slice(from).find(match)
            if (found !== undefined) return found
            if (Date.now() > deadline) throw new Error(`no matching event within ${ms} ms; got ${JSON.stringify(events)}`)
            await delay(10)
          }
        },
        close: () => { req.destroy() }
      })
    })
    req.on('error', reject)
  })
}
