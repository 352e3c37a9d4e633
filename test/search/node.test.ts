/**
 * A node configured with an embedder (search.embedder.url, .model pointing at a real local
 * embedding server): vectors in <dataDir>/vectors.db follow the writes, GET /api/v1/search answers
 * hybrid results, /api/v1/search/index reports both indexes; a node with an index left unbuilt by
 * an older file rebuilds it in the background when it starts; a half-configured embedder is
 * refused at start naming the key.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { defaultConfig, type ConfigFlags } from '../../src/config/load.ts'
import { isEngramError } from '../../src/core/errors.ts'
import { EngramNode } from '../../src/node/EngramNode.ts'
import { silentLogger } from '../../src/util/log.ts'
import { eventually } from '../support/eventually.ts'
import { makeOlderStoreFile } from '../support/olderStore.ts'
import { startEmbeddingServer, type EmbeddingServer } from './embeddingServer.ts'

describe('a node with search', () => {
  let root: string
  let server: EmbeddingServer
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'engram-search-node-'))
    server = await startEmbeddingServer()
  })
  after(async () => {
    await server.close()
    rmSync(root, { recursive: true, force: true })
  })
  const config = (name: string, more: ConfigFlags = {}) => defaultConfig({ dataDir: join(root, name), 'api.port': 0, ...more })
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field
  const get = async (node: EngramNode, path: string): Promise<any> => (await fetch(node.apiUrl + path)).json()

  it('embeds writes and answers hybrid searches over REST', async () => {
    const node = await EngramNode.start(config('hybrid', { 'search.embedder.url': server.url, 'search.embedder.model': 'concepts-64' }), { log: silentLogger })
    try {
      node.engine.addTriples([
        { subject: 'kg:Alice', predicate: 'kg:observation', object: 'drives a sedan' },
        { subject: 'kg:Bob', predicate: 'kg:observation', object: 'rides a bicycle' }
      ])
      await eventually(async () => (await get(node, '/api/v1/search/index')).semantic.vectors === 2, 'two vectors')
      const status = await get(node, '/api/v1/search/index')
      assert.deepEqual(status.semantic, { model: 'concepts-64', url: `${server.url}/embeddings`, vectors: 2, pending: 0 })
      assert.equal(status.text.docs, 2)
      const a = await get(node, '/api/v1/search?q=automobile')
      assert.equal(a.mode, 'hybrid')
      assert.equal(a.results[0].subject, 'kg:Alice')
      const t = await get(node, '/api/v1/search?q=automobile&mode=text')
      assert.deepEqual(t.results, [])
    } finally {
      await node.stop()
    }
    const vectors = join(root, 'hybrid', 'vectors.db')
    assert.ok(existsSync(vectors))
    // The vectors are derived from the records, so as private as the store: readable by the owner only.
    if (process.platform !== 'win32') assert.equal(statSync(vectors).mode & 0o077, 0, `vectors.db has mode ${(statSync(vectors).mode & 0o777).toString(8)}`)
  })

  it('rebuilds, in the background, an index its store file lacks', async () => {
    let node = await EngramNode.start(config('older'), { log: silentLogger })
    node.engine.addTriples(Array.from({ length: 50 }, (_, i) => ({ subject: `user:u${i}`, predicate: 'likes', object: `thing number ${i}` })))
    await node.stop()
    // a file of version 1: the same records, none of the tables of later versions (the text index among them)
    makeOlderStoreFile(join(root, 'older', 'engram.db'), 1)
    node = await EngramNode.start(config('older'), { log: silentLogger })
    try {
      await eventually(async () => !(await get(node, '/api/v1/search/index')).text.rebuilding, 'the rebuild')
      assert.equal((await get(node, '/api/v1/search?q=thing&limit=100')).results.length, 50)
    } finally {
      await node.stop()
    }
  })

  it('refuses to start with an embedder URL and no model', async () => {
    await assert.rejects(EngramNode.start(config('half', { 'search.embedder.url': server.url }), { log: silentLogger }),
      (e: unknown) => isEngramError(e) && e.code === 'CONFIG_INVALID' && /search\.embedder\.model .* must be set together with search\.embedder\.url/.test(e.message))
  })
})
