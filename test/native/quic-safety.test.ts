/**
 * Multi-process, over real QUIC on loopback: what must never happen.
 * - a node with a wrong seed receives nothing and injects nothing;
 * - a replayed handshake is refused;
 * - a node offline past the tombstone TTL resurrects nothing when it returns, and the tombstones
 *   it missed wait for it (Rule B) and are collected once it knows them.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { deriveHandshakeKey, derivePassphraseKey, runHandshake, type HandshakeChannel } from '../../src/protocol/native/handshake.ts'
import { decodeFrame, encodeMessage, type NativeMessage } from '../../src/protocol/native/messages.ts'
import { QuicTransport } from '../../src/transport/libp2p/QuicTransport.ts'
import { daemonsFixture, SEED, freePorts, looksConverged, startMesh, startP2pNode, stopAndCompare, until, type P2pNode } from './daemons.ts'
import { Inbox } from '../../src/sync/native/Inbox.ts'
import { PASSPHRASE } from '../sync/daemons.ts'

const { box, live } = daemonsFixture()

type Api = P2pNode['client']
const post = (c: Api, path: string, body: unknown): Promise<unknown> => c.request('POST', path, { body })

describe('native sync over QUIC: refusals', () => {
  it('a node with another seed receives nothing and injects nothing', async () => {
    const ports = await freePorts(3)
    const addr = (i: number): string => `127.0.0.1:${ports[i]}`
    const [a, b, m] = await Promise.all([
      startP2pNode(box(), 'ws-a', { p2pPort: ports[0], peers: [addr(1), addr(2)] }),
      startP2pNode(box(), 'ws-b', { p2pPort: ports[1], peers: [addr(0)] }),
      startP2pNode(box(), 'ws-m', { p2pPort: ports[2], peers: [addr(0), addr(1)], seed: 'not-the-right-seed' })
    ]) as [P2pNode, P2pNode, P2pNode]
    for (const n of [a, b, m]) live.add(n)
    await a.client.addTriple('user:a', 'rel:secret', 'only for the right seed')
    await m.client.addTriple('user:mallory', 'rel:injected', 'must not spread')
    await m.client.setNote('note:mallory', 'must not spread')
    await until(async () => (await b.client.queryTriples({ subject: 'user:a' })).total === 1, () => 'a\'s triple on b', 20_000)
    // m keeps trying; a and b keep refusing it
    // each daemon's log reaches this process through its own pipe: all three are waited for
    await until(async () => a.daemon.stderr().includes(`refused P2P peer ${m.nodeId}`) && b.daemon.stderr().includes(`refused P2P peer ${m.nodeId}`) && /auth failed/.test(m.daemon.stderr()),
      () => `refusals logged:\n${a.daemon.stderr()}\n${b.daemon.stderr()}\nm: ${m.daemon.stderr()}`, 20_000)
    const ms = await m.p2p()
    assert.equal(ms.peer_count, 0)
    assert.equal((await m.client.queryTriples({ subject: 'user:a' })).total, 0, 'm received nothing')
    for (const n of [a, b]) {
      assert.equal((await n.client.queryTriples({ subject: 'user:mallory' })).total, 0, `${n.name} accepted nothing from m`)
      assert.equal((await n.client.listNotes({ prefix: 'note:' })).total, 0)
    }
    assert.ok((await a.p2p()).sync_stats.total_failed_syncs > 0)
    for (const n of [a, b, m]) { live.delete(n); await n.stop() }
  })

  it('refuses a replayed handshake', async () => {
    const a = await startP2pNode(box(), 'rp-a')
    live.add(a)
    await a.client.addTriple('user:a', 'rel:secret', 'x')
    // an in-process node that holds the seed (and the daemons' passphrase) completes a handshake, recording what it sends
    const t = await QuicTransport.create({ host: '127.0.0.1', port: 0, handshakeTimeoutMs: 2000, closeTimeoutMs: 500 })
    await t.start()
    try {
      const target = `127.0.0.1:${a.p2pPort}`
      const open = async (): Promise<{ ch: HandshakeChannel, got: NativeMessage[], conn: Awaited<ReturnType<QuicTransport['dial']>>, sent: Uint8Array[] }> => {
        const conn = await t.dial(target)
        const inbox = new Inbox<NativeMessage>()
        const got: NativeMessage[] = []
        const sent: Uint8Array[] = []
        conn.onFrame(f => { const m = decodeFrame(f); got.push(m); inbox.push(m) })
        return { conn, got, sent, ch: { send: async m => { const f = encodeMessage(m); sent.push(f); await conn.send(f) }, next: ms => inbox.next(ms) } }
      }
      const first = await open()
      await runHandshake(first.ch, {
        key: deriveHandshakeKey(SEED), passphraseKey: derivePassphraseKey(PASSPHRASE), secrets: { seed: SEED, passphrase: PASSPHRASE },
        self: t.nodeId, peer: asNodeId(a.nodeId), feed: 'e'.repeat(32), sessionId: first.conn.id, initiator: true, timeoutMs: 3000
      })
      await first.conn.close('recorded')
      await until(async () => (await a.p2p()).peer_count === 0, () => 'the first session closed', 10_000)
      // the same frames again, in a new session: a's nonce is new, so the recorded confirmation fails
      const second = await open()
      for (const f of first.sent) await second.conn.send(f)
      const info = await second.conn.closed
      assert.equal(info.reason, 'auth failed')
      assert.ok(second.got.every(g => g.t === 'hello' || g.t === 'pake'), `only hello and a share were sent: ${second.got.map(g => g.t).join(',')}`)
      await until(async () => a.daemon.stderr().includes(`refused P2P peer ${t.nodeId}`), () => a.daemon.stderr(), 10_000)
    } finally {
      await t.stop()
      live.delete(a)
      await a.stop()
    }
  })
})

describe('native sync over QUIC: deletes that stay deleted', () => {
  // docs/SYNC.md, "Deletes that stay deleted": a tombstone older than the TTL is collected only once
  // every member's knowledge is past it (Rule B). A member offline past the TTL, and not yet declared
  // gone (sync.memberGoneDays), holds the tombstones back; when it returns it receives the deletes
  // as any peer does, and once its knowledge covers them every node collects them.
  // (Members declared gone, and records that reached a node only by relay: test/chaos/ttl.test.ts.)
  it('a node offline past the TTL resurrects nothing; the tombstones wait for it and are collected once it knows them', async () => {
    const ttlMs = 2000
    const sync = { tombstoneTtlHours: ttlMs / 3_600_000 }
    const nodes = await startMesh(box(), ['ttl-a', 'ttl-b', 'ttl-c'], { sync })
    for (const n of nodes) live.add(n)
    const [a, b] = nodes as [P2pNode, P2pNode, P2pNode]
    let c = nodes[2]!
    await post(a.client, '/api/v1/triples', { triples: [{ subject: 'user:doomed', predicate: 'rel:p', object: 'x' }, { subject: 'user:kept', predicate: 'rel:p', object: 'y' }] })
    await c.client.setNote('note:doomed', 'written on c')
    // a page and the cursor it moves are saved in one transaction: what a node holds, its cursor covers
    await until(async () => (await Promise.all(nodes.map(n => n.stats()))).every(s => s.triples === 2 && s.notes === 1), () => 'everything everywhere', 60_000)
    live.delete(c)
    await c.stop()

    // while c is away: deletes on a and b, which reach each other
    await a.client.deleteTriples({ subject: 'user:doomed' })
    await b.client.deleteNote('note:doomed')
    const deletedAt = Date.now()
    const tombstonesOnAB = async (): Promise<Array<Record<string, number>>> => await Promise.all([a, b].map(n => n.stats()))
    await until(async () => (await tombstonesOnAB()).every(s => s.triples === 1 && s.notes === 0 && s.tripleTombstones === 1 && s.noteTombstones === 1),
      async () => `the deletes on a and b: ${JSON.stringify(await tombstonesOnAB())}`, 60_000)
    // the tombstones outlive the TTL (collection runs every TTL / 4) and stay: c's knowledge is not past them
    const keeping = new RegExp(`keeping tombstones past the TTL until [^\n]*${c.nodeId}`)
    await until(async () => Date.now() > deletedAt + 2 * ttlMs && [a, b].every(n => keeping.test(n.daemon.stderr())),
      () => `a and b say they keep tombstones for c:\n${a.daemon.stderr()}\n${b.daemon.stderr()}`, 60_000)
    for (const s of await tombstonesOnAB()) {
      assert.deepEqual([s.tripleTombstones, s.noteTombstones], [1, 1], `tombstones kept past the TTL while c is away: ${JSON.stringify(s)}`)
    }

    // c returns with its old copies
    c = await startP2pNode(box(), 'ttl-c', { p2pPort: c.p2pPort, peers: [a, b].map(n => `127.0.0.1:${n.p2pPort}`), sync })
    live.add(c)
    // until c has the deletes, nothing comes back on a or b at any point
    await until(async () => {
      for (const n of [a, b]) {
        assert.equal((await n.client.queryTriples({ subject: 'user:doomed' })).total, 0, `resurrected on ${n.name}`)
        assert.equal((await n.client.listNotes({ prefix: 'note:' })).total, 0, `note resurrected on ${n.name}`)
      }
      const s = await c.stats()
      return s.triples === 1 && s.notes === 0
    }, async () => `c has the deletes: ${JSON.stringify(await c.stats())}`, 60_000)
    // once c's knowledge is past the tombstones (its vector reaches a and b, theirs reach c), every node collects them
    let seen = ''
    await until(async () => {
      for (const n of [a, b, c]) {
        assert.equal((await n.client.queryTriples({ subject: 'user:doomed' })).total, 0, `resurrected on ${n.name}`)
        assert.equal((await n.client.listNotes({ prefix: 'note:' })).total, 0, `note resurrected on ${n.name}`)
      }
      const r = await looksConverged([a, b, c])
      const stats = await Promise.all([a, b, c].map(n => n.stats()))
      seen = r.detail
      return r.ok && stats.every(s => s.tripleTombstones === 0 && s.noteTombstones === 0)
    }, () => `converged, every tombstone collected: ${seen}`, 60_000)
    for (const n of [a, b, c]) live.delete(n)
    // live records identical everywhere, and no tombstone left to compare
    const dump = await stopAndCompare([a, b, c])
    assert.ok(!dump.some(r => r.includes('doomed')), `nothing of the deleted records is left: ${dump.filter(r => r.includes('doomed')).join('\n')}`)
    assert.ok(dump.some(r => r.includes('user:kept') && r.includes('"deleted":false')))
  })
})
