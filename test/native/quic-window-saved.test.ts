/**
 * Multi-process, over real QUIC on loopback: the gossip window index saved between starts. A
 * daemon saves its index at a clean stop (<dataDir>/window.bin) and its next start reads it back
 * (the log says so, with the feed entries read after it: none, nothing changed while it was
 * stopped) instead of reading the whole store; gossip rounds alone (streams and push off) then
 * reconcile what its peer wrote meanwhile, writes and deletions, and the stores end identical. A
 * saved file that is corrupt is not used: the log says why, the index is built from the store,
 * and the nodes still reconcile.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { daemonsFixture, freePorts, startP2pNode, stopAndCompare, until, waitConverged, type P2pNode } from './daemons.ts'

const { box, live } = daemonsFixture()

describe('native sync over QUIC: the window index saved between starts', () => {
  it('a restarted node reads its saved index back, and gossip alone reconciles what changed meanwhile; a corrupt file is rebuilt from the store', async () => {
    const ports = await freePorts(2)
    const opts = { p2p: { gossipIntervalMs: 200 }, env: { ENGRAM_TEST_P2P_GOSSIP_ONLY: '1' } }
    const post = (n: P2pNode, from: number, count: number): Promise<unknown> => n.client.request('POST', '/api/v1/triples', {
      body: { triples: Array.from({ length: count }, (_, i) => ({ subject: `user:u${from + i}`, predicate: 'rel:knows', object: `v${from + i}` })) }
    })
    const a = await startP2pNode(box(), 'ws-a', { ...opts, p2pPort: ports[0], peers: [`127.0.0.1:${ports[1]}`] })
    live.add(a)
    const startB = async (): Promise<P2pNode> => {
      const b = await startP2pNode(box(), 'ws-b', { ...opts, p2pPort: ports[1], peers: [`127.0.0.1:${ports[0]}`] })
      live.add(b)
      return b
    }
    let b = await startB()
    await post(a, 0, 300)
    await post(b, 300, 200)
    await waitConverged([a, b], 60_000)
    const file = join(b.dataDir, 'window.bin')
    // no saved copy at the first start: built from the store (once b's first dial of a is done, so
    // its own writes meanwhile may be among the entries read)
    assert.match(b.daemon.stderr(), /gossip window index built from the store \(\d+ feed entries\)/)

    // a clean stop saves the index; a writes and deletes meanwhile
    live.delete(b)
    await b.stop()
    assert.ok(existsSync(file), 'saved at the stop')
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o077, 0, 'owner only')
    await post(a, 1_000, 100)
    assert.deepEqual(await a.client.request('DELETE', '/api/v1/triples?subject=user%3Au7'), { deleted: 1 })
    b = await startB()
    await until(async () => /gossip window index read back from its saved copy \(500 elements, current to seq \d+\) and 0 feed entries after it/.test(b.daemon.stderr()),
      () => `b's log says it read its saved index:\n${b.daemon.stderr()}`, 20_000)
    await waitConverged([a, b], 60_000)

    // a corrupt file: not used, the index is built from the store
    live.delete(b)
    await b.stop()
    const bytes = readFileSync(file)
    bytes[bytes.length >> 1]! ^= 0xff
    writeFileSync(file, bytes)
    await post(a, 2_000, 50)
    b = await startB()
    await until(async () => /built from the store \(\d+ feed entries; the saved copy was not used: checksum mismatch\)/.test(b.daemon.stderr()),
      () => `b's log says why it rebuilt:\n${b.daemon.stderr()}`, 20_000)
    await waitConverged([a, b], 60_000)
    const sb = await b.stats()
    assert.equal(sb.triples, 649)
    assert.equal(sb.tripleTombstones, 1)
    for (const n of [a, b]) live.delete(n)
    await stopAndCompare([a, b])
  })
})
