import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import dgram from 'node:dgram'
import { describe, it } from 'node:test'
import { quic } from '@chainsafe/libp2p-quic'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PrivateKey, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import {
  FrameDecoder, KIND_ACCEPT, KIND_CLOSE, encodeHello, decodeReason, type WireMessage
} from '../../src/transport/libp2p/framing.ts'
import { QuicTransport, type QuicTransportOptions } from '../../src/transport/libp2p/QuicTransport.ts'
import { ENGRAM_PROTOCOL, type Connection } from '../../src/transport/Transport.ts'
import { Probe, runTransportTests, seqFrame, seqOf, waitFor, within } from './conformance.ts'
import { libp2pHarness } from './libp2p-harness.ts'

runTransportTests('QUIC (libp2p) on 127.0.0.1', () => libp2pHarness('quic'))

/**
 * A started transport on 127.0.0.1. Its handshakes must complete, so their deadline is one no
 * loaded machine reaches (eight at once on two busy cores took over a second); the tests whose
 * outcome is a timed-out handshake set a short one themselves.
 */
async function node (opts: Partial<QuicTransportOptions> = {}): Promise<{ t: QuicTransport, p: Probe }> {
  const t = await QuicTransport.create({ host: '127.0.0.1', port: 0, handshakeTimeoutMs: 15_000, closeTimeoutMs: 1000, ...opts })
  const p = new Probe(t)
  await t.start()
  return { t, p }
}

function portOf (t: QuicTransport, family: 'ip4' | 'ip6' = 'ip4'): number {
  const a = t.listenAddrs().find(x => x.startsWith(`/${family}/`) && x.includes('/udp/'))
  if (a === undefined) throw new Error(`no ${family} QUIC address in ${t.listenAddrs().join(', ')}`)
  return Number(multiaddr(a).getComponents().find(c => c.name === 'udp')?.value)
}

async function ipv6LoopbackUsable (): Promise<string | undefined> {
  return new Promise(resolve => {
    const s = dgram.createSocket('udp6')
    s.once('error', (e) => { resolve(`cannot bind UDP on [::1]: ${e.message}`) })
    s.bind(0, '::1', () => { s.close(); resolve(undefined) })
  })
}

/** A bare libp2p node that speaks the engram stream by hand, to act as a misbehaving peer. */
async function rawPeer (privateKey?: PrivateKey): Promise<Libp2p> {
  return createLibp2p({
    ...(privateKey !== undefined ? { privateKey } : {}),
    addresses: { listen: ['/ip4/127.0.0.1/udp/0/quic-v1'] },
    transports: [quic()],
    connectionMonitor: { enabled: false }
  })
}

function readMessages (stream: Stream): WireMessage[] {
  const got: WireMessage[] = []
  const dec = new FrameDecoder(1 << 20)
  stream.addEventListener('message', (evt) => {
    const chunks = evt.data instanceof Uint8Array ? [evt.data] : [...evt.data]
    for (const c of chunks) dec.push(c, m => got.push(m))
  })
  return got
}

describe('QuicTransport', () => {
  it('dials host:port on the QUIC UDP port', async () => {
    const { t: a } = await node()
    const { t: b, p: pb } = await node()
    try {
      const conn = await within(a.dial(`127.0.0.1:${portOf(b)}`), 'dial host:port')
      assert.equal(conn.remoteNode, b.nodeId)
      assert.match(conn.remoteAddr, /\/udp\/\d+\/quic-v1/)
      await conn.send(seqFrame(1))
      const inbound = await pb.the(a.nodeId)
      await waitFor(() => pb.framesOf(inbound).length === 1, 'frame')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('resolves host names in host:port', async () => {
    const { t: a } = await node()
    const { t: b } = await node()
    try {
      const conn = await within(a.dial(`localhost:${portOf(b)}`, { timeoutMs: 5000 }), 'dial localhost:port')
      assert.equal(conn.remoteNode, b.nodeId)
      const { t: c } = await node()
      try {
        const viaDns = await within(c.dial(`/dns4/localhost/udp/${portOf(b)}/quic-v1`, { timeoutMs: 5000 }), 'dial /dns4/ multiaddr')
        assert.equal(viaDns.remoteNode, b.nodeId)
      } finally {
        await c.stop()
      }
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('works over IPv6 loopback: listens on [::1] and dials [::1]:port', async (ctx) => {
    const why = await ipv6LoopbackUsable()
    if (why !== undefined) {
      console.log(`skipping the IPv6 loopback test: ${why}`)
      ctx.skip(why)
      return
    }
    const { t: a } = await node({ host: '::1' })
    const { t: b, p: pb } = await node({ host: ['127.0.0.1', '::1'] })
    try {
      assert.ok(b.listenAddrs().some(x => x.startsWith('/ip6/::1/udp/')), `listens on ::1: ${b.listenAddrs().join(', ')}`)
      const conn = await within(a.dial(`[::1]:${portOf(b, 'ip6')}`), 'dial [::1]:port')
      assert.equal(conn.remoteNode, b.nodeId)
      assert.match(conn.remoteAddr, /^\/ip6\/::1\//)
      await conn.send(seqFrame(3))
      const inbound = await pb.the(a.nodeId)
      await waitFor(() => pb.framesOf(inbound).length === 1, 'frame over IPv6')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('keeps the node id of the key it is given, and the peer sees that id', async () => {
    const key = await generateKeyPair('Ed25519')
    const first = new QuicTransport({ privateKey: key, host: '127.0.0.1' })
    const second = new QuicTransport({ privateKey: key, host: '127.0.0.1' })
    assert.equal(first.nodeId, second.nodeId)
    const { t: b } = await node()
    await second.start()
    try {
      const conn = await within(b.dial(second.listenAddrs()[0] as string), 'dial')
      assert.equal(conn.remoteNode, first.nodeId)
    } finally {
      await Promise.all([b.stop(), second.stop(), first.stop()])
    }
  })

  it('refuses a dial to a multiaddr whose /p2p/ id is not the node answering there', async () => {
    const { t: a } = await node()
    const { t: b } = await node()
    const { t: c } = await node()
    try {
      const lie = b.listenAddrs()[0]?.replace(b.nodeId, c.nodeId) as string
      await assert.rejects(within(a.dial(lie, { timeoutMs: 3000 }), 'dial'), (e: Error & { code?: string }) => ['UNAVAILABLE', 'TIMEOUT'].includes(e.code ?? ''))
      assert.equal(a.connections().length, 0)
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()])
    }
  })

  it('settles simultaneous dials by the documented rule: the smaller initiator id survives', async () => {
    let contested = 0
    for (let round = 0; round < 10; round++) {
      let refusedDuplicate = false
      const log = (_m: string, d?: Record<string, unknown>): void => { if (d?.reason === 'duplicate') refusedDuplicate = true }
      const { t: a } = await node({ log })
      const { t: b } = await node({ log })
      try {
        const [ca, cb] = await within(Promise.all([a.dial(b.listenAddrs()[0] as string), b.dial(a.listenAddrs()[0] as string)]), 'dials')
        assert.equal(ca.id, cb.id)
        if (refusedDuplicate) {
          contested++
          const initiator = ca.direction === 'outbound' ? a.nodeId : b.nodeId
          assert.equal(initiator, a.nodeId < b.nodeId ? a.nodeId : b.nodeId, 'the survivor was initiated by the smaller node id')
        }
      } finally {
        await Promise.all([a.stop(), b.stop()])
      }
    }
    console.log(`simultaneous dials: ${contested} of 10 rounds had both attempts reach the other side`)
  })

  it('drops a peer that connects but never opens a session, without disturbing others', async () => {
    // the real dial below must say HELLO within this too: short enough to wait for, long enough for a loaded machine
    const { t: a, p: pa } = await node({ handshakeTimeoutMs: 3_000 })
    const raw = await rawPeer()
    const { t: b } = await node()
    try {
      await raw.dial(multiaddr(a.listenAddrs()[0] as string))
      assert.equal(raw.getConnections().length, 1)
      const conn = await within(b.dial(a.listenAddrs()[0] as string), 'dial next to an idle connection')
      await conn.send(seqFrame(0))
      await waitFor(() => raw.getConnections().length === 0, 'the idle connection closed', 5000)
      assert.equal(pa.openTo(b.nodeId).length, 1, 'the real session is untouched')
    } finally {
      await Promise.all([a.stop(), b.stop(), raw.stop()])
    }
  })

  it('closes an engram stream that never says HELLO after the handshake timeout', async () => {
    const { t: a, p: pa } = await node({ handshakeTimeoutMs: 500 })
    const raw = await rawPeer()
    try {
      const started = Date.now()
      const stream = await raw.dialProtocol(multiaddr(a.listenAddrs()[0] as string), ENGRAM_PROTOCOL)
      const got = readMessages(stream)
      await waitFor(() => stream.status !== 'open' || got.some(m => m.kind === KIND_CLOSE), 'the silent stream closed', 5000)
      assert.ok(Date.now() - started >= 400, 'not before the timeout')
      assert.equal(pa.conns.length, 0, 'never reported as a session')
    } finally {
      await Promise.all([a.stop(), raw.stop()])
    }
  })

  it('gives up on a peer that takes the stream but never answers HELLO, after the handshake timeout', async () => {
    const raw = await rawPeer()
    await raw.handle(ENGRAM_PROTOCOL, () => { /* says nothing */ })
    const { t: a, p: pa } = await node({ handshakeTimeoutMs: 600 })
    try {
      const started = Date.now()
      await assert.rejects(a.dial(raw.getMultiaddrs()[0]?.toString() as string), (e: Error & { code?: string }) => e.code === 'TIMEOUT')
      const took = Date.now() - started
      assert.ok(took >= 500, `gave up after ${took} ms, not before the handshake timeout`)
      assert.equal(pa.conns.length, 0)
    } finally {
      await Promise.all([a.stop(), raw.stop()])
    }
  })

  it('closes with a protocol error on an oversized announced length, before the body arrives', async () => {
    const { t: a, p: pa } = await node({ maxFrameBytes: 4096 })
    const raw = await rawPeer()
    try {
      const stream = await raw.dialProtocol(multiaddr(a.listenAddrs()[0] as string), ENGRAM_PROTOCOL)
      const got = readMessages(stream)
      stream.send(encodeHello(randomBytes(16)))
      await waitFor(() => got.some(m => m.kind === KIND_ACCEPT), 'ACCEPT')
      const session = await pa.the(raw.peerId.toString() as never)
      // announce a 1 GiB frame and send only the length prefix
      stream.send(Uint8Array.from([0x81, 0x80, 0x80, 0x80, 0x04]))
      const info = await within(session.closed, 'session closed')
      assert.equal(info.error?.code, 'PROTOCOL')
      assert.match(info.reason ?? '', /over the limit of 4096 bytes/)
      await waitFor(() => got.some(m => m.kind === KIND_CLOSE), 'CLOSE sent to the peer')
      const close = got.find(m => m.kind === KIND_CLOSE) as WireMessage
      assert.match(decodeReason(close.body), /protocol error/)
    } finally {
      await Promise.all([a.stop(), raw.stop()])
    }
  })

  it('replaces a session when the peer starts a new one (it no longer holds the old)', async () => {
    const { t: a, p: pa } = await node()
    const raw = await rawPeer()
    try {
      const target = multiaddr(a.listenAddrs()[0] as string)
      const s1 = await raw.dialProtocol(target, ENGRAM_PROTOCOL)
      const got1 = readMessages(s1)
      s1.send(encodeHello(randomBytes(16)))
      await waitFor(() => got1.some(m => m.kind === KIND_ACCEPT), 'first ACCEPT')
      const first = await pa.the(raw.peerId.toString() as never)
      const s2 = await raw.dialProtocol(target, ENGRAM_PROTOCOL)
      const got2 = readMessages(s2)
      s2.send(encodeHello(randomBytes(16)))
      await waitFor(() => got2.some(m => m.kind === KIND_ACCEPT), 'second ACCEPT')
      assert.equal((await within(first.closed, 'old session closed')).reason, 'replaced by a newer session')
      await waitFor(() => pa.openTo(raw.peerId.toString() as never).length === 1, 'one open session')
      assert.notEqual(pa.openTo(raw.peerId.toString() as never)[0], first)
      assert.equal(pa.conns.length, 2)
    } finally {
      await Promise.all([a.stop(), raw.stop()])
    }
  })

  it('serves many peers concurrently: eight nodes each send 200 frames to one', async () => {
    const { t: hub, p: ph } = await node()
    const spokes = await Promise.all(Array.from({ length: 8 }, () => node()))
    try {
      const conns = await within(Promise.all(spokes.map(s => s.t.dial(hub.listenAddrs()[0] as string))), 'eight dials')
      await within(Promise.all(conns.map(async (c: Connection) => { for (let i = 0; i < 200; i++) await c.send(seqFrame(i, 100)) })), 'sends')
      for (const s of spokes) {
        const inbound = await ph.the(s.t.nodeId)
        await waitFor(() => ph.framesOf(inbound).length === 200, `200 frames from ${s.t.nodeId}`)
        assert.deepEqual(ph.framesOf(inbound).map(seqOf), Array.from({ length: 200 }, (_, i) => i))
      }
    } finally {
      await Promise.all([hub.stop(), ...spokes.map(s => s.t.stop())])
    }
  })

  it('refuses bad options with a message naming the option', async () => {
    const key = await generateKeyPair('Ed25519')
    assert.throws(() => new QuicTransport({ privateKey: key, port: 70000 }), /port/)
    assert.throws(() => new QuicTransport({ privateKey: key, host: 'example.com' }), /host/)
    assert.throws(() => new QuicTransport({ privateKey: key, maxFrameBytes: 10 }), /maxFrameBytes/)
    assert.throws(() => new QuicTransport({ privateKey: key, transports: 'udp' as never }), /transports/)
  })

  it('stops cleanly when stop() comes while start() is still running', async () => {
    const t = await QuicTransport.create({ host: '127.0.0.1' })
    const starting = t.start()
    await t.stop()
    await assert.rejects(starting, (e: Error & { code?: string }) => e.code === 'UNAVAILABLE')
    assert.deepEqual(t.listenAddrs(), [])
    await assert.rejects(t.dial('127.0.0.1:1'), (e: Error & { code?: string }) => e.code === 'UNAVAILABLE')
  })

  it('reports a port in use clearly', async () => {
    const { t: a } = await node()
    const b = await QuicTransport.create({ host: '127.0.0.1', port: portOf(a) })
    try {
      await assert.rejects(b.start(), (e: Error & { code?: string }) => e.code === 'UNAVAILABLE' && /cannot listen/.test(e.message))
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
