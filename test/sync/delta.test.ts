/**
 * REST delta sync between in-process nodes over real HTTP: the exact protocol, paging, echo,
 * authentication, replays, the existing clients' request shape, the remote access rule, clock
 * skew, progress, and snapshots.
 */
import assert from 'node:assert/strict'
import { after, afterEach, describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { AUTH_HEADERS, deriveRestKey, signRequest } from '../../src/sync/polled/auth.ts'
import { DELTA_PATH } from '../../src/protocol/polled/messages.ts'
import { DeltaServer } from '../../src/sync/polled/DeltaServer.ts'
import { dumpOf, pairAll, SECRET, startSyncNode, syncUntilEqual, type SyncNode } from './helpers.ts'

const nodes: SyncNode[] = []
async function node (name: string, opts: Parameters<typeof startSyncNode>[1] = {}): Promise<SyncNode> {
  const n = await startSyncNode(name, opts)
  nodes.push(n)
  return n
}
afterEach(async () => { await Promise.all(nodes.splice(0).map(n => n.close())) })

function fill (n: SyncNode, tag: string, count = 3): void {
  n.engine.addTriples(Array.from({ length: count }, (_, i) => ({ subject: `user:${tag}${i}`, predicate: 'likes', object: `thing ${i}` })))
  n.engine.setNote(`cfg:${tag}`, { v: tag })
  n.engine.putEpisode({ id: `ep:${tag}`, data: { summary: tag } })
  n.engine.appendTraces([{ runId: `run:${tag}`, type: 'tool_call', data: { tag } }])
}

async function post (url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number, json: any, headers: Headers }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(url + DELTA_PATH, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
  const text = await res.text()
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text), headers: res.headers }
}

describe('REST delta sync', () => {
  after(async () => { await Promise.all(nodes.splice(0).map(n => n.close())) })

  it('copies every kind with its stamp and origin, both ways, and never echoes', async () => {
    const a = await node('a')
    const b = await node('b')
    pairAll([a, b])
    fill(a, 'a')
    fill(b, 'b')
    const [t] = a.engine.addTriples([{ subject: 'user:gone', predicate: 'p', object: 1 }])
    a.engine.deleteTriple(t!.id)
    assert.equal(await syncUntilEqual([a, b]), 1)
    assert.deepEqual(b.store.getNote('cfg:a'), a.store.getNote('cfg:a'), 'same stamp and origin')
    assert.equal(b.store.getTriple(t!.id)?.deleted, true, 'the delete travelled as a tombstone')
    const again = await a.sync.syncNow('b')
    assert.equal(again[0]!.received, 0, 'nothing echoed back')
    assert.equal(a.sync.peers.get('b')?.counters.syncs, 2)
  })

  it('pages at maxTriplesPerSync, the cursor moving with each page', async () => {
    const a = await node('a', { settings: { maxTriplesPerSync: 100 } })
    const b = await node('b', { settings: { maxTriplesPerSync: 100 } })
    a.engine.addTriples(Array.from({ length: 250 }, (_, i) => ({ subject: `s:${i}`, predicate: 'p', object: i })))
    b.sync.pair({ name: 'a', url: a.url })
    const pages: number[] = []
    const [r] = await b.sync.syncNow('a', (_p, pr) => pages.push(pr.pages))
    assert.deepEqual([r!.ok, r!.received, r!.pages], [true, 250, 3])
    assert.deepEqual(pages, [1, 2, 3])
    assert.equal(b.store.stats().triples, 250)
    assert.equal(b.store.getCursor(a.node), a.store.stats().lastSeq)
  })

  it('a page is cut by size too, and continues after its last record', () => {
    return (async () => {
      const a = await node('a')
      for (let i = 0; i < 5; i++) a.engine.setNote(`big:${i}`, 'x'.repeat(1000))
      const server = new DeltaServer({ engine: a.engine, feedId: a.sync.feedId, maxPage: () => 100, maxPageBytes: 2500 })
      const seen: string[] = []
      let cursor = 0
      for (let i = 0; i < 10; i++) {
        const page = JSON.parse(server.serve({ cursor }, asNodeId('node-x'))) as { records: { key: string }[], cursor: number, hasMore: boolean }
        assert.ok(page.records.length >= 1 && page.records.length <= 2)
        seen.push(...page.records.map(r => r.key))
        cursor = page.cursor
        if (!page.hasMore) break
      }
      assert.deepEqual(seen, ['big:0', 'big:1', 'big:2', 'big:3', 'big:4'])
    })()
  })

  it('a wrong secret is refused with 401 and changes nothing on either side', async () => {
    const a = await node('a')
    const b = await node('b', { secret: 'another-secret' })
    fill(a, 'a')
    fill(b, 'b')
    const before = { a: dumpOf(a), b: dumpOf(b), aSeq: a.store.stats().lastSeq }
    b.sync.pair({ name: 'a', url: a.url })
    const [r] = await b.sync.syncNow('a')
    assert.equal(r!.ok, false)
    assert.equal(r!.code, 'UNAUTHORIZED')
    assert.match(r!.error ?? '', /bad signature/)
    const key = deriveRestKey('wrong')
    const body = JSON.stringify({ cursor: 0 })
    const res = await post(a.url, body, { ...signRequest(key, 'node-z', 'POST', DELTA_PATH, body) })
    assert.equal(res.status, 401)
    assert.equal(res.json.code, 'UNAUTHORIZED')
    assert.equal(res.json.records, undefined)
    assert.deepEqual({ a: dumpOf(a), b: dumpOf(b), aSeq: a.store.stats().lastSeq }, before)
    assert.equal(b.sync.peers.get('a')?.status, 'active', 'an auth failure is not "unreachable"')
  })

  it('a replayed signed request is refused', async () => {
    const a = await node('a')
    fill(a, 'a')
    const body = JSON.stringify({ cursor: 0 })
    const headers = { ...signRequest(deriveRestKey(SECRET), 'node-z', 'POST', DELTA_PATH, body) }
    const first = await post(a.url, body, headers)
    assert.equal(first.status, 200)
    assert.equal(first.json.records.length, 6)
    const replay = await post(a.url, body, headers)
    assert.equal(replay.status, 401)
    assert.match(replay.json.error, /replayed/)
  })

  it('answers the existing clients\' request {since, namespaces, nodeId}', async () => {
    const a = await node('a')
    const t0 = Date.now()
    const [keep, gone] = a.engine.addTriples([
      { subject: 'user:alice', predicate: 'likes', object: 'tea' },
      { subject: 'user:bob', predicate: 'knows', object: { node: 'user:alice' } },
      { subject: 'other:x', predicate: 'p', object: 1 }
    ])
    a.engine.deleteTriple(gone!.id)
    a.engine.setNote('user:note', 1)
    const body = JSON.stringify({ since: new Date(t0 - 1000).toISOString(), namespaces: ['user'], nodeId: 'legacy-client' })
    for (const headers of [{}, { ...signRequest(deriveRestKey(SECRET), 'legacy-client', 'POST', DELTA_PATH, body) }]) {
      const res = await post(a.url, body, headers)
      assert.equal(res.status, 200)
      const j = res.json
      for (const k of ['since', 'nodeId', 'triples', 'deletions', 'syncedAt']) assert.ok(k in j, k)
      assert.equal(j.nodeId, a.node)
      assert.deepEqual(j.triples, [{ id: keep!.id, subject: 'user:alice', predicate: 'likes', object: 'tea', created_at: new Date(keep!.hlc.wall).toISOString() }])
      assert.deepEqual(j.deletions, [gone!.id])
      assert.ok(Number.isFinite(Date.parse(j.syncedAt)))
      assert.equal(j.hasMore, false)
    }
    // served by arrival here, from 15 minutes before `since` (the client's clock may run ahead)
    const later = await post(a.url, JSON.stringify({ since: new Date(Date.now() + 16 * 60_000).toISOString(), namespaces: [], nodeId: 'x' }))
    assert.deepEqual([later.json.triples, later.json.deletions], [[], []], 'nothing arrived after since')
    const withinMargin = await post(a.url, JSON.stringify({ since: new Date(Date.now() + 60_000).toISOString(), namespaces: ['user'], nodeId: 'x' }))
    assert.equal(withinMargin.json.triples.length, 1, 'a client whose clock runs ahead still gets what arrived before its since')
  })

  it('from another machine: only signed delta, health and p2p status; everything else is 403', async () => {
    const a = await node('a')
    fill(a, 'a')
    const remote = { remoteAddress: '10.1.2.3' }
    for (const [method, url] of [['GET', '/api/v1/triples'], ['GET', '/api/v1/sync/status'], ['POST', '/api/v1/sync/now'], ['GET', '/api/v1/conflicts'], ['GET', '/api/v1/nothing']] as const) {
      const r = await a.app.inject({ method, url, ...remote })
      assert.equal(r.statusCode, 403, `${method} ${url}`)
      assert.equal(r.json().code, 'FORBIDDEN')
      assert.match(r.json().error, /only served to programs on this machine/)
    }
    assert.equal((await a.app.inject({ method: 'GET', url: '/api/v1/health', ...remote })).statusCode, 200)
    assert.equal((await a.app.inject({ method: 'GET', url: '/api/v1/p2p/status', ...remote })).statusCode, 404)
    const unsigned = await a.app.inject({ method: 'POST', url: DELTA_PATH, payload: { cursor: 0 }, ...remote })
    assert.equal(unsigned.statusCode, 401, 'unsigned delta from another machine')
    const body = JSON.stringify({ cursor: 0 })
    const signedRes = await a.app.inject({ method: 'POST', url: DELTA_PATH, payload: body, headers: { 'content-type': 'application/json', ...signRequest(deriveRestKey(SECRET), 'node-z', 'POST', DELTA_PATH, body) }, ...remote })
    assert.equal(signedRes.statusCode, 200)
    assert.equal(signedRes.json().records.length, 6)
    assert.ok(signedRes.headers[AUTH_HEADERS.sig], 'the answer is signed')
    assert.equal((await a.app.inject({ method: 'GET', url: '/api/v1/triples', remoteAddress: '::ffff:127.0.0.1' })).statusCode, 200)
  })

  it('syncs with a node whose clock is 10 minutes behind: the signing clock adapts, nothing is lost', async () => {
    const skew = -10 * 60_000
    const a = await node('a', { maxDriftMs: 15 * 60_000 })
    const b = await node('b', { now: () => Date.now() + skew, maxDriftMs: 15 * 60_000 })
    pairAll([a, b])
    fill(a, 'a')
    fill(b, 'b')
    assert.equal(await syncUntilEqual([a, b]), 1)
    assert.equal(b.store.getNote('cfg:a')?.value !== undefined, true)
    fill(b, 'b2')
    assert.equal(await syncUntilEqual([a, b]), 1, 'and again, with the learnt offset')
  })

  it('streams progress as NDJSON from POST /api/v1/sync/now', async () => {
    const a = await node('a', { settings: { maxTriplesPerSync: 100 } })
    const b = await node('b', { settings: { maxTriplesPerSync: 100 } })
    a.engine.addTriples(Array.from({ length: 250 }, (_, i) => ({ subject: `s:${i}`, predicate: 'p', object: i })))
    b.sync.pair({ name: 'a', url: a.url })
    await b.sync.syncNow()
    a.engine.addTriples(Array.from({ length: 250 }, (_, i) => ({ subject: `t:${i}`, predicate: 'p', object: i })))
    const res = await fetch(`${b.url}/api/v1/sync/now`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' }, body: '{}' })
    assert.match(res.headers.get('content-type') ?? '', /^application\/x-ndjson/)
    const lines = (await res.text()).trim().split('\n').map(l => JSON.parse(l) as { type: string, pages?: number, ok?: boolean, results?: { received: number }[] })
    assert.deepEqual(lines.filter(l => l.type === 'progress').map(l => l.pages), [1, 2, 3])
    const last = lines.at(-1)!
    assert.equal(last.type, 'result')
    assert.equal(last.ok, true)
    assert.equal(last.results![0]!.received, 250)
    const plain = await fetch(`${b.url}/api/v1/sync/now`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"peer":"nobody"}' })
    assert.equal(plain.status, 404)
  })

  it('a snapshot keeps what came from the caller and deletes what the server deleted and collected', async () => {
    let now = Date.now()
    const clock = () => now
    const a = await node('a', { now: clock })
    const b = await node('b', { now: clock })
    pairAll([a, b])
    const [mine] = a.engine.addTriples([{ subject: 'user:a', predicate: 'wrote', object: 'x' }])
    const [theirs] = b.engine.addTriples([{ subject: 'user:b', predicate: 'wrote', object: 'y' }])
    a.engine.setNote('cfg:shared', 'v')
    await syncUntilEqual([a, b])
    // a goes away; b deletes a triple and a note, and collects the tombstones after the TTL.
    b.engine.deleteTriple(theirs!.id)
    b.engine.deleteNote('cfg:shared')
    const [late] = a.engine.addTriples([{ subject: 'user:a', predicate: 'wrote', object: 'offline' }])
    now += 3_600_000
    assert.equal(b.store.collectTombstones(now - 1000), 2)
    assert.ok(b.store.stats().feedFloor > a.store.getCursor(b.node))
    const [r] = await a.sync.syncNow('b')
    assert.ok(r!.ok, r!.error)
    assert.equal(a.store.getTriple(mine!.id)?.deleted, false, 'a record that came from the caller is kept')
    assert.equal(a.store.getTriple(late!.id)?.deleted, false, 'written while away: kept')
    assert.equal(a.store.getTriple(theirs!.id)?.deleted, true, 'deleted there: deleted here')
    assert.equal(a.store.getNote('cfg:shared')?.deleted, true)
    assert.equal(a.store.getCursor(b.node), b.store.stats().lastSeq)
    await b.sync.syncNow('a')
    assert.equal(b.store.getTriple(late!.id)?.deleted, false, 'the offline write reaches the other side')
    assert.equal(b.store.getTriple(theirs!.id), undefined, 'and the deleted one does not come back')
  })

  it('a peer whose cursor lies below the floor only because of tombstones it gave this node is not sent a snapshot; a peer that never held them is', async () => {
    let now = Date.now()
    const clock = () => now
    const a = await node('a', { now: clock })
    const b = await node('b', { now: clock })
    const c = await node('c', { now: clock })
    pairAll([a, b, c])
    const added = a.engine.addTriples(Array.from({ length: 5 }, (_, i) => ({ subject: `user:t${i}`, predicate: 'p', object: i })))
    a.engine.setNote('cfg:shared', 'v')
    for (const n of [a, b, c]) fill(n, n.name)
    await syncUntilEqual([a, b, c])
    await a.sync.syncNow('b')
    assert.equal(a.store.getCursor(b.node), b.store.stats().lastSeq)
    const held = b.store.dump().length - 6
    // a deletes; b pulls the tombstones from a (and nobody pulls from b); b writes, and later collects them
    for (const t of added) a.engine.deleteTriple(t.id)
    a.engine.deleteNote('cfg:shared')
    const [pulled] = await b.sync.syncNow('a')
    assert.ok(pulled!.ok, pulled!.error)
    assert.equal(b.store.stats().tripleTombstones, 5)
    const [fresh] = b.engine.addTriples([{ subject: 'user:fresh', predicate: 'p', object: 'new' }])
    now += 3_600_000
    assert.equal(b.store.collectTombstones(now - 1000), 6)
    assert.ok(b.store.stats().feedFloor > a.store.getCursor(b.node), 'a\'s cursor on b lies below b\'s floor')
    assert.ok(b.store.stats().feedFloor > c.store.getCursor(b.node), 'so does c\'s')

    const [ra] = await a.sync.syncNow('b')
    assert.ok(ra!.ok, ra!.error)
    assert.equal(ra!.received, 1, `a, which gave b every tombstone b collected, is sent what it lacks (the fresh write), not a snapshot of b's ${held + 1} records`)
    assert.equal(a.store.getTriple(fresh!.id)?.deleted, false)
    assert.equal(a.store.getCursor(b.node), b.store.stats().lastSeq)

    const [rc] = await c.sync.syncNow('b')
    assert.ok(rc!.ok, rc!.error)
    assert.equal(rc!.received, held + 1, 'c never held the deletions: it is sent a snapshot, every record b holds')
    for (const t of added) assert.equal(c.store.getTriple(t.id)?.deleted, true, 'and the expired-cursor rule deletes what b deleted')
    assert.equal(c.store.getNote('cfg:shared')?.deleted, true)
    assert.equal(c.store.getTriple(fresh!.id)?.deleted, false)
  })
})
