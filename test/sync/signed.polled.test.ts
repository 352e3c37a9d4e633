/**
 * Signatures over polled (REST delta) sync, in process over real HTTP and SQLite files: delta
 * answers carry the batches and each record's seal, a relay passes them on, a receiver keeps each
 * state with its origin's verified signature, and the server says that it signs.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { newSigningIdentity } from '../../src/node/keys.ts'
import { dumpOf, pairAll, startSyncNode, syncUntilEqual, type SyncNode } from './helpers.ts'

describe('signed records over polled sync', () => {
  const nodes: SyncNode[] = []
  before(async () => {
    for (const name of ['a', 'b', 'c']) nodes.push(await startSyncNode(name, { identity: await newSigningIdentity(), settings: { maxTriplesPerSync: 100 } }))
  })
  after(async () => { await Promise.all(nodes.map(n => n.close())) })

  it('pages carry signatures; a relay passes them on; every state is kept signed by its origin', async () => {
    const [a, b, c] = nodes as [SyncNode, SyncNode, SyncNode]
    // A writes 250 triples in one batch: pages of 100 carry parts of it, each with its proof.
    a.engine.addTriples(Array.from({ length: 250 }, (_, i) => ({ subject: `user:u${i}`, predicate: 'p', object: `v${i}` })))
    a.engine.setNote('cfg:k', 1)
    // B pulls from A, C only from B.
    b.sync.pair({ name: 'a', url: a.url })
    c.sync.pair({ name: 'b', url: b.url })
    for (const r of await b.sync.syncNow()) assert.ok(r.ok, r.error)
    for (const r of await c.sync.syncNow()) assert.ok(r.ok, r.error)
    assert.equal(c.store.stats().triples, 250)
    for (const n of [b, c]) {
      const entries = n.store.changesSince(0, { limit: 1000 }).entries
      assert.ok(entries.every(e => e.seal !== undefined && n.store.getBatch(e.seal.batch)?.header.signer === a.node), `${n.name}: every state signed by A`)
      assert.equal(n.engine.provenance.counters.unsignedAccepted, 0)
      assert.equal(n.engine.provenance.counters.refused.unsigned + n.engine.provenance.counters.refused['bad-signature'], 0)
    }
    assert.ok(b.engine.provenance.signers.has(a.node), 'A said it signs in its answers')
    assert.equal(c.store.getState('note', 'cfg:k')?.via, b.node)
    pairAll(nodes)
    await syncUntilEqual(nodes)
    assert.deepEqual(dumpOf(a), dumpOf(c))
  })
})
