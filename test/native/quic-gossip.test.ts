/**
 * Multi-process, over real QUIC on loopback: the anti-entropy backstop alone. Two daemons with
 * cursor streams and live push switched off (the ENGRAM_TEST_P2P_GOSSIP_ONLY test hook)
 * reconcile 10,000 triples (6,000 only on one, 4,000 only on the other) by gossip rounds alone:
 * coded rounds, which both speak, in a bounded number of rounds that found a difference. (Not a
 * bound on ticks: ticks are wall-clock time, and on a loaded machine a round spans several.) Bloom rounds between
 * processes are run by an older node with a new one (test/sync/mixed-versions.test.ts).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { daemonsFixture, freePorts, startP2pNode, stopAndCompare, until, waitConverged, type P2pNode } from './daemons.ts'

const { box, live } = daemonsFixture()

/** Coded rounds that found and settled a difference, per node: one settles all 10,000; records still in flight may need a few more. */
const MAX_DECODED = 10

describe('native sync over QUIC: gossip rounds alone', () => {
  it(`reconciles 10,000 triples by coded rounds alone, within ${MAX_DECODED} decoded rounds a node`, async () => {
    const ports = await freePorts(2)
    const opts = { p2p: { gossipIntervalMs: 200 }, env: { ENGRAM_TEST_P2P_GOSSIP_ONLY: '1' } }
    // a is started first and written to alone; b knows a but a does not know b yet
    const a = await startP2pNode(box(), 'bl-a', { ...opts, p2pPort: ports[0] })
    live.add(a)
    const post = (n: P2pNode, from: number, count: number): Promise<unknown> => n.client.request('POST', '/api/v1/triples', {
      body: { triples: Array.from({ length: count }, (_, i) => ({ subject: `user:u${from + i}`, predicate: 'rel:knows', object: `v${from + i}` })) }
    })
    for (let i = 0; i < 6_000; i += 2_000) await post(a, i, 2_000)
    const b = await startP2pNode(box(), 'bl-b', { ...opts, p2pPort: ports[1], peers: [`127.0.0.1:${ports[0]}`] })
    live.add(b)
    for (let i = 6_000; i < 10_000; i += 2_000) await post(b, i, 2_000)
    await until(async () => (await a.p2p()).peer_count === 1, () => 'a and b connected', 20_000)
    await waitConverged([a, b], 60_000)
    const [sa, sb] = await Promise.all([a.stats(), b.stats()])
    assert.equal(sa.triples, 10_000)
    assert.equal(sb.triples, 10_000)
    const [ga, gb] = [(await a.p2p()).gossip_stats, (await b.p2p()).gossip_stats]
    const seen = `a: ${JSON.stringify(ga)}, b: ${JSON.stringify(gb)}`
    assert.ok((ga.coded_rounds ?? 0) + (gb.coded_rounds ?? 0) > 0, `coded rounds decoded (${seen})`)
    assert.ok((ga.coded_rounds ?? 0) <= MAX_DECODED && (gb.coded_rounds ?? 0) <= MAX_DECODED, `at most ${MAX_DECODED} decoded rounds a node (${seen})`)
    assert.equal((ga.coded_failed ?? 0) + (gb.coded_failed ?? 0), 0, `no coded round given up (${seen})`)
    assert.equal(ga.bloom_filter_items + gb.bloom_filter_items, 0, `no bloom filter built (${seen})`)
    for (const n of [a, b]) live.delete(n)
    await stopAndCompare([a, b])
  })
})
