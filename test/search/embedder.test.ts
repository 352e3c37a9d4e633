/**
 * OpenAiEmbedder against a real local HTTP server computing embeddings (embeddingServer.ts):
 * batching, order, retries (5xx, 429 with Retry-After, a refused connection, a stalled server),
 * and a clear error for each failure: a model the server lacks, answers that are not embeddings.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { isEngramError } from '../../src/core/errors.ts'
import { OpenAiEmbedder } from '../../src/search/OpenAiEmbedder.ts'
import { closedPort } from '../cli/helpers.ts'
import { embedText, startEmbeddingServer, type EmbeddingServer } from './embeddingServer.ts'

const fails = (code: string, message: RegExp) => (e: unknown): boolean => {
  assert.ok(isEngramError(e), String(e))
  assert.equal(e.code, code, e.message)
  assert.match(e.message, message)
  return true
}

describe('OpenAiEmbedder over HTTP', () => {
  let server: EmbeddingServer
  before(async () => { server = await startEmbeddingServer() })
  after(async () => { await server.close() })
  const embedder = (o: Partial<ConstructorParameters<typeof OpenAiEmbedder>[0]> = {}): OpenAiEmbedder =>
    new OpenAiEmbedder({ url: server.url, model: 'concepts-64', retryBaseMs: 1, ...o })

  it('sends texts in batches, one request at a time, and answers one vector per text in order', async () => {
    server.requests.length = 0
    const texts = ['a car', 'the vim editor', 'espresso', 'x', 'a puppy', 'release day', 'z']
    const vectors = await embedder({ batchSize: 3 }).embed(texts)
    assert.deepEqual(server.requests.map(r => r.inputs), [3, 3, 1])
    assert.equal(vectors.length, 7)
    vectors.forEach((v, i) => assert.deepEqual([...v], embedText(texts[i]!).map(x => Math.fround(x))))
    assert.deepEqual(await embedder().embed([]), [])
  })

  it('retries 5xx and 429 (honouring Retry-After), then succeeds', async () => {
    server.requests.length = 0
    server.failNext(2, 503)
    server.failNext(1, 429, { retryAfter: 0 })
    const [v] = await embedder({ retries: 3 }).embed(['coffee'])
    assert.equal(v!.length, 64)
    assert.equal(server.requests.length, 4)
  })

  it('gives up after its retries with UNAVAILABLE naming the URL and the last failure', async () => {
    server.requests.length = 0
    server.failNext(3, 500)
    await assert.rejects(embedder({ retries: 2 }).embed(['coffee']), fails('UNAVAILABLE', /embedder at http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings failed 3 times, last with 500: failing on purpose with 500; is the embedding server running\?/))
    assert.equal(server.requests.length, 3)
  })

  it('a model the server lacks fails at once with its message', async () => {
    server.requests.length = 0
    await assert.rejects(embedder({ model: 'nope' }).embed(['coffee']), fails('INVALID_INPUT', /refused the request with 404: model "nope" not found, try pulling it first; check search.embedder.model/))
    assert.equal(server.requests.length, 1, 'not retried')
  })

  it('an answer that is not embeddings fails with PROTOCOL', async () => {
    const cases: Array<[string, RegExp]> = [
      ['not json', /not JSON/],
      ['{"data": 3}', /without a "data" array/],
      ['{"data": []}', /answered 0 embeddings for 1 texts/],
      ['{"data": [{"index": 0, "embedding": [1, "x"]}]}', /not an array of finite numbers/],
      ['{"data": [{"index": 5, "embedding": [1]}]}', /index 5/]
    ]
    for (const [body, message] of cases) {
      server.garbleNext(body)
      await assert.rejects(embedder().embed(['coffee']), fails('PROTOCOL', message), body)
    }
  })

  it('a refused connection and a server that never answers are retried, then UNAVAILABLE', async () => {
    const port = await closedPort()
    await assert.rejects(new OpenAiEmbedder({ url: `http://127.0.0.1:${port}/v1`, model: 'm', retries: 1, retryBaseMs: 1 }).embed(['x']), fails('UNAVAILABLE', /failed 2 times, last with ECONNREFUSED/))
    server.stall = true
    try {
      await assert.rejects(embedder({ timeoutMs: 200, retries: 1 }).embed(['x']), fails('UNAVAILABLE', /last with no answer within 200 ms/))
    } finally {
      server.stall = false
    }
  })

  it('sends the key as a bearer token when one is configured', async () => {
    const seen: Array<string | undefined> = []
    const { createServer } = await import('node:http')
    const s = createServer((req, res) => {
      seen.push(req.headers.authorization)
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ data: [{ index: 0, embedding: [1, 0] }] }))
    })
    await new Promise<void>(resolve => s.listen(0, '127.0.0.1', resolve))
    try {
      const port = (s.address() as { port: number }).port
      await new OpenAiEmbedder({ url: `http://127.0.0.1:${port}/v1/`, model: 'm', apiKey: 'k-123' }).embed(['x'])
      await new OpenAiEmbedder({ url: `http://127.0.0.1:${port}/v1/embeddings`, model: 'm' }).embed(['x'])
      assert.deepEqual(seen, ['Bearer k-123', undefined])
    } finally {
      s.close()
    }
  })
})
