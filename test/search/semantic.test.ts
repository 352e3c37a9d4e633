/**
 * Semantic search end to end in one process, with a real HTTP embedding server: SemanticIndex
 * follows the store's feed (vectors for new records, none for deleted ones), survives the
 * embedder failing and catches up when it is back, starts over for another model; Recall fuses
 * the nearest records by meaning with full text (hybrid), and answers full text alone, saying
 * why, when the embedder fails at query time.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { OpenAiEmbedder } from '../../src/search/OpenAiEmbedder.ts'
import { Recall } from '../../src/search/Recall.ts'
import { SemanticIndex } from '../../src/search/SemanticIndex.ts'
import { MemoryVectorStore } from '../../src/search/vectors/MemoryVectorStore.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { eventually } from '../support/eventually.ts'
import { startEmbeddingServer, type EmbeddingServer } from './embeddingServer.ts'

function node (server: EmbeddingServer, opts: { model?: string, vectors?: MemoryVectorStore } = {}) {
  const store = new MemoryStore()
  const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000 })
  const vectors = opts.vectors ?? new MemoryVectorStore()
  const embedder = new OpenAiEmbedder({ url: server.url, model: opts.model ?? 'concepts-64', retries: 0, retryBaseMs: 1 })
  const semantic = new SemanticIndex({
    store, embedder, vectors, batch: 4, retryMs: 20, maxRetryMs: 40,
    subscribe: fn => { engine.on('change', fn); return () => engine.off('change', fn) }
  })
  const recall = new Recall({ store, semantic })
  return { store, engine, vectors, semantic, recall }
}

describe('semantic search', () => {
  let server: EmbeddingServer
  before(async () => { server = await startEmbeddingServer({ models: ['concepts-64', 'concepts-64-b'] }) })
  after(async () => { await server.close() })

  it('embeds every record written, in batches; a deleted record loses its vector', async () => {
    const n = node(server)
    n.semantic.start()
    n.engine.addTriples([
      { subject: 'user:alice', predicate: 'drives', object: 'a red sedan' },
      { subject: 'user:alice', predicate: 'prefersEditor', object: 'neovim' },
      { subject: 'user:bob', predicate: 'drinks', object: 'espresso every morning' }
    ])
    n.engine.setNote('trip:plan', 'vacation in the mountains')
    n.engine.putEpisode({ id: 'e1', data: { summary: 'fixed a crash in production' } })
    await eventually(() => n.semantic.status().pending === 0 && n.vectors.meta().count === 5, 'five vectors')
    const car = await n.semantic.nearest('automobile', { limit: 1 })
    assert.equal(car[0]!.kind, 'triple')
    assert.equal(n.store.getTriple(car[0]!.key as never)!.object.value, 'a red sedan')
    const [bug] = await n.semantic.nearest('regression bug', { limit: 1, kinds: ['episode', 'note'] })
    assert.deepEqual([bug!.kind, bug!.key], ['episode', 'e1'])
    n.engine.deleteNote('trip:plan')
    await eventually(() => n.vectors.meta().count === 4, 'the deleted note\'s vector dropped')
    assert.ok(server.requests.every(r => r.inputs <= 4))
    await n.semantic.stop()
  })

  it('hybrid search finds by meaning what shares no word with the query, fused with full text', async () => {
    const n = node(server)
    n.semantic.start()
    n.engine.addTriples([
      { subject: 'kg:Alice', predicate: 'kg:observation', object: 'drives a blue sedan to work' },
      { subject: 'kg:Bob', predicate: 'kg:observation', object: 'walks to work' },
      { subject: 'kg:Carol', predicate: 'kg:observation', object: 'owns an automobile museum' }
    ])
    await n.semantic.settled()
    const text = await n.recall.search({ q: 'automobile', limit: 5, expand: 0, mode: 'text' })
    assert.deepEqual(text.results.map(r => r.type === 'entity' ? r.subject : ''), ['kg:Carol'])
    const hybrid = await n.recall.search({ q: 'automobile', limit: 2, expand: 0, mode: 'auto' })
    assert.equal(hybrid.mode, 'hybrid')
    assert.deepEqual(hybrid.semantic, { model: 'concepts-64' })
    assert.deepEqual(hybrid.results.map(r => r.type === 'entity' ? r.subject : ''), ['kg:Carol', 'kg:Alice'], 'in both lists first, by meaning only next')
    const filtered = await n.recall.search({ q: 'automobile', limit: 5, expand: 0, mode: 'hybrid', namespace: 'user' })
    assert.deepEqual(filtered.results, [])
    await n.semantic.stop()
  })

  it('answers full text alone, saying why, when the embedder fails at query time', async () => {
    const n = node(server)
    n.semantic.start()
    n.engine.addTriples([{ subject: 'kg:Dan', predicate: 'kg:observation', object: 'plays cello' }])
    await n.semantic.settled()
    server.failNext(1, 500)
    const a = await n.recall.search({ q: 'cello', limit: 5, expand: 0, mode: 'auto' })
    assert.equal(a.mode, 'hybrid')
    assert.match(a.semantic!.error!, /failed 1 times, last with 500/)
    assert.equal(a.results.length, 1)
    await n.semantic.stop()
  })

  it('keeps going when the embedder is down, and catches up when it is back', async () => {
    const n = node(server)
    server.failNext(3, 503)
    n.semantic.start()
    n.engine.addTriples([{ subject: 'x:1', predicate: 'p', object: 'espresso' }, { subject: 'x:2', predicate: 'p', object: 'matcha' }])
    await eventually(() => n.semantic.status().lastError !== undefined, 'a failure recorded')
    assert.match(n.semantic.status().lastError!, /503/)
    await eventually(() => n.vectors.meta().count === 2 && n.semantic.status().lastError === undefined, 'caught up after the failures')
    assert.equal(n.semantic.status().pending, 0)
    await n.semantic.stop()
  })

  it('starts over when the model changes', async () => {
    const vectors = new MemoryVectorStore()
    const a = node(server, { vectors })
    a.semantic.start()
    a.engine.addTriples([{ subject: 'x:1', predicate: 'p', object: 'latte' }])
    await eventually(() => vectors.meta().count === 1, 'one vector')
    await a.semantic.stop()
    assert.equal(vectors.meta().model, 'concepts-64')
    const b = node(server, { vectors, model: 'concepts-64-b' })
    b.semantic.start()
    assert.equal(vectors.meta().model, 'concepts-64-b')
    assert.equal(vectors.meta().count, 0)
    await b.semantic.stop()
  })
})
