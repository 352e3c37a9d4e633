/**
 * Object keys the codecs mangle ("__proto__", which msgpack decoding renames "__proto_") in every
 * record kind, against real daemons over both sync modes: a peer holding the secrets sends them
 * by polled sync (a signed delta answer) and by native sync (a `changes` page over QUIC), and
 * the local API is asked to write them. Every path refuses them whole, nothing is written, and
 * the victim and its honest peer end with identical stores.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import type { Json, MemoryRecord } from '../../src/core/model.ts'
import { makeTrace, makeTriple, recordToPlain } from '../../src/core/records.ts'
import { deriveRestKeys, signResponse, AUTH_HEADERS } from '../../src/sync/polled/auth.ts'
import { QuicTransport } from '../../src/transport/libp2p/QuicTransport.ts'
import { sandbox, type Sandbox } from '../cli/helpers.ts'
import { dumpFile, startNode, type Node } from '../sync/daemons.ts'
import { freePorts, until } from '../native/daemons.ts'
import { attack } from './attacker.ts'

const SEED = 'mangled-keys-seed-Kq7Pw2mZ'
const MALLORY = asNodeId('12D3KooWMalloryMalloryMallory')

/** One record of each kind holding a mangled key, as a peer's JSON text would carry it. */
function mangledRecords (key: '__proto__' | '__proto_'): MemoryRecord[] {
  const value = JSON.parse(`{"ok": 1, "${key}": {"polluted": true}}`) as Json
  const hlc = { wall: Date.now(), counter: 0, node: MALLORY }
  return [
    { kind: 'note', key: `mangled:note-${key}`, value, hlc, deleted: false },
    { kind: 'episode', id: `mangled:episode-${key}`, data: { summary: 'x', meta: value } as never, hlc },
    makeTrace(`mangled:run-${key}`, 'step', value, hlc),
    makeTriple({ subject: `mangled:s-${key}`, predicate: 'p', object: { kind: 'json', value } }, hlc)
  ]
}

/** A polled peer that answers every delta request with `records`, signed with the seed (the nodes' one secret). */
async function pollutingPeer (records: readonly MemoryRecord[]): Promise<{ url: string, calls: () => number, close (): Promise<void> }> {
  const key = deriveRestKeys({ seed: SEED })!
  let calls = 0
  const server: Server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      calls++
      const nonce = String(req.headers[AUTH_HEADERS.nonce] ?? '')
      const answer = JSON.stringify({
        nodeId: MALLORY, feedId: 'b'.repeat(32), syncedAt: new Date().toISOString(), cursor: records.length, hasMore: false,
        records: records.map(recordToPlain), snapshot: false, peerCursor: 0, peerNamespaces: null
      })
      res.writeHead(200, { 'content-type': 'application/json', [AUTH_HEADERS.node]: MALLORY, [AUTH_HEADERS.sig]: signResponse(key, MALLORY, 200, nonce, answer) })
      res.end(answer)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    close: async () => { server.closeAllConnections(); await new Promise<void>(resolve => server.close(() => resolve())) }
  }
}

describe('keys the codecs mangle, against real daemons', () => {
  let box: Sandbox
  let victim: Node
  let honest: Node
  let victimP2p: number
  const transports: QuicTransport[] = []

  before(async () => {
    box = sandbox()
    const [pv, ph] = await freePorts(2)
    victimP2p = pv!
    // The seed is the one secret (no passphrase), and the attacker holds it.
    ;[victim, honest] = await Promise.all([
      startNode(box, 'victim', { config: { sync: { passphrase: null }, p2p: { enabled: true, seed: SEED, port: pv, manualPeers: [`127.0.0.1:${ph!}`], gossipIntervalMs: 300 } } }),
      startNode(box, 'honest', { config: { sync: { passphrase: null }, p2p: { enabled: true, seed: SEED, port: ph, gossipIntervalMs: 300 } } })
    ])
  })

  after(async () => {
    await Promise.allSettled(transports.map(t => t.stop()))
    await Promise.allSettled([victim?.kill(), honest?.kill()])
    box?.remove()
  })

  const mangledCount = async (n: Node): Promise<number> =>
    (await n.client.request<{ total: number }>('POST', '/api/v1/query', { body: { namespace: 'mangled' } })).total +
    (await n.client.listNotes({ prefix: 'mangled:' })).total

  it('the local API refuses them in every record kind', async () => {
    for (const key of ['__proto__', '__proto_']) {
      const json = `{"ok": 1, "${key}": {"polluted": true}}`
      for (const [method, path, body] of [
        ['PUT', '/api/v1/notes/mangled:local', `{"value": ${json}}`],
        ['POST', '/api/v1/episodes', `{"id": "mangled:local", "data": {"meta": ${json}}}`],
        ['POST', '/api/v1/traces', `{"runId": "mangled:local", "type": "t", "data": ${json}}`],
        ['POST', '/api/v1/triples', `{"subject": "mangled:local", "predicate": "p", "object": {"json": ${json}}}`]
      ] as const) {
        const res = await fetch(victim.url + path, { method, headers: { 'content-type': 'application/json' }, body })
        const answer = await res.json() as { code: string, error: string }
        assert.equal(res.status, 400, `${method} ${path}: ${JSON.stringify(answer)}`)
        assert.equal(answer.code, 'INVALID_INPUT')
        assert.match(answer.error, new RegExp(`^[a-z.]+\\.${key}: the object key "${key}" is not allowed`))
      }
    }
    assert.equal(await mangledCount(victim), 0)
  })

  it('polled sync: a signed page holding them is refused whole, nothing written', async () => {
    const peer = await pollutingPeer([...mangledRecords('__proto__'), ...mangledRecords('__proto_')])
    try {
      await victim.client.pairPeer('mallory', peer.url)
      const r = await victim.client.syncNow('mallory')
      assert.equal(r.results[0]?.ok, false, JSON.stringify(r.results))
      assert.match(r.results[0]?.error ?? '', /__proto_/, r.results[0]?.error)
      assert.ok(peer.calls() > 0)
      assert.equal(await mangledCount(victim), 0)
    } finally {
      await victim.client.unpairPeer('mallory')
      await peer.close()
    }
  })

  it('native sync: a page holding them is refused, the session closed, nothing written; the honest peer stays identical', async () => {
    const t = await QuicTransport.create({ host: '127.0.0.1', port: 0, handshakeTimeoutMs: 3_000, closeTimeoutMs: 300 })
    await t.start()
    transports.push(t)
    const victimId = (await victim.client.request<{ node_id: string }>('GET', '/api/v1/p2p/status')).node_id
    for (const key of ['__proto__', '__proto_'] as const) {
      const m = await attack(t, `/ip4/127.0.0.1/udp/${victimP2p}/quic-v1/p2p/${victimId}`, victimId)
      await m.handshake(SEED)
      await m.send({ t: 'changes', from: 0, to: 4, records: mangledRecords(key), more: false })
      const info = await m.closed
      assert.match(info.reason ?? '', /not allowed|__proto/, info.reason)
    }
    assert.equal(await mangledCount(victim), 0)
    // Honest traffic both ways meanwhile, then the two stores compared record by record.
    await victim.client.setNote('shared:from-victim', { ok: true })
    await honest.client.setNote('shared:from-honest', { ok: true })
    await until(async () => (await honest.client.listNotes({ prefix: 'shared:' })).total === 2 && (await victim.client.listNotes({ prefix: 'shared:' })).total === 2,
      () => 'both notes on both nodes', 30_000)
    await victim.stop()
    await honest.stop()
    const [dv, dh] = [dumpFile(victim.dataDir), dumpFile(honest.dataDir)]
    assert.deepEqual(dv, dh, 'the victim and its honest peer hold identical stores')
    assert.ok(!dv.some(r => r.includes('__proto')))
  })
})
