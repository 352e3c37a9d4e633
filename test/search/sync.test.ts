/**
 * Records that arrive by sync are searchable the moment they are visible: two nodes with real
 * stores and REST APIs, polled sync over HTTP; after the pull that brings a record (in the same
 * transaction that writes it), the receiver's GET /api/v1/search finds it, and after the pull
 * that brings its deletion, no node finds it.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startSyncNode, type SyncNode } from '../sync/helpers.ts'

describe('search over synced records', () => {
  let a: SyncNode
  let b: SyncNode
  before(async () => {
    a = await startSyncNode('a')
    b = await startSyncNode('b')
    b.sync.pair({ name: 'a', url: a.url })
    a.sync.pair({ name: 'b', url: b.url })
  })
  after(async () => {
    await a.close()
    await b.close()
  })

  const found = async (n: SyncNode, q: string): Promise<string[]> => {
    const res = await fetch(`${n.url}/api/v1/search?q=${encodeURIComponent(q)}`)
    assert.equal(res.status, 200)
    const body = await res.json() as { results: Array<{ type: string, subject?: string, note?: { key: string } }> }
    return body.results.map(r => r.subject ?? r.note?.key ?? r.type)
  }

  it('a record synced from a peer is found at once on the receiver; a deletion removes it everywhere', async () => {
    const [t] = a.engine.addTriples([{ subject: 'user:alice', predicate: 'prefersEditor', object: 'helix, a modal editor' }])
    a.engine.setNote('project:x/plan', 'ship the helix plugin')
    assert.deepEqual(await found(b, 'helix'), [])
    const [r] = await b.sync.syncNow('a')
    assert.equal(r?.ok, true, r?.error)
    assert.deepEqual((await found(b, 'helix')).sort(), ['project:x/plan', 'user:alice'])
    assert.equal(b.store.searchText({ query: { type: 'term', terms: ['helix'], prefix: false, quoted: false }, limit: 5 }).hits.length, 2)

    b.engine.deleteTriple(t!.id)
    assert.deepEqual(await found(b, 'helix'), ['project:x/plan'])
    const [back] = await a.sync.syncNow('b')
    assert.equal(back?.ok, true, back?.error)
    assert.deepEqual(await found(a, 'helix'), ['project:x/plan'])
    assert.deepEqual(await found(a, 'modal editor'), [])
  })
})
