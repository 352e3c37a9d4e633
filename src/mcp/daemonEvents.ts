/**
 * A subscription to the daemon's change stream (GET /api/v1/events, Server-Sent Events),
 * limited to the triples of one namespace. Emits 'change' for every committed batch there, local
 * or from another machine, and 'resync' after a reconnection that may have missed some (the
 * daemon restarted, the connection dropped).
 *
 * Started on demand (the first subscriber of the graph resource), so that agents that never
 * subscribe hold no stream open on the daemon. Reconnects on its own, waiting 250 ms and
 * doubling up to 5 s; a stream silent for three heartbeats is taken for dead and reopened.
 * `stop` ends it.
 */
import { EventEmitter } from 'node:events'
import type { ChangeSummary } from '../api/contract.ts'
import { tlsFetch, type ClientTls } from '../tls/client.ts'
import type { Logger } from '../util/log.ts'

export interface DaemonEventsEvents {
  change: [ChangeSummary]
  resync: []
}

const RETRY_FIRST_MS = 250
const RETRY_MAX_MS = 5000

export class DaemonEvents extends EventEmitter<DaemonEventsEvents> {
  private readonly url: string
  private readonly log: Logger
  private abort: AbortController | undefined
  private readonly stopping = new AbortController()
  private running: Promise<void> | undefined
  private connected = false
  private readonly waiters = new Set<() => void>()

  private readonly tls: ClientTls | undefined
  /** Headers of every request (the client's mark and the API token: ApiClient.headers). */
  private readonly headers: Readonly<Record<string, string>>

  constructor (baseUrl: string, opts: { namespace: string, log: Logger, tls?: ClientTls, headers?: Readonly<Record<string, string>> }) {
    super()
    const u = new URL('/api/v1/events', baseUrl)
    u.searchParams.set('namespaces', opts.namespace)
    u.searchParams.set('kinds', 'triple')
    this.url = u.href
    this.log = opts.log
    this.tls = opts.tls
    this.headers = opts.headers ?? {}
  }

  start (): void {
    this.running ??= this.loop()
  }

  /** Starts the stream if needed and resolves once it is connected, or after `ms` at the latest. */
  whenConnected (ms: number): Promise<void> {
    this.start()
    if (this.connected) return Promise.resolve()
    return new Promise(resolve => {
      const done = (): void => {
        clearTimeout(t)
        this.waiters.delete(done)
        resolve()
      }
      const t = setTimeout(done, ms)
      this.waiters.add(done)
    })
  }

  private get stopped (): boolean { return this.stopping.signal.aborted }

  async stop (): Promise<void> {
    this.stopping.abort()
    this.abort?.abort()
    for (const w of [...this.waiters]) w()
    await this.running
  }

  private async loop (): Promise<void> {
    let wait = RETRY_FIRST_MS
    while (!this.stopped) {
      try {
        await this.stream(() => {
          if (this.connected) this.emit('resync')
          this.connected = true
          for (const w of [...this.waiters]) w()
          wait = RETRY_FIRST_MS
        })
        if (!this.stopped) this.log.debug('the daemon ended the change stream; reconnecting')
      } catch (e) {
        if (this.stopped) break
        this.log.debug('the change stream is unavailable; retrying', { error: e instanceof Error ? e.message : String(e), inMs: wait })
      }
      if (this.stopped) break
      await new Promise<void>(resolve => {
        const done = (): void => { clearTimeout(t); resolve() }
        const t = setTimeout(() => { this.stopping.signal.removeEventListener('abort', done); resolve() }, wait)
        this.stopping.signal.addEventListener('abort', done, { once: true })
      })
      wait = Math.min(RETRY_MAX_MS, wait * 2)
    }
  }

  /** Reads one connection until it ends; `onReady` runs when the daemon's `ready` event arrives. */
  private async stream (onReady: () => void): Promise<void> {
    const abort = new AbortController()
    this.abort = abort
    if (this.stopped) return
    const res = await tlsFetch(this.url, { signal: abort.signal, headers: { ...this.headers, accept: 'text/event-stream' } }, this.tls)
    if (!res.ok || res.body === null) {
      await res.body?.cancel()
      throw new Error(`GET /api/v1/events answered ${res.status}`)
    }
    let silence: NodeJS.Timeout | undefined
    const watch = (ms: number): void => {
      clearTimeout(silence)
      silence = setTimeout(() => abort.abort(), ms)
      silence.unref()
    }
    let heartbeatMs = 15_000
    watch(3 * heartbeatMs)
    let buffer = ''
    try {
      for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
        watch(3 * heartbeatMs)
        buffer += chunk
        let cut: number
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut)
          buffer = buffer.slice(cut + 2)
          const { event, data } = parseBlock(block)
          if (data === undefined) continue
          if (event === 'ready') {
            const ready = JSON.parse(data) as { heartbeatMs?: number }
            if (typeof ready.heartbeatMs === 'number' && ready.heartbeatMs > 0) heartbeatMs = ready.heartbeatMs
            watch(3 * heartbeatMs)
            onReady()
          } else if (event === 'change') {
            this.emit('change', JSON.parse(data) as ChangeSummary)
          }
        }
      }
    } catch (e) {
      if (!abort.signal.aborted || this.stopped) throw e
      // Aborted by the silence watch: reconnect.
    } finally {
      clearTimeout(silence)
    }
  }
}

function parseBlock (block: string): { event: string, data: string | undefined } {
  let event = 'message'
  const data: string[] = []
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim()
    else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''))
  }
  return { event, data: data.length > 0 ? data.join('\n') : undefined }
}
