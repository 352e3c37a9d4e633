import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { afterEach, describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import {
  commonVersion, computeProof, deriveHandshakeKey, roleOf, runHandshake, transcript, verifyProof, type HandshakeChannel
} from '../../src/protocol/native/handshake.ts'
import { Inbox } from '../../src/sync/native/Inbox.ts'
import { decodeFrame, encodeMessage, type NativeMessage } from '../../src/protocol/native/messages.ts'
import { MemoryNetwork, type MemoryTransport } from '../../src/transport/memory/MemoryTransport.ts'
import type { Connection } from '../../src/transport/Transport.ts'
import { eventually, simNode, type SimNode } from './helpers.ts'

/** A handshake that should complete is given a deadline no loaded machine reaches (only the timeout test shortens it). */
const HANDSHAKE_MS = 30_000
/** A side whose peer never answers again: it times out after this. */
const WAITED_OUT_MS = 1_000

const A = asNodeId('node-a')
const B = asNodeId('node-b')
const FEED_A = 'a'.repeat(32)
const FEED_B = 'b'.repeat(32)

const started: Array<{ stop (): Promise<void> }> = []
afterEach(async () => { await Promise.all(started.splice(0).map(s => s.stop())) })

/** Two in-process handshake channels joined back to back. */
function channelPair (): [HandshakeChannel, HandshakeChannel] {
  const ia = new Inbox<NativeMessage>()
  const ib = new Inbox<NativeMessage>()
  // through the codec, as on the wire
  const wire = (to: Inbox<NativeMessage>) => async (m: NativeMessage): Promise<void> => { to.push(decodeFrame(encodeMessage(m))) }
  return [{ send: wire(ib), next: ms => ia.next(ms) }, { send: wire(ia), next: ms => ib.next(ms) }]
}

describe('seed handshake: pure parts', () => {
  it('derives the same transcript on both ends, and role-specific proofs', async () => {
    const na = randomBytes(32)
    const nb = randomBytes(32)
    const ta = transcript({ self: A, peer: B, selfNonce: na, peerNonce: nb, selfFeed: FEED_A, peerFeed: FEED_B })
    const tb = transcript({ self: B, peer: A, selfNonce: nb, peerNonce: na, selfFeed: FEED_B, peerFeed: FEED_A })
    assert.deepEqual(ta, tb)
    assert.equal(roleOf(A, B), 'lo')
    assert.equal(roleOf(B, A), 'hi')
    const k = deriveHandshakeKey('s3cret')
    assert.equal(k.byteLength, 32)
    assert.deepEqual(k, deriveHandshakeKey('s3cret'))
    assert.notDeepEqual(k, deriveHandshakeKey('s3cret2'))
    const lo = await computeProof(k, 'lo', ta)
    const hi = await computeProof(k, 'hi', ta)
    assert.notDeepEqual(lo, hi)
    assert.equal(await verifyProof(k, 'lo', ta, lo), true)
    assert.equal(await verifyProof(k, 'hi', ta, lo), false, 'a proof cannot be reflected')
    assert.equal(await verifyProof(deriveHandshakeKey('other'), 'lo', ta, lo), false)
    assert.throws(() => roleOf(A, A), /itself/)
  })

  it('negotiates the largest common version, or none', () => {
    assert.equal(commonVersion([1, 3], [2, 5]), 3)
    assert.equal(commonVersion([1, 1], [1, 1]), 1)
    assert.equal(commonVersion([1, 1], [2, 3]), undefined)
  })

  it('completes with the same seed and fails both ways with another (version 2)', async () => {
    const [ca, cb] = channelPair()
    const [ra, rb] = await Promise.all([
      runHandshake(ca, { key: deriveHandshakeKey('seed-1'), secrets: { seed: 'seed-1' }, self: A, peer: B, feed: FEED_A, timeoutMs: HANDSHAKE_MS }),
      runHandshake(cb, { key: deriveHandshakeKey('seed-1'), secrets: { seed: 'seed-1' }, self: B, peer: A, feed: FEED_B, timeoutMs: HANDSHAKE_MS })
    ])
    assert.equal(ra.peerFeed, FEED_B)
    assert.equal(rb.peerFeed, FEED_A)
    assert.equal(ra.version, 2)

    const [xa, xb] = channelPair()
    const results = await Promise.allSettled([
      // A is left waiting: its timeout is the outcome asserted, so a short one
      runHandshake(xa, { key: deriveHandshakeKey('seed-1'), secrets: { seed: 'seed-1' }, self: A, peer: B, feed: FEED_A, timeoutMs: WAITED_OUT_MS }),
      runHandshake(xb, { key: deriveHandshakeKey('seed-2'), secrets: { seed: 'seed-2' }, self: B, peer: A, feed: FEED_B, timeoutMs: HANDSHAKE_MS })
    ])
    // A confirms first (its id sorts first); B refuses it, and A is left without B's confirmation.
    const [fa, fb] = results as PromiseRejectedResult[]
    assert.equal(results[1]!.status, 'rejected')
    assert.match(String(fb!.reason.message), /^auth failed: the peer did not prove p2p\.seed/)
    assert.equal(fb!.reason.code, 'UNAUTHORIZED')
    assert.equal(results[0]!.status, 'rejected')
    assert.equal(fa!.reason.code, 'TIMEOUT', 'B never confirmed: A learns nothing to check a guess against')
  })

  it('speaks version 1 with an older node, and proves nothing before the older node has', async () => {
    const [ca, cb] = channelPair()
    const old = { versions: [1, 1] as [number, number], legacyProofOrder: true }
    const [ra] = await Promise.all([
      runHandshake(ca, { key: deriveHandshakeKey('seed-1'), secrets: { seed: 'seed-1' }, self: A, peer: B, feed: FEED_A, timeoutMs: HANDSHAKE_MS }),
      runHandshake(cb, { key: deriveHandshakeKey('seed-1'), self: B, peer: A, feed: FEED_B, timeoutMs: HANDSHAKE_MS, ...old })
    ])
    assert.equal(ra.version, 1)
    // The older node with another seed: its proof fails, and this node sends none.
    const sent: NativeMessage[] = []
    const [xa, xb] = channelPair()
    const watched: HandshakeChannel = { send: async m => { sent.push(m); await xa.send(m) }, next: ms => xa.next(ms) }
    const results = await Promise.allSettled([
      runHandshake(watched, { key: deriveHandshakeKey('seed-1'), secrets: { seed: 'seed-1' }, self: A, peer: B, feed: FEED_A, timeoutMs: HANDSHAKE_MS }),
      // the older node waits for a proof that never comes: left to time out, briefly
      runHandshake(xb, { key: deriveHandshakeKey('seed-2'), self: B, peer: A, feed: FEED_B, timeoutMs: WAITED_OUT_MS, ...old })
    ])
    assert.equal(results[0]!.status, 'rejected')
    assert.match(String((results[0] as PromiseRejectedResult).reason.message), /^auth failed: the peer's proof is wrong/)
    assert.deepEqual(sent.map(m => m.t), ['hello'], 'no proof was sent')
  })

  it('tells the peer whether this node signs (hello.sg) in either version, with a node that knows nothing of it', async () => {
    const cases = [
      { name: 'version 2', a: { secrets: { seed: 'seed-1' } }, b: { secrets: { seed: 'seed-1' } }, version: 2 },
      { name: 'version 1 with an older node', a: { secrets: { seed: 'seed-1' } }, b: { versions: [1, 1] as [number, number], legacyProofOrder: true }, version: 1 }
    ]
    for (const c of cases) {
      // A signs; B is a node of a version without signatures (it sends no sg and ignores A's).
      const [ca, cb] = channelPair()
      const heard: NativeMessage[] = []
      const listening: HandshakeChannel = { send: ca.send, next: async ms => { const m = await ca.next(ms); heard.push(m); return m } }
      const [ra, rb] = await Promise.all([
        runHandshake(listening, { key: deriveHandshakeKey('seed-1'), self: A, peer: B, feed: FEED_A, timeoutMs: HANDSHAKE_MS, signs: true, ...c.a }),
        runHandshake(cb, { key: deriveHandshakeKey('seed-1'), self: B, peer: A, feed: FEED_B, timeoutMs: HANDSHAKE_MS, ...c.b })
      ])
      assert.deepEqual([ra.version, rb.version], [c.version, c.version], c.name)
      assert.deepEqual([ra.peerSigns, rb.peerSigns], [false, true], `${c.name}: only B hears that A signs`)
      assert.equal((heard.find(m => m.t === 'hello') as { sg?: boolean }).sg, undefined, `${c.name}: B said nothing of signing`)
    }
  })

  it('tells the peer the version of coded rounds it speaks (hello.rc); a node that lists none is heard as 0', async () => {
    for (const [codedA, codedB] of [[1, 1], [1, undefined], [3, 1]] as const) {
      const [ca, cb] = channelPair()
      const [ra, rb] = await Promise.all([
        runHandshake(ca, { key: deriveHandshakeKey('seed-1'), secrets: { seed: 'seed-1' }, self: A, peer: B, feed: FEED_A, timeoutMs: HANDSHAKE_MS, coded: codedA }),
        runHandshake(cb, { key: deriveHandshakeKey('seed-1'), secrets: { seed: 'seed-1' }, self: B, peer: A, feed: FEED_B, timeoutMs: HANDSHAKE_MS, ...(codedB !== undefined ? { coded: codedB } : {}) })
      ])
      assert.deepEqual([ra.peerCoded, rb.peerCoded], [codedB ?? 0, codedA])
    }
  })

  it('times out a silent peer, per step', async () => {
    const [ca] = channelPair()
    await assert.rejects(runHandshake(ca, { key: deriveHandshakeKey('s'), self: A, peer: B, feed: FEED_A, timeoutMs: 50 }), { code: 'TIMEOUT' })
  })
})

/** A raw endpoint on the memory network that speaks frames by hand. */
async function rawPeer (net: MemoryNetwork, id: string): Promise<{ t: MemoryTransport, dial (to: string): Promise<{ conn: Connection, got: NativeMessage[] }> }> {
  const t = net.createTransport(id)
  await t.start()
  started.push(t)
  return {
    t,
    async dial (to) {
      const conn = await t.dial(to)
      const got: NativeMessage[] = []
      conn.onFrame(f => { got.push(decodeFrame(f)) })
      return { conn, got }
    }
  }
}

async function node (net: MemoryNetwork, name: string, seed = 'test-seed'): Promise<SimNode> {
  const n = simNode(net, name, { seed, logLevel: 'warn' })
  await n.sync.start()
  started.push(n.sync)
  return n
}

describe('seed handshake over sessions', () => {
  it('a node with another seed receives nothing and injects nothing, and both logs say why', async () => {
    const net = new MemoryNetwork()
    const a = await node(net, 'node-a', 'seed-one')
    const b = await node(net, 'node-b', 'seed-two')
    a.engine.addTriples([{ subject: 'user:a', predicate: 'p:q', object: { kind: 'string', value: 'secret' } }])
    b.engine.addTriples([{ subject: 'user:b', predicate: 'p:q', object: { kind: 'string', value: 'injected' } }])
    b.sync.addPeer('mem:node-a')
    await eventually(() => a.logs.some(l => l.includes('auth failed')) && b.logs.some(l => /auth failed/.test(l)), () => `auth failures logged\n${a.logs.join('\n')}\n${b.logs.join('\n')}`)
    assert.ok(a.logs.some(l => l.includes('refused P2P peer node-b')), a.logs.join('\n'))
    assert.equal(a.store.stats().triples, 1)
    assert.equal(b.store.stats().triples, 1)
    assert.equal(a.sync.connectedPeers().length, 0)
  })

  it('sends no data before the proof, and accepts none', async () => {
    const net = new MemoryNetwork()
    const a = await node(net, 'node-a')
    a.engine.addTriples([{ subject: 'user:a', predicate: 'p:q', object: { kind: 'string', value: 'secret' } }])
    const m = await rawPeer(net, 'mallory')
    const { conn, got } = await m.dial('mem:node-a')
    // a page straight away, with a hello but no proof
    await conn.send(encodeMessage({ t: 'hello', v: [1, 1], nonce: randomBytes(32), feed: 'c'.repeat(32) }))
    await conn.send(encodeMessage({
      t: 'changes', from: 0, to: 1, more: false,
      records: [{ kind: 'note', key: 'evil', value: 1, hlc: { wall: Date.now(), counter: 0, node: asNodeId('mallory') }, deleted: false }]
    }))
    const closed = await conn.closed
    assert.match(closed.reason ?? '', /protocol error: "changes" is not expected now \(expected hello or proof or pake or confirm\)/)
    assert.deepEqual(got.map(g => g.t).filter(t => t !== 'hello' && t !== 'proof'), [])
    assert.equal(a.store.getNote('evil'), undefined)
  })

  it('refuses a replayed handshake', async () => {
    const net = new MemoryNetwork()
    const a = await node(net, 'node-a')
    a.engine.addTriples([{ subject: 'user:a', predicate: 'p:q', object: { kind: 'string', value: 'secret' } }])
    // node-b holds the seed and completes a handshake; its frames are recorded
    const b = await rawPeer(net, 'node-b')
    const first = await b.dial('mem:node-a')
    const recorded: Uint8Array[] = []
    const ch: HandshakeChannel = {
      send: async m => { const f = encodeMessage(m); recorded.push(f); await first.conn.send(f) },
      next: async ms => { await eventually(() => first.got.length > 0, 'a frame', ms); return first.got.shift()! }
    }
    await runHandshake(ch, { key: deriveHandshakeKey('test-seed'), secrets: { seed: 'test-seed' }, self: asNodeId('node-b'), peer: A, feed: FEED_B,
      sessionId: first.conn.id, initiator: true, timeoutMs: HANDSHAKE_MS })
    await first.conn.close('done')
    await eventually(() => a.sync.connectedPeers().length === 0, 'the first session closed on a')
    // the recorded hello, share and confirmation, replayed in a new session: a's nonce is fresh, nothing fits
    const second = await b.dial('mem:node-a')
    for (const f of recorded) await second.conn.send(f)
    const info = await second.conn.closed
    assert.equal(info.reason, 'auth failed')
    assert.ok(second.got.every(g => g.t === 'hello' || g.t === 'pake'), 'nothing but hello and a share was sent: no confirmation')
    assert.ok(a.logs.some(l => l.includes('refused P2P peer node-b')), a.logs.join('\n'))
  })

  it('refuses a reflected hello', async () => {
    const net = new MemoryNetwork()
    const a = await node(net, 'node-a')
    const m = await rawPeer(net, 'mallory')
    const { conn, got } = await m.dial('mem:node-a')
    await eventually(() => got.length >= 1, 'a\'s hello')
    assert.equal(got[0]!.t, 'hello')
    await conn.send(encodeMessage(got[0]!)) // a's own nonce and feed, sent back
    const info = await conn.closed
    assert.equal(info.reason, 'auth failed')
    assert.ok(got.every(g => g.t === 'hello'), 'a sent no proof for its own nonce')
    assert.equal(a.sync.connectedPeers().length, 0)
  })

  it('gives a peer speaking version 1 no proof before it proved the seed (nothing to reflect or to guess against)', async () => {
    const net = new MemoryNetwork()
    const a = await node(net, 'node-a')
    const m = await rawPeer(net, 'mallory')
    const { conn, got } = await m.dial('mem:node-a')
    await conn.send(encodeMessage({ t: 'hello', v: [1, 1], nonce: randomBytes(32), feed: 'c'.repeat(32) }))
    const info = await conn.closed
    assert.match(info.reason ?? '', /timed out|auth failed|timeout/i)
    assert.deepEqual(got.map(g => g.t), ['hello'], 'a sent no proof')
    assert.equal(a.sync.connectedPeers().length, 0)
  })
})
