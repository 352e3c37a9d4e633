/**
 * A real HTTP server (node:http on 127.0.0.1, an OS-chosen port) that serves the OpenAI-compatible
 * embeddings API with a small deterministic text model written for the tests, and that can be
 * told to misbehave (fail the next requests with a status, answer garbage, stall), so the
 * provider's real HTTP path, batching, retries and errors are exercised.
 *
 * The model ("concepts-64"): 64 dimensions. Every word (lower case, letters and digits) adds
 * weight to dimensions chosen by a hash of its character trigrams (so spellings close to each
 * other land close), and words of one concept class below (synonyms and near-synonyms) also add
 * to that class's own dimension, strongly: "automobile" lands near "car". That is the whole of
 * its "meaning"; it is enough to show semantic search finding what shares no word with the query.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export const DIMS = 64

/** Concept classes: words of one class are close in this model. */
export const CONCEPTS: readonly (readonly string[])[] = [
  ['car', 'automobile', 'vehicle', 'sedan', 'drive', 'driving'],
  ['editor', 'vim', 'emacs', 'ide', 'neovim', 'vscode'],
  ['coffee', 'espresso', 'latte', 'caffeine', 'cappuccino'],
  ['tea', 'matcha', 'earl', 'chamomile', 'infusion'],
  ['dog', 'puppy', 'canine', 'hound', 'terrier'],
  ['cat', 'kitten', 'feline', 'tabby'],
  ['deploy', 'release', 'ship', 'rollout', 'launch', 'production'],
  ['bug', 'defect', 'crash', 'error', 'failure', 'regression'],
  ['meeting', 'standup', 'sync', 'call', 'retro'],
  ['database', 'sqlite', 'postgres', 'storage', 'sql'],
  ['holiday', 'vacation', 'trip', 'travel', 'leave'],
  ['doctor', 'physician', 'clinic', 'appointment', 'dentist'],
  ['music', 'guitar', 'piano', 'violin', 'cello', 'song'],
  ['food', 'dinner', 'lunch', 'meal', 'recipe', 'cooking'],
  ['sport', 'running', 'marathon', 'cycling', 'swimming', 'gym'],
  ['money', 'budget', 'salary', 'invoice', 'payment', 'expense']
]

const CLASS = new Map<string, number>()
CONCEPTS.forEach((words, i) => { for (const w of words) CLASS.set(w, i) })

function hash (s: string): number {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619)
  return h >>> 0
}

/** The model: a text's vector (not normalized). */
export function embedText (text: string): number[] {
  const v: number[] = new Array<number>(DIMS).fill(0)
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    const padded = `#${word}#`
    for (let i = 0; i + 3 <= padded.length; i++) v[16 + (hash(padded.slice(i, i + 3)) % (DIMS - 16))]! += 0.35
    const c = CLASS.get(word)
    if (c !== undefined) v[c]! += 3
  }
  if (!v.some(x => x !== 0)) v[DIMS - 1] = 1
  return v
}

export interface EmbeddingServer {
  readonly url: string
  /** Requests received, with their number of inputs. */
  readonly requests: Array<{ model: string, inputs: number }>
  /** The next `n` requests fail with `status` (and `retryAfter` seconds, when given). */
  failNext (n: number, status: number, opts?: { retryAfter?: number, body?: string }): void
  /** The next request is answered with this raw body and status 200. */
  garbleNext (body: string): void
  /** While true, requests never get an answer (until the server closes). */
  stall: boolean
  close (): Promise<void>
}

export async function startEmbeddingServer (opts: { models?: readonly string[] } = {}): Promise<EmbeddingServer> {
  const models = new Set(opts.models ?? ['concepts-64'])
  let failures: Array<{ status: number, retryAfter?: number, body?: string }> = []
  let garbled: string | undefined
  const requests: EmbeddingServer['requests'] = []
  const state = { stall: false }
  const server: Server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (d: string) => { body += d })
    req.on('end', () => {
      if (state.stall) return
      const send = (status: number, payload: string, headers: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers })
        res.end(payload)
      }
      if (req.method !== 'POST' || req.url !== '/v1/embeddings') return send(404, JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }))
      let parsed: { model?: unknown, input?: unknown }
      try { parsed = JSON.parse(body) as typeof parsed } catch { return send(400, JSON.stringify({ error: { message: 'body is not JSON' } })) }
      const inputs = typeof parsed.input === 'string' ? [parsed.input] : parsed.input
      requests.push({ model: String(parsed.model), inputs: Array.isArray(inputs) ? inputs.length : 0 })
      const fail = failures.shift()
      if (fail !== undefined) return send(fail.status, fail.body ?? JSON.stringify({ error: { message: `failing on purpose with ${fail.status}` } }), fail.retryAfter !== undefined ? { 'retry-after': String(fail.retryAfter) } : {})
      if (garbled !== undefined) { const g = garbled; garbled = undefined; return send(200, g) }
      if (typeof parsed.model !== 'string' || !models.has(parsed.model)) return send(404, JSON.stringify({ error: { message: `model "${String(parsed.model)}" not found, try pulling it first` } }))
      if (!Array.isArray(inputs) || !inputs.every(x => typeof x === 'string')) return send(400, JSON.stringify({ error: { message: 'input must be a string or an array of strings' } }))
      send(200, JSON.stringify({ object: 'list', model: parsed.model, data: inputs.map((t, index) => ({ object: 'embedding', index, embedding: embedText(t) })) }))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    failNext (n, status, o = {}) { failures = [...failures, ...Array.from({ length: n }, () => ({ status, ...o }))] },
    garbleNext (b) { garbled = b },
    get stall () { return state.stall },
    set stall (v: boolean) { state.stall = v },
    close: () => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => resolve()) })
  }
}
