/**
 * Embeddings from a server that speaks the OpenAI-compatible embeddings API: `POST {url}/embeddings`
 * with `{model, input: [texts]}`, answered by `{data: [{index, embedding: [numbers]}]}`. Ollama,
 * llama.cpp's server, LM Studio, vLLM and others serve it on the local machine, so no text leaves
 * it and no API key is needed (one may be given: it is sent as a bearer token).
 *
 * - Batching: texts go in requests of at most `batchSize`, one request at a time.
 * - Retries: a connection failure, a timeout, 429 or a 5xx answer is retried after a delay that
 *   doubles (retryBaseMs, 2×, 4×…; a Retry-After of the server is honoured up to 60 s), `retries`
 *   times; then the call fails with UNAVAILABLE naming the URL and the last failure.
 * - Errors: another 4xx (a model the server does not have, a bad key) fails at once with
 *   INVALID_INPUT quoting the server's message; an answer that is not embeddings (not JSON, the
 *   wrong count, vectors of differing lengths, numbers that are not finite) fails with PROTOCOL.
 */
import { INVALID_INPUT, PROTOCOL, UNAVAILABLE, isEngramError, preview } from '../core/errors.ts'
import type { Embedder } from './Embedder.ts'

export interface OpenAiEmbedderOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:11434/v1 (the request goes to {url}/embeddings). */
  readonly url: string
  readonly model: string
  readonly apiKey?: string
  /** Most texts per request (default 64). */
  readonly batchSize?: number
  /** Time limit of one request (default 30,000 ms). */
  readonly timeoutMs?: number
  /** Retries of a failed request (default 3). */
  readonly retries?: number
  /** First retry delay (default 500 ms). */
  readonly retryBaseMs?: number
}

/** Longest error message of a server quoted in ours. */
const QUOTE_CHARS = 300
const MAX_RETRY_AFTER_MS = 60_000

export class OpenAiEmbedder implements Embedder {
  readonly model: string
  readonly location: string
  private readonly endpoint: string
  private readonly apiKey: string | undefined
  private readonly batchSize: number
  private readonly timeoutMs: number
  private readonly retries: number
  private readonly retryBaseMs: number

  constructor (opts: OpenAiEmbedderOptions) {
    const base = opts.url.replace(/\/+$/, '')
    this.endpoint = base.endsWith('/embeddings') ? base : `${base}/embeddings`
    this.location = this.endpoint
    this.model = opts.model
    this.apiKey = opts.apiKey
    this.batchSize = opts.batchSize ?? 64
    this.timeoutMs = opts.timeoutMs ?? 30_000
    this.retries = opts.retries ?? 3
    this.retryBaseMs = opts.retryBaseMs ?? 500
  }

  async embed (texts: readonly string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = []
    for (let i = 0; i < texts.length; i += this.batchSize) {
      const batch = texts.slice(i, i + this.batchSize)
      const vectors = await this.request(batch)
      if (out.length > 0 && vectors.length > 0 && vectors[0]!.length !== out[0]!.length) {
        throw PROTOCOL(`the embedder at ${this.endpoint} answered vectors of ${vectors[0]!.length} numbers after vectors of ${out[0]!.length}`)
      }
      out.push(...vectors)
    }
    return out
  }

  /** One request, retried as the header says. */
  private async request (input: readonly string[]): Promise<Float32Array[]> {
    let last = ''
    for (let attempt = 0; ; attempt++) {
      let delay = this.retryBaseMs * 2 ** attempt
      try {
        const res = await fetch(this.endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(this.apiKey !== undefined ? { authorization: `Bearer ${this.apiKey}` } : {}) },
          body: JSON.stringify({ model: this.model, input, encoding_format: 'float' }),
          signal: AbortSignal.timeout(this.timeoutMs)
        })
        const text = await res.text()
        if (res.ok) return this.parse(text, input.length)
        const message = serverMessage(text)
        if (res.status !== 429 && res.status < 500) {
          throw INVALID_INPUT('search.embedder', `the embedder at ${this.endpoint} refused the request with ${res.status}: ${message}; check search.embedder.model ("${this.model}") and the server`,
            { status: res.status, url: this.endpoint })
        }
        last = `${res.status}: ${message}`
        delay = Math.max(delay, retryAfterMs(res.headers.get('retry-after')))
      } catch (e) {
        if (isEngramError(e)) throw e
        last = describe(e, this.timeoutMs)
      }
      if (attempt >= this.retries) {
        throw UNAVAILABLE(`the embedder at ${this.endpoint} failed ${attempt + 1} times, last with ${last}; is the embedding server running?`, { url: this.endpoint, attempts: attempt + 1 })
      }
      await new Promise(resolve => setTimeout(resolve, delay))
    }
  }

  private parse (text: string, count: number): Float32Array[] {
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      throw PROTOCOL(`the embedder at ${this.endpoint} answered something that is not JSON: ${preview(text)}`)
    }
    const data = (body as { data?: unknown } | null)?.data
    if (!Array.isArray(data)) throw PROTOCOL(`the embedder at ${this.endpoint} answered without a "data" array: ${preview(text)}`)
    if (data.length !== count) throw PROTOCOL(`the embedder at ${this.endpoint} answered ${data.length} embeddings for ${count} texts`)
    const out = new Array<Float32Array | undefined>(count)
    data.forEach((d: { index?: unknown, embedding?: unknown }, i) => {
      const index = d?.index === undefined ? i : d.index
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count || out[index] !== undefined) {
        throw PROTOCOL(`the embedder at ${this.endpoint} answered data[${i}].index ${preview(index)}: each index from 0 to ${count - 1} once`)
      }
      const e = d?.embedding
      if (!Array.isArray(e) || e.length === 0 || !e.every(x => typeof x === 'number' && Number.isFinite(x))) {
        throw PROTOCOL(`the embedder at ${this.endpoint} answered data[${i}].embedding that is not an array of finite numbers`)
      }
      out[index] = Float32Array.from(e as number[])
    })
    const vectors = out as Float32Array[]
    if (vectors.some(v => v.length !== vectors[0]!.length)) throw PROTOCOL(`the embedder at ${this.endpoint} answered vectors of differing lengths`)
    return vectors
  }
}

/** The server's own words: `{error: {message}}`, `{error: "…"}`, or its text. */
function serverMessage (text: string): string {
  let m = text
  try {
    const b = JSON.parse(text) as { error?: unknown, message?: unknown }
    const e = b.error
    m = typeof e === 'string' ? e : typeof (e as { message?: unknown })?.message === 'string' ? (e as { message: string }).message : typeof b.message === 'string' ? b.message : text
  } catch { /* not JSON: the text itself */ }
  m = m.replace(/\s+/g, ' ').trim()
  return m.length > QUOTE_CHARS ? `${m.slice(0, QUOTE_CHARS - 1)}…` : (m === '' ? '(no message)' : m)
}

function retryAfterMs (header: string | null): number {
  if (header === null) return 0
  const seconds = Number(header)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(MAX_RETRY_AFTER_MS, seconds * 1000)
  const at = Date.parse(header)
  return Number.isNaN(at) ? 0 : Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - Date.now()))
}

function describe (e: unknown, timeoutMs: number): string {
  if (e instanceof DOMException && (e.name === 'TimeoutError' || e.name === 'AbortError')) return `no answer within ${timeoutMs} ms`
  const cause = (e as { cause?: { code?: string, message?: string } }).cause
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e))
}
