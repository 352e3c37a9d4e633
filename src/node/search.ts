/**
 * Builds a node's search: full text over the store always, and semantic search when
 * search.embedder.url and .model are set (an OpenAI-compatible embeddings server, vectors in
 * <dataDir>/vectors.db, kept in step with every write of the engine). Part of the composition
 * root: the one place that names the embedding provider and the vector file.
 */
import type { EngramConfig } from '../config/schema.ts'
import type { Engine } from '../engine/Engine.ts'
import { OpenAiEmbedder } from '../search/OpenAiEmbedder.ts'
import { SearchService } from '../search/SearchService.ts'
import { SemanticIndex } from '../search/SemanticIndex.ts'
import { SqliteVectorStore } from '../search/vectors/SqliteVectorStore.ts'
import type { Logger } from '../util/log.ts'

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])

export function createSearch (opts: { config: EngramConfig, engine: Engine, vectorsFile: string, log: Logger }): { search: SearchService, close: () => void } {
  const { config, engine } = opts
  const log = opts.log.child({ part: 'search' })
  const e = config.search.embedder
  // the Reindexer indexes what a far-behind catch-up left pending
  const subscribe = (onChange: () => void): () => void => {
    engine.on('change', onChange)
    return () => engine.off('change', onChange)
  }
  if (e.url === undefined || e.model === undefined) return { search: new SearchService({ store: engine.store, log, subscribe }), close: () => {} }
  const host = new URL(e.url).hostname
  if (!LOOPBACK.has(host)) {
    log.warn('semantic search sends the text of every record to an embedder on another machine; point search.embedder.url at this machine to keep memory local', { url: e.url })
  }
  const embedder = new OpenAiEmbedder({ url: e.url, model: e.model, apiKey: e.apiKey, batchSize: e.batchSize, timeoutMs: e.timeoutMs })
  const vectors = SqliteVectorStore.open(opts.vectorsFile)
  const semantic = new SemanticIndex({
    store: engine.store,
    embedder,
    vectors,
    batch: e.batchSize,
    log,
    subscribe
  })
  return { search: new SearchService({ store: engine.store, semantic, log, subscribe }), close: () => vectors.close() }
}
