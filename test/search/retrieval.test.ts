/**
 * Retrieval quality on the labelled set (test/fixtures/retrieval.json, evaluated by
 * retrieval.ts): recall@5 of substring search (the behaviour before ranked search), full text and
 * hybrid, printed; full text must find more than substring search, and hybrid at least as much
 * as full text.
 */
import assert from 'node:assert/strict'
import { after, before, it } from 'node:test'
import { startEmbeddingServer, type EmbeddingServer } from './embeddingServer.ts'
import { evaluateRetrieval } from './retrieval.ts'

let server: EmbeddingServer
before(async () => { server = await startEmbeddingServer() })
after(async () => { await server.close() })

it('recall@5: full text above substring search, hybrid at least full text', async () => {
  const f = await evaluateRetrieval(server.url)
  process.stdout.write(`# recall@5 on ${f.questions} questions: substring ${f.substring}, full text ${f.fullText}, hybrid ${f.hybrid}\n`)
  for (const x of f.found) if (!x.hybrid) process.stdout.write(`#   not found by hybrid: ${x.q}\n`)
  assert.ok(f.fullText > f.substring, `full text ${f.fullText} ≤ substring ${f.substring}`)
  assert.ok(f.hybrid >= f.fullText, `hybrid ${f.hybrid} < full text ${f.fullText}`)
})
