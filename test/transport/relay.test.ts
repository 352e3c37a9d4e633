/**
 * Relays on loopback, real sockets: two nodes that are given only a relay find each other through
 * it and hold a session over a circuit (the path says so, and through which relay); a node with
 * another admission key is refused and gets no reservation; sessions carry frames both ways.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { QuicTransport, type QuicTransportOptions } from '../../src/transport/libp2p/QuicTransport.ts'
import { sessionPath } from '../../src/transport/path.ts'
import type { Connection } from '../../src/transport/Transport.ts'
import { Probe } from './conformance.ts'
import { eventually } from '../support/eventually.ts'

const KEY = new Uint8Array(randomBytes(32))

async function start (opts: Partial<QuicTransportOptions>): Promise<{ t: QuicTransport, p: Probe }> {
  const t = await QuicTransport.create({ host: '127.0.0.1', port: 0, transports: 'both', handshakeTimeoutMs: 2000, closeTimeoutMs: 1000, ...opts })
  const p = new Probe(t)
  await t.start()
  return { t, p }
}

function relayAddr (r: QuicTransport): string {
  const a = r.listenAddrs().find(x => x.includes('/quic-v1/'))
  assert.ok(a !== undefined)
  return a
}

async function member (r: QuicTransport, key = KEY): Promise<{ t: QuicTransport, p: Probe }> {
  // no hole punch: the session stays on the circuit (test/reach/nat.test.ts punches through NATs)
  const m = await start({ reach: { relays: [relayAddr(r)], memberKey: key, pollMs: 100, holePunch: false } })
  // dial every member the relay reports, as native sync does
  m.t.onRelayMember((_id, addr) => { void m.t.dial(addr).catch((e: unknown) => { if (process.env.DEBUG_RELAY) console.log('dial', addr, e) }) })
  return m
}

describe('relays (circuit relay v2 with admission)', () => {
  it('two members that know only the relay reach each other through it, and the path names the relay', async () => {
    const r = await start({ reach: { serve: { keys: [KEY] } } })
    const a = await member(r.t)
    const b = await member(r.t)
    try {
      await eventually(() => a.t.relays()[0]?.state === 'reserved' && b.t.relays()[0]?.state === 'reserved', 'both reservations')
      await eventually(() => a.p.conns.some(c => c.remoteNode === b.t.nodeId) && b.p.conns.some(c => c.remoteNode === a.t.nodeId), 'a relayed session')
      const ab = a.p.conns.find(c => c.remoteNode === b.t.nodeId) as Connection
      assert.deepEqual(sessionPath(ab.remoteAddr), { path: 'relayed', relay: r.t.nodeId })
      await ab.send(new TextEncoder().encode('through the relay'))
      const ba = b.p.conns.find(c => c.remoteNode === a.t.nodeId) as Connection
      await eventually(() => (b.p.frames.get(ba)?.length ?? 0) > 0, 'the frame on b')
      assert.equal(new TextDecoder().decode(b.p.frames.get(ba)?.[0]), 'through the relay')
      assert.equal(r.t.admittedCount(), 2)
    } finally {
      await Promise.all([a.t.stop(), b.t.stop()])
      await r.t.stop()
    }
  })

  it('a node with another admission key is refused and holds no reservation', async () => {
    const r = await start({ reach: { serve: { keys: [KEY] } } })
    const x = await member(r.t, new Uint8Array(randomBytes(32)))
    try {
      await eventually(() => x.t.relays()[0]?.state === 'refused', 'the refusal')
      assert.match(x.t.relays()[0]?.lastError ?? '', /admission refused/)
      assert.ok(!x.t.listenAddrs().some(a => a.includes('/p2p-circuit')), 'no relayed address')
      assert.equal(r.t.admittedCount(), 0)
    } finally {
      await x.t.stop()
      await r.t.stop()
    }
  })
})
