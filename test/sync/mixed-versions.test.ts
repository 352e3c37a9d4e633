/**
 * Mixed versions without a flag day (docs/SECURITY.md, "Mixed versions"): a real daemon of a
 * version without signatures (its sources from the git history: oldVersion.ts; one whose native
 * handshake is version 1 alone, and the last one, whose handshake is version 2 and whose store
 * keeps knowledge vectors and held records) and a daemon of this one sync both ways, over QUIC
 * and over REST; the new one takes the old one's records as unsigned and refuses nothing, the
 * old one takes the new one's (ignoring their signatures). A
 * node upgraded in place migrates its store and signs its own earlier records; the records of
 * others stay unsigned there until signed copies arrive.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { daemonsFixture, freePorts, startP2pNode, stopAndCompare, until, waitConverged, type P2pNode } from '../native/daemons.ts'
import { oldVersionCli } from './oldVersion.ts'

const { box, live } = daemonsFixture()

type TripleView = { id: string, provenance?: { signed: boolean, origin: string } }

async function triplesOf (n: P2pNode): Promise<TripleView[]> {
  return (await n.client.request<{ triples: TripleView[] }>('GET', '/api/v1/triples?limit=1000')).triples
}

describe('an older node and a new one', () => {
  for (const version of ['handshakeV1', 'handshakeV2'] as const) {
    it(`sync both ways over QUIC and REST (${version}): the new one takes the old one's records unsigned and refuses nothing`, async () => {
      const cli = oldVersionCli(version)
      const [po, pn] = await freePorts(2) as [number, number]
      const [older, newer] = await Promise.all([
        // Data dirs of their own: comparing the dumps opens the old node's store with this version.
        startP2pNode(box(), `old-${version}`, { bin: cli, p2pPort: po, peers: [`127.0.0.1:${pn}`] }),
        startP2pNode(box(), `new-${version}`, { p2pPort: pn, peers: [`127.0.0.1:${po}`] })
      ])
      live.add(older)
      live.add(newer)
      assert.equal((await older.client.status() as unknown as { provenance?: unknown }).provenance, undefined, 'the old node is the old version')
      for (let i = 0; i < 3; i++) {
        await older.client.addTriple(`user:old${i}`, 'likes', 'tea')
        await newer.client.addTriple(`user:new${i}`, 'likes', 'coffee')
      }
      await older.client.setNote('cfg:old', 1)
      await newer.client.setNote('cfg:new', 2)
      await waitConverged([older, newer], 60_000)

      const seen = await triplesOf(newer)
      assert.equal(seen.length, 6)
      for (const t of seen) {
        const fromOld = t.provenance!.origin === older.nodeId
        assert.equal(t.provenance!.signed, !fromOld, `${t.id}: signed exactly when written by the new node`)
      }
      const refused = await newer.client.refused()
      assert.equal(refused.counters['total'], 0)
      assert.equal((await triplesOf(older)).length, 6)

      // Both go on: deletes and more writes on each side, then REST delta sync both ways as well.
      await newer.client.deleteTriples({ subject: 'user:old0' })
      await older.client.deleteTriples({ subject: 'user:new0' })
      await older.client.setNote('cfg:new', 'changed by old')
      await waitConverged([older, newer], 60_000)
      await older.client.pairPeer('new', newer.url)
      await newer.client.pairPeer('old', older.url)
      for (const n of [older, newer]) for (const r of (await n.client.syncNow()).results) assert.ok(r.ok, `${n.name} ← ${r.peer}: ${r.error ?? ''}`)
      assert.equal((await newer.client.refused()).counters['total'], 0)
      assert.deepEqual((await newer.client.getNote('cfg:new')).value, 'changed by old')
      await stopAndCompare([older, newer])
    })
  }

  it('a node upgraded in place signs its own earlier records; the others\' stay unsigned; an old peer goes on syncing with it', async () => {
    const cli = oldVersionCli('handshakeV2')
    const [px, pz] = await freePorts(2) as [number, number]
    const [x, z] = await Promise.all([
      startP2pNode(box(), 'ux', { bin: cli, p2pPort: px, peers: [`127.0.0.1:${pz}`] }),
      startP2pNode(box(), 'uz', { bin: cli, p2pPort: pz, peers: [`127.0.0.1:${px}`] })
    ])
    live.add(x)
    live.add(z)
    for (let i = 0; i < 3; i++) {
      await x.client.addTriple(`user:x${i}`, 'likes', 'tea')
      await z.client.addTriple(`user:z${i}`, 'likes', 'tea')
    }
    await waitConverged([x, z], 60_000)
    await x.stop()
    live.delete(x)
    const upgraded = await startP2pNode(box(), 'ux', { p2pPort: px, peers: [`127.0.0.1:${pz}`] })
    live.add(upgraded)
    assert.equal(upgraded.nodeId, x.nodeId, 'the same identity')
    const status = await upgraded.client.status()
    assert.equal(status.provenance?.unsigned_held, 3, 'z\'s three records stay unsigned')
    for (const t of await triplesOf(upgraded)) assert.equal(t.provenance!.signed, t.provenance!.origin === x.nodeId)
    assert.match(upgraded.daemon.stderr(), /signed this node's earlier records/)
    // The old peer goes on: both ways.
    await upgraded.client.addTriple('user:x-after', 'likes', 'coffee')
    await z.client.addTriple('user:z-after', 'likes', 'coffee')
    await until(async () => (await triplesOf(upgraded)).length === 8 && (await triplesOf(z)).length === 8, () => 'both writes on both nodes', 60_000)
    assert.equal((await upgraded.client.refused()).counters['total'], 0)
    await stopAndCompare([upgraded, z])
  })
})
