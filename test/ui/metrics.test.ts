/**
 * GET /metrics of real daemons syncing natively, with a polled pairing too: promtool
 * (Prometheus's own parser and linter) accepts the answer, every family of docs/METRICS.md is
 * in it, and the families about peers have the peer's samples.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { daemonsFixture, startMesh, type P2pNode } from '../native/daemons.ts'
import { eventually } from '../support/eventually.ts'
import { documentedMetrics, families, promtoolCheck, sample } from '../api/promtool.ts'

const { box, live } = daemonsFixture()
const DOC = readFileSync(new URL('../../docs/METRICS.md', import.meta.url), 'utf8')

describe('GET /metrics with peers', () => {
  it('is accepted by promtool, has every documented family, and samples for each peer', async () => {
    const [a, b] = await startMesh(box(), ['metrics-a', 'metrics-b']) as [P2pNode, P2pNode]
    live.add(a); live.add(b)
    await a.client.pairPeer('b', b.url)
    await b.client.addTriple('m:x', 'p', 'from b')
    await eventually(async () => (await a.client.queryTriples({ subject: 'm:x' })).total === 1, () => 'b\'s write on a')
    const scrape = async (): Promise<string> => await (await fetch(`${a.url}/metrics`)).text()
    const native = `{peer="${b.nodeId}",mode="native"}`
    // b's write may reach a first through the polled pairing: a's native sync with b counts once
    // a page with records (or a gossip round) came over the session
    await eventually(async () => {
      const t = await scrape()
      return sample(t, `engram_peer_up${native}`) === 1 && (sample(t, `engram_peer_last_sync_timestamp_seconds${native}`) ?? 0) > 0
    }, async () => `b up and synced natively in a's metrics: ${(await scrape()).split('\n').filter(l => l.includes(b.nodeId)).join('; ')}`)

    const text = await scrape()
    promtoolCheck(text)
    const names = families(text)
    for (const name of documentedMetrics(DOC)) assert.ok(names.has(name), `${name} is documented but not in the answer`)
    assert.ok(sample(text, `engram_peer_sent_bytes_total${native}`)! > 0)
    assert.ok(sample(text, `engram_peer_received_bytes_total${native}`)! > 0)
    assert.ok(sample(text, `engram_peer_last_sync_timestamp_seconds${native}`)! > 0)
    assert.equal(sample(text, `engram_peer_applied_records_total{peer="${b.nodeId}"}`), 1)
    assert.equal(sample(text, 'engram_applied_records_total{kind="triple"}'), 1)
    assert.equal(sample(text, 'engram_peer_consecutive_failures{peer="b",mode="polled"}'), 0, 'the polled pairing is listed too')
    assert.ok(sample(text, 'engram_gossip_rounds_total')! > 0)
    assert.ok(sample(text, 'engram_store_size_bytes')! > 0)
    assert.equal(sample(text, 'engram_sync_failures_total{mode="polled"}'), 0)
    for (const n of [a, b]) { live.delete(n); await n.stop() }
  })
})
