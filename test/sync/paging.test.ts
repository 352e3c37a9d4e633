/**
 * Multi-process: large pulls. 1,200 triples with sync.maxTriplesPerSync 500 arrive complete in
 * three pages (the paging is the same at any size: a page is the limit or what is left); a node
 * killed (SIGKILL) in the middle of a pull of 300 pages resumes from its cursor, without loss or
 * duplicates.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { sandbox, type Sandbox } from '../cli/helpers.ts'
import { dumpDiff, dumpFile, poll, startNode, type Node } from './daemons.ts'

/** Adds `count` distinct triples in batches of 10,000 (the API's batch limit). */
async function addTriples (n: Node, count: number, tag: string): Promise<void> {
  for (let i = 0; i < count; i += 10_000) {
    const triples = Array.from({ length: Math.min(10_000, count - i) }, (_, j) => ({ subject: `${tag}:s${i + j}`, predicate: 'p', object: i + j }))
    await n.client.request('POST', '/api/v1/triples', { body: { triples }, timeoutMs: 60_000 })
  }
}

describe('multi-process sync: large pulls', () => {
  let box: Sandbox
  before(() => { box = sandbox() })
  after(() => box.remove())

  it('1,200 triples with maxTriplesPerSync 500 arrive complete in three pages', async () => {
    const config = { sync: { maxTriplesPerSync: 500 } }
    const [src, dst] = await Promise.all([startNode(box, 'srcpages', { config }), startNode(box, 'dstpages', { config })])
    try {
      await dst.client.pairPeer('src', src.url)
      // Pairing runs a first (empty) sync at once; wait for it, so that one run below does it all.
      await poll(async () => ((await dst.client.syncStatus()).peers[0]!.counters.syncs >= 1 ? true : undefined), 10_000, 'the first sync')
      await addTriples(src, 1200, 'big')
      const r = await dst.cli(['sync', 'now', 'src', '--json'])
      assert.equal(r.code, 0, r.stderr)
      const { results } = JSON.parse(r.stdout) as { results: { ok: boolean, pages: number, received: number, applied: number }[] }
      assert.deepEqual(results.map(x => [x.ok, x.pages, x.received, x.applied]), [[true, 3, 1200, 1200]])
      assert.equal((await dst.client.status()).store.stats.triples, 1200)
      assert.equal((await dst.client.syncStatus()).peers[0]!.cursor, (await src.client.status()).store.stats.lastSeq)
    } finally {
      await Promise.all([src.stop(), dst.stop()])
    }
    const a = dumpFile(join(box.root, 'srcpages', 'data'))
    const b = dumpFile(join(box.root, 'dstpages', 'data'))
    assert.deepEqual(b, a, dumpDiff(a, b))
  })

  it('a node killed in the middle of a pull resumes from its cursor, without loss or duplicates', async () => {
    const total = 30_000
    const config = { sync: { maxTriplesPerSync: 100 } }
    const src = await startNode(box, 'srckill')
    await addTriples(src, total, 'k')
    let dst = await startNode(box, 'dstkill', { config })
    try {
      // Pairing starts the pull at once (300 pages); kill the node once part of it has committed.
      await dst.client.pairPeer('src', src.url)
      const partial = await poll(async () => {
        const n = (await dst.client.status()).store.stats.triples
        return n > 0 ? n : undefined
      }, 30_000, 'part of the pull')
      // Paused first (the run under way goes on until the kill), so that the restarted node does
      // not resume on its own schedule while its cursor and store are read below.
      await dst.client.request('POST', '/api/v1/sync/peers/src/pause')
      await dst.kill()
      assert.ok(partial < total, `killed mid-pull (${partial} of ${total} committed)`)

      dst = await startNode(box, 'dstkill', { config })
      const committed = (await dst.client.status()).store.stats.triples
      const before = (await dst.client.syncStatus()).peers[0]!
      assert.ok(committed >= partial && committed < total)
      assert.equal(before.cursor, committed, 'the cursor is exactly what was committed (one seq per triple on src)')
      assert.equal(before.counters.received, 0, 'the killed run never finished')
      assert.equal(before.status, 'paused')
      await dst.client.request('POST', '/api/v1/sync/peers/src/resume')
      const r = await dst.client.syncNow('src')
      assert.ok(r.results[0]!.ok, r.results[0]!.error)
      const after = (await dst.client.syncStatus()).peers[0]!
      assert.equal(after.counters.received, total - committed, 'resumed from the cursor: nothing pulled twice')
      assert.equal((await dst.client.status()).store.stats.triples, total)
    } finally {
      await Promise.all([src.stop(), dst.stop()])
    }
    const a = dumpFile(join(box.root, 'srckill', 'data'))
    const b = dumpFile(join(box.root, 'dstkill', 'data'))
    assert.equal(b.length, total)
    assert.deepEqual(b, a, dumpDiff(a, b))
  })
})
