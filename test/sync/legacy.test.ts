/**
 * Multi-process: the legacy delta shape, read by a client that behaves exactly as the existing
 * polled client does (legacyClient.ts: one answer per pull, its own clock as "last sync", JSON
 * content type on every call), loses nothing.
 *
 * Three engram nodes relay records: A and C take writes, B pulls from both (exact mode) and the
 * legacy client L pulls from B into its own store. A's clock runs an hour behind, so A's records
 * reach B (and L) long after their stamps: served by stamp they would be missed; served by their
 * arrival at B they are not. B pages at 100 records, the least allowed: a legacy answer must
 * still hold everything, since L reads one answer per pull. 1,000 random writes, deletes and
 * pulls, in a seeded order (the seed is printed; ENGRAM_FC_SEED replays it).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sandbox, type Sandbox } from '../cli/helpers.ts'
import { mulberry32 } from '../../src/util/random.ts'
import { seedFor } from '../support/seed.ts'
import { statusForCode } from '../../src/api/errors.ts'
import { ArrivalIndex } from '../../src/sync/polled/ArrivalIndex.ts'
import type { DeltaCaller } from '../../src/sync/polled/DeltaEndpoint.ts'
import { LegacyDelta } from '../../src/sync/polled/LegacyDelta.ts'
import { startNode, type Node } from './daemons.ts'
import { startSyncNode, type SyncNode } from './helpers.ts'
import { key, LegacyClient } from './legacyClient.ts'

const OPS = 1000
const NS = 'relay'

/** Every live triple of a node in the namespace, as exact keys. */
async function liveKeys (n: Node): Promise<Set<string>> {
  const out = new Set<string>()
  for (let offset = 0; ; offset += 10_000) {
    const page = await n.client.queryTriples({ namespace: NS, limit: 10_000, offset })
    for (const t of page.triples) out.add(key(t))
    if (offset + 10_000 >= page.total) return out
  }
}

const diff = (a: Set<string>, b: Set<string>): string =>
  `${[...a].filter(x => !b.has(x)).length} missing (e.g. ${[...a].find(x => !b.has(x)) ?? '-'}), ${[...b].filter(x => !a.has(x)).length} extra (e.g. ${[...b].find(x => !a.has(x)) ?? '-'})`

describe('the legacy delta shape, read as the existing polled client reads it', () => {
  let box: Sandbox
  let a: Node, b: Node, c: Node, d: Node
  before(async () => {
    box = sandbox()
    ;[a, b, c, d] = await Promise.all([
      startNode(box, 'a', { env: { ENGRAM_TEST_CLOCK_OFFSET_MS: String(-3_600_000) } }),
      startNode(box, 'b', { config: { sync: { maxTriplesPerSync: 100 } } }),
      startNode(box, 'c'),
      startNode(box, 'd')
    ])
    await b.client.pairPeer('a', a.url)
    await b.client.pairPeer('c', c.url)
  })
  after(async () => {
    await Promise.allSettled([a, b, c, d].map(n => n?.stop()))
    box?.remove()
  })

  const seed = seedFor(0x1e6ac7)
  it(`loses nothing over ${OPS} random writes, deletes and pulls, three nodes relaying (seed ${seed})`, async () => {
    const random = mulberry32(seed)
    const legacy = new LegacyClient({ endpoint: b.url, local: d.url, peerName: 'desktop', namespaces: [NS] })
    const live = { a: new Map<string, string>(), c: new Map<string, string>() } // triple id → key, per writer
    const expected = new Set<string>()
    const counts = { writes: 0, deletes: 0, relays: 0, pulls: 0, received: 0 }
    for (let i = 0; i < OPS; i++) {
      const r = random()
      const writer = random() < 0.5 ? 'a' as const : 'c' as const
      const node = writer === 'a' ? a : c
      if (r < 0.5) {
        const t = await node.client.addTriple(`${NS}:${writer}${i}`, 'said', `#${i} ${Math.floor(random() * 1e6)}`)
        live[writer].set(t.id, key(t))
        expected.add(key(t))
        counts.writes++
      } else if (r < 0.7 && live[writer].size > 0) {
        const ids = [...live[writer].keys()]
        const id = ids[Math.floor(random() * ids.length)]!
        await node.client.deleteTriple(id)
        expected.delete(live[writer].get(id)!)
        live[writer].delete(id)
        counts.deletes++
      } else if (r < 0.9) {
        const res = await b.client.syncNow(random() < 0.5 ? 'a' : 'c')
        assert.ok(res.ok, JSON.stringify(res.results))
        counts.relays++
      } else {
        counts.received += (await legacy.pull()).received
        counts.pulls++
      }
    }
    // the last relays, then the client's last pull
    for (const peer of ['a', 'c']) assert.ok((await b.client.syncNow(peer)).ok)
    assert.deepEqual(await liveKeys(b), expected, 'B holds what A and C hold')
    await legacy.pull()
    const atClient = await legacy.localKeys()
    assert.ok(counts.pulls > 20 && counts.relays > 100 && counts.deletes > 50, JSON.stringify(counts))
    assert.equal(atClient.size, expected.size, `the legacy client: ${diff(expected, atClient)}; ${JSON.stringify(counts)}`)
    assert.deepEqual(atClient, expected)
  })
})

describe('an older polled client on another machine (sync.legacyRemoteClients)', () => {
  let n: SyncNode
  before(async () => {
    n = await startSyncNode('legacy-remote', { secret: 'the shared passphrase' })
    n.engine.addTriples([{ subject: `${NS}:x`, predicate: 'p', object: 'o' }])
  })
  after(async () => { await n?.close() })

  const body = Buffer.from(JSON.stringify({ since: new Date(0).toISOString(), namespaces: [NS], nodeId: 'desktop' }))
  const remote = (tls: boolean): DeltaCaller => ({ address: '10.1.2.3', tls })
  const ask = (headers: Record<string, string>, caller: DeltaCaller, raw = body): { status: number, json: { error?: string, triples?: unknown[] } } => {
    const r = n.sync.delta.handle(headers, raw, false, caller)
    return { status: r.code === undefined ? 200 : statusForCode(r.code), json: JSON.parse(r.body) as { error?: string, triples?: unknown[] } }
  }

  it('is refused unless the node opted in, the request came over TLS and it carries the passphrase', () => {
    n.settings = { ...n.settings, legacyRemoteClients: false }
    assert.equal(ask({ authorization: 'Bearer the shared passphrase' }, remote(true)).status, 401, 'off by default: only signed requests from other machines')

    n.settings = { ...n.settings, legacyRemoteClients: true }
    const clear = ask({ authorization: 'Bearer the shared passphrase' }, remote(false))
    assert.equal(clear.status, 401)
    assert.match(clear.json.error!, /answered only over TLS/)
    assert.match(ask({}, remote(true)).json.error!, /must carry sync\.passphrase in its Authorization header/)
    const wrong = ask({ authorization: 'Bearer a guess' }, remote(true))
    assert.equal(wrong.status, 401)
    assert.match(wrong.json.error!, /is not this node's sync\.passphrase/)
    assert.ok(!wrong.json.error!.includes('a guess') && !wrong.json.error!.includes('the shared passphrase'), 'neither passphrase is echoed')

    for (const authorization of ['Bearer the shared passphrase', 'the shared passphrase']) {
      const ok = ask({ authorization }, remote(true))
      assert.equal(ok.status, 200, JSON.stringify(ok.json))
      assert.equal(ok.json.triples!.length, 1)
    }
    const exact = ask({ authorization: 'Bearer the shared passphrase' }, remote(true), Buffer.from(JSON.stringify({ cursor: 0 })))
    assert.equal(exact.status, 400, 'the exact shape stays for nodes that sign')
    assert.match(exact.json.error!, /^since: is required: an unsigned request from another machine may only use the legacy shape/)
  })

  it('answers whole or not at all: an answer over its limit is refused, never cut', () => {
    n.engine.addTriples([{ subject: `${NS}:y`, predicate: 'p', object: 'o' }, { subject: `${NS}:z`, predicate: 'p', object: 'o' }])
    const arrivals = new ArrivalIndex({ load: () => undefined, save: () => {}, now: Date.now })
    const req = { since: new Date(0).toISOString(), namespaces: [NS] }
    assert.equal((JSON.parse(new LegacyDelta({ engine: n.engine, arrivals, maxRecords: 3 }).serve(req)) as { triples: unknown[] }).triples.length, 3)
    assert.throws(() => new LegacyDelta({ engine: n.engine, arrivals, maxRecords: 2 }).serve(req),
      (e: Error & { code?: string }) => e.code === 'LIMIT_EXCEEDED' && /it is never cut, since such a client reads one answer per pull: nothing was sent/.test(e.message))
  })

  it('goes through the API route, which says whether the request came over TLS', async () => {
    n.settings = { ...n.settings, legacyRemoteClients: true }
    const r = await n.app.inject({ method: 'POST', url: '/api/v1/sync/delta', payload: body, headers: { 'content-type': 'application/json', authorization: 'Bearer the shared passphrase' }, remoteAddress: '10.1.2.3' })
    assert.equal(r.statusCode, 401)
    assert.match(r.json().error, /answered only over TLS/)
  })
})
