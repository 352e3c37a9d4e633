/**
 * Reading a Server-Sent Events stream with fetch(), which, unlike EventSource, can send the
 * API's headers (lib/token.js). `readEvents(path, onEvent, onState)` connects, calls
 * `onEvent(name, data)` for each event, and connects again after the stream ends or fails —
 * after the `retry` the server asked for (2 s), doubling after each failed attempt up to 30 s.
 * Comments (heartbeats) only show the connection is alive. Returns a function that stops it.
 */
import { authHeaders } from './token.js'

const MAX_RETRY_MS = 30_000

/**
 * @param {string} path
 * @param {(event: string, data: string) => void} onEvent
 * @param {(state: 'open' | 'retrying' | 'closed' | 'unauthorized', detail?: string) => void} onState
 */
export function readEvents (path, onEvent, onState) {
  const abort = new AbortController()
  let retryMs = 2000
  let failures = 0

  const run = async () => {
    for (;;) {
      let detail = ''
      try {
        const res = await fetch(path, { headers: { accept: 'text/event-stream', ...authHeaders() }, signal: abort.signal })
        if (!res.ok || res.body === null) {
          const body = await res.json().catch(() => ({}))
          detail = `${body.error ?? res.statusText} (${body.code ?? res.status})`
          // 401: the token is missing or wrong; 403: refused by the API's guard; retrying will not help
          if (res.status === 401) { onState('unauthorized', detail); return }
          if (res.status === 403) { onState('closed', detail); return }
          throw new Error(detail)
        }
        failures = 0
        onState('open')
        await parse(res.body, onEvent, ms => { retryMs = ms })
        detail = 'the node ended the stream'
      } catch (e) {
        if (abort.signal.aborted) return
        failures++
        detail = detail || (e instanceof Error ? e.message : String(e))
      }
      onState('retrying', detail)
      const wait = Math.min(MAX_RETRY_MS, retryMs * 2 ** Math.max(0, failures - 1))
      await new Promise(resolve => setTimeout(resolve, wait))
      if (abort.signal.aborted) return
    }
  }
  void run()
  return () => abort.abort()
}

/**
 * @param {ReadableStream<Uint8Array>} body
 * @param {(event: string, data: string) => void} onEvent
 * @param {(ms: number) => void} onRetry
 */
async function parse (body, onEvent, onRetry) {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return
    buffer += decoder.decode(value, { stream: true })
    let cut
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, cut)
      buffer = buffer.slice(cut + 2)
      let event = 'message'
      /** @type {string[]} */
      const data = []
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7)
        else if (line.startsWith('data: ')) data.push(line.slice(6))
        else if (line.startsWith('retry: ')) onRetry(Number(line.slice(7)) || 2000)
      }
      if (data.length > 0) onEvent(event, data.join('\n'))
    }
  }
}
