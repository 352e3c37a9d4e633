/**
 * Retrieval quality (test/search/retrieval.ts): recall@5 on the labelled set of
 * test/fixtures/retrieval.json for substring search (the behaviour before ranked search), full
 * text, and hybrid with the deterministic test embedding model served over local HTTP.
 */
import { startEmbeddingServer } from '../test/search/embeddingServer.ts'
import { evaluateRetrieval } from '../test/search/retrieval.ts'

export async function benchRetrieval (): Promise<Record<string, number>> {
  const server = await startEmbeddingServer()
  try {
    const f = await evaluateRetrieval(server.url)
    return { questions: f.questions, recall_at_5_substring: f.substring, recall_at_5_full_text: f.fullText, recall_at_5_hybrid_test_model: f.hybrid }
  } finally {
    await server.close()
  }
}
