/**
 * Multi-process, over real QUIC on loopback, at scale: a node holding 100,000 triples (10,000 of
 * them deleted) bootstraps an empty node that is given its address. Both converge to identical
 * canonical dumps, with the deletes kept deleted.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { daemonsFixture, freePorts, startP2pNode, stopAndCompare, waitConverged } from './daemons.ts'

const { box, live } = daemonsFixture()

const ROWS = 100_000
const BATCH = 10_000

describe('native sync over QUIC: bootstrap at scale', () => {
  it(`an empty node receives ${ROWS.toLocaleString('en')} triples and their deletes: identical dumps`, async () => {
    const ports = await freePorts(2)
    const a = await startP2pNode(box(), 'boot-a', { p2pPort: ports[0] })
    live.add(a)
    for (let from = 0; from < ROWS; from += BATCH) {
      await a.client.request('POST', '/api/v1/triples', {
        body: {
          triples: Array.from({ length: BATCH }, (_, j) => {
            const i = from + j
            return { subject: `user:u${i}`, predicate: i % 10 === 0 ? 'rel:old' : 'rel:knows', object: i % 3 === 0 ? { node: `user:u${i + 1}` } : `value ${i}` }
          })
        }
      })
    }
    const deleted = await a.client.request('DELETE', '/api/v1/triples?predicate=rel%3Aold') as { deleted: number }
    assert.equal(deleted.deleted, ROWS / 10)

    const b = await startP2pNode(box(), 'boot-b', { p2pPort: ports[1], peers: [`127.0.0.1:${ports[0]}`] })
    live.add(b)
    await waitConverged([a, b], 120_000)
    const s = await b.stats()
    assert.equal(s.triples, ROWS - ROWS / 10, 'live triples on the new node')
    assert.equal(s.tripleTombstones, ROWS / 10, 'the deletes arrived as tombstones')
    for (const n of [a, b]) live.delete(n)
    await stopAndCompare([a, b])
  })
})
