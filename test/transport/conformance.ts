/**
 * The conformance suite every `Transport` implementation passes. A test file calls
 * `runTransportTests(name, factory)`; the factory returns a fresh harness for each test.
 */
import { DEFAULT_DEADLINE_MS, eventually } from '../support/eventually.ts'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { isEngramError } from '../../src/core/errors.ts'
import type { NodeId } from '../../src/core/ids.ts'
import type { CloseInfo, Connection, Transport } from '../../src/transport/Transport.ts'

export interface HarnessNodeOptions {
  maxFrameBytes?: number
  dialTimeoutMs?: number
}

export interface TransportHarness {
  /** A new transport, not started. */
  create (opts?: HarnessNodeOptions): Promise<Transport>
  /** The address other nodes dial to reach `t` (started). Default: its first listen address. */
  addrOf? (t: Transport): string
  /** Something at an address that swallows every packet and never answers. */
  silentPeer (): Promise<{ addr: string, close (): Promise<void> }>
  /** An address where nothing listens (a stopped node's, say). */
  deadAddr (): Promise<string>
  /** Releases whatever the harness holds; the suite stops the transports itself. */
  close? (): Promise<void>
}

export type HarnessFactory = () => TransportHarness | Promise<TransportHarness>

const DEFAULT_WAIT_MS = DEFAULT_DEADLINE_MS

/** How long the dial to a silent peer waits in 'does not let a silent peer block anyone'. */
const SILENT_DIAL_MS = 5_000

/** Polls `cond` until it holds, failing with `what` after `timeoutMs` (test/support/eventually.ts). */
export async function waitFor (cond: () => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
  await eventually(cond, what, { ms: Math.max(timeoutMs, DEFAULT_WAIT_MS), everyMs: 2 })
}

/** Settles with the outcome of `p`, failing the test if that takes longer than `timeoutMs`. */
export async function within<T> (p: Promise<T>, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)) }, timeoutMs)
  })
  try {
    return await Promise.race([p, limit])
  } finally {
    clearTimeout(timer)
  }
}

/** Records every connection a transport reports and every frame received on it. */
export class Probe {
  readonly conns: Connection[] = []
  readonly frames = new Map<Connection, Uint8Array[]>()
  readonly closedInfo = new Map<Connection, CloseInfo>()
  readonly transport: Transport

  constructor (t: Transport) {
    this.transport = t
    t.onConnection((c) => {
      this.conns.push(c)
      const list: Uint8Array[] = []
      this.frames.set(c, list)
      c.onFrame((f) => { list.push(f) })
      void c.closed.then((info) => { this.closedInfo.set(c, info) })
    })
  }

  framesOf (c: Connection): Uint8Array[] {
    const list = this.frames.get(c)
    if (list === undefined) throw new Error(`connection ${c.id} was never reported to onConnection`)
    return list
  }

  openTo (node: NodeId): Connection[] {
    return this.conns.filter(c => c.remoteNode === node && !this.closedInfo.has(c))
  }

  /** The one open connection to `node` (waits for it). */
  async the (node: NodeId): Promise<Connection> {
    await waitFor(() => this.openTo(node).length === 1, `one open connection from ${this.transport.nodeId} to ${node}`)
    return this.openTo(node)[0] as Connection
  }
}

/** A frame carrying a sequence number and `extra` filler bytes. */
export function seqFrame (seq: number, extra = 0): Uint8Array {
  const f = new Uint8Array(4 + extra)
  new DataView(f.buffer).setUint32(0, seq)
  for (let i = 0; i < extra; i++) f[4 + i] = (seq + i) & 0xff
  return f
}

export function seqOf (f: Uint8Array): number {
  return new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(0)
}

function assertSeqFrames (frames: Uint8Array[], count: number, extraOf: (i: number) => number, what: string): void {
  assert.equal(frames.length, count, `${what}: frame count`)
  frames.forEach((f, i) => {
    assert.equal(seqOf(f), i, `${what}: frame ${i} out of order`)
    assert.equal(f.byteLength, 4 + extraOf(i), `${what}: frame ${i} length`)
    for (let j = 0; j < f.byteLength - 4; j++) {
      if (f[4 + j] !== ((i + j) & 0xff)) assert.fail(`${what}: frame ${i} corrupted at byte ${4 + j}`)
    }
  })
}

async function rejectsWith (p: Promise<unknown>, codes: string[], what: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isEngramError(err), `${what}: expected an EngramError, got ${String(err)}`)
    assert.ok(codes.includes(err.code), `${what}: expected ${codes.join('|')}, got ${err.code}: ${err.message}`)
    return true
  })
}

interface Net {
  h: TransportHarness
  nodes: Transport[]
  probes: Probe[]
  addr: (t: Transport) => string
  add: (opts?: HarnessNodeOptions) => Promise<{ t: Transport, p: Probe }>
}

async function withNet (factory: HarnessFactory, fn: (net: Net) => Promise<void>): Promise<void> {
  const h = await factory()
  const nodes: Transport[] = []
  const probes: Probe[] = []
  const addr = (t: Transport): string => {
    if (h.addrOf !== undefined) return h.addrOf(t)
    const a = t.listenAddrs()[0]
    if (a === undefined) throw new Error(`${t.nodeId} has no listen address`)
    return a
  }
  const net: Net = {
    h,
    nodes,
    probes,
    addr,
    add: async (opts) => {
      const t = await h.create(opts)
      const p = new Probe(t)
      nodes.push(t)
      probes.push(p)
      await t.start()
      return { t, p }
    }
  }
  try {
    await fn(net)
  } finally {
    await within(Promise.allSettled(nodes.map(n => n.stop())), 'stopping every node', 30_000)
    await h.close?.()
  }
}

export function runTransportTests (name: string, factory: HarnessFactory): void {
  describe(`Transport conformance: ${name}`, () => {
    it('connects, both sides report the session, and each sees the other\'s real node id', () => withNet(factory, async (net) => {
      const { t: a, p: pa } = await net.add()
      const { t: b, p: pb } = await net.add()
      assert.notEqual(a.nodeId, b.nodeId)
      assert.ok(net.addr(b).includes(b.nodeId), 'listen address names the node')
      const conn = await within(a.dial(net.addr(b)), 'dial')
      assert.equal(conn.remoteNode, b.nodeId)
      assert.equal(conn.direction, 'outbound')
      assert.equal(typeof conn.remoteAddr, 'string')
      assert.ok(conn.remoteAddr.length > 0)
      assert.deepEqual(pa.conns, [conn], 'the outbound session is reported before dial resolves')
      const inbound = await pb.the(a.nodeId)
      assert.equal(inbound.remoteNode, a.nodeId)
      assert.equal(inbound.direction, 'inbound')
      assert.equal(inbound.id, conn.id, 'both ends share the session id')
      assert.equal(pb.conns.length, 1)
      // dialling again returns the same session
      const again = await within(a.dial(net.addr(b)), 'second dial')
      assert.equal(again, conn)
      assert.equal(pa.conns.length, 1)
    }))

    it('carries frames both ways, in order', () => withNet(factory, async (net) => {
      const { t: a, p: pa } = await net.add()
      const { t: b, p: pb } = await net.add()
      const ab = await a.dial(net.addr(b))
      const ba = await pb.the(a.nodeId)
      const n = 50
      await Promise.all([
        Promise.all(Array.from({ length: n }, (_, i) => ab.send(seqFrame(i, i)))),
        Promise.all(Array.from({ length: n }, (_, i) => ba.send(seqFrame(i, i))))
      ])
      await waitFor(() => pb.framesOf(ba).length === n && pa.framesOf(ab).length === n, 'frames both ways')
      assertSeqFrames(pb.framesOf(ba), n, i => i, 'a→b')
      assertSeqFrames(pa.framesOf(ab), n, i => i, 'b→a')
    }))

    it('delivers 1,000 frames of mixed sizes (empty ones included) complete and in order, both ways at once', () => withNet(factory, async (net) => {
      const { t: a, p: pa } = await net.add()
      const { t: b, p: pb } = await net.add()
      const ab = await a.dial(net.addr(b))
      const ba = await pb.the(a.nodeId)
      const n = 1000
      const size = (i: number): number => (i * 7919) % 3000
      const empty = new Uint8Array(0)
      const sendAll = async (c: Connection): Promise<void> => {
        // pipelined: the sends are issued without waiting for each other
        await Promise.all(Array.from({ length: n }, (_, i) => c.send(seqFrame(i, size(i)))))
        await c.send(empty)
      }
      await within(Promise.all([sendAll(ab), sendAll(ba)]), 'sending 1,000 frames each way')
      await waitFor(() => pb.framesOf(ba).length === n + 1 && pa.framesOf(ab).length === n + 1, '1,001 frames each way')
      assertSeqFrames(pb.framesOf(ba).slice(0, n), n, size, 'a→b')
      assertSeqFrames(pa.framesOf(ab).slice(0, n), n, size, 'b→a')
      assert.equal(pb.framesOf(ba)[n]?.byteLength, 0)
      assert.equal(pa.framesOf(ab)[n]?.byteLength, 0)
    }))

    it('delivers a 3 MiB frame intact, in order with the frames around it', () => withNet(factory, async (net) => {
      const { t: a } = await net.add()
      const { t: b, p: pb } = await net.add()
      const ab = await a.dial(net.addr(b))
      const ba = await pb.the(a.nodeId)
      const big = randomBytes(3 * 1024 * 1024)
      await within(Promise.all([ab.send(seqFrame(0)), ab.send(big), ab.send(seqFrame(2))]), 'sending 3 MiB')
      await waitFor(() => pb.framesOf(ba).length === 3, 'three frames')
      const got = pb.framesOf(ba)
      assert.equal(seqOf(got[0] as Uint8Array), 0)
      assert.equal(Buffer.compare(Buffer.from(got[1] as Uint8Array), big), 0, '3 MiB frame intact')
      assert.equal(seqOf(got[2] as Uint8Array), 2)
    }))

    it('enforces the frame size limit: refuses to send an oversized frame, and closes a session that receives one', () => withNet(factory, async (net) => {
      const { t: a, p: pa } = await net.add({ maxFrameBytes: 64 * 1024 })
      const { t: b, p: pb } = await net.add({ maxFrameBytes: 4096 })
      const ab = await a.dial(net.addr(b))
      const ba = await pb.the(a.nodeId)
      // over the sender's own limit: refused locally, the session stays usable
      await rejectsWith(ba.send(new Uint8Array(4097)), ['LIMIT_EXCEEDED'], 'send over own limit')
      await ba.send(seqFrame(7, 4092))
      await waitFor(() => pa.framesOf(ab).length === 1, 'frame at the limit')
      assert.equal(pa.framesOf(ab)[0]?.byteLength, 4096)
      // within the sender's limit but over the receiver's: the receiver closes with PROTOCOL
      await ab.send(new Uint8Array(8192)).catch(() => {})
      const [infoB, infoA] = await within(Promise.all([ba.closed, ab.closed]), 'both ends closed')
      assert.equal(infoB.error?.code, 'PROTOCOL', `receiver closed with ${JSON.stringify(infoB)}`)
      assert.match(infoB.reason ?? '', /protocol/i)
      assert.match(infoA.reason ?? '', /protocol/i, `sender learns why: ${JSON.stringify(infoA)}`)
      assert.equal(pb.framesOf(ba).length, 0, 'the oversized frame was never delivered')
      await rejectsWith(ab.send(seqFrame(1)), ['UNAVAILABLE'], 'send after the protocol close')
    }))

    it('turns simultaneous dials into one session per pair, which both dials return', () => withNet(factory, async (net) => {
      for (let round = 0; round < 5; round++) {
        const { t: a, p: pa } = await net.add()
        const { t: b, p: pb } = await net.add()
        const [ca, cb] = await within(Promise.all([a.dial(net.addr(b)), b.dial(net.addr(a))]), `simultaneous dials, round ${round}`)
        assert.equal(ca.remoteNode, b.nodeId)
        assert.equal(cb.remoteNode, a.nodeId)
        assert.equal(ca.id, cb.id, 'both dials resolve to the same session')
        await waitFor(() => pa.openTo(b.nodeId).length === 1 && pb.openTo(a.nodeId).length === 1, 'one open session each side')
        assert.equal(pa.openTo(b.nodeId)[0], ca)
        assert.equal(pb.openTo(a.nodeId)[0], cb)
        assert.equal(pa.conns.length, 1, 'a reported exactly one session')
        assert.equal(pb.conns.length, 1, 'b reported exactly one session')
        assert.notEqual(ca.direction, cb.direction)
        await ca.send(seqFrame(1))
        await cb.send(seqFrame(2))
        await waitFor(() => pb.framesOf(cb).length === 1 && pa.framesOf(ca).length === 1, 'a frame each way')
        assert.equal(pa.closedInfo.size + pb.closedInfo.size, 0, 'nothing closed')
        await Promise.all([a.stop(), b.stop()])
      }
    }))

    it('propagates close, with its reason, to both ends', () => withNet(factory, async (net) => {
      const { t: a } = await net.add()
      const { t: b, p: pb } = await net.add()
      const { t: c, p: pc } = await net.add()
      const ab = await a.dial(net.addr(b))
      const ba = await pb.the(a.nodeId)
      await ab.send(seqFrame(0))
      await within(ab.close('bye'), 'close')
      const [ia, ib] = await within(Promise.all([ab.closed, ba.closed]), 'both ends closed')
      assert.equal(ia.reason, 'bye')
      assert.equal(ib.reason, 'bye')
      assert.equal(pb.framesOf(ba).length, 1, 'the frame sent before close was delivered')
      // closing from the accepting side works the same way
      const ac = await a.dial(net.addr(c))
      const ca = await pc.the(a.nodeId)
      await within(ca.close('see you'), 'close from the inbound side')
      assert.equal((await within(ac.closed, 'dialer sees close')).reason, 'see you')
      // close is idempotent
      await ab.close('again')
      assert.equal((await ab.closed).reason, 'bye')
    }))

    it('rejects send after close, on both ends', () => withNet(factory, async (net) => {
      const { t: a } = await net.add()
      const { t: b, p: pb } = await net.add()
      const ab = await a.dial(net.addr(b))
      const ba = await pb.the(a.nodeId)
      const closing = ab.close('done')
      await rejectsWith(ab.send(seqFrame(0)), ['UNAVAILABLE'], 'send while closing')
      await closing
      await rejectsWith(ab.send(seqFrame(0)), ['UNAVAILABLE'], 'send after close')
      await within(ba.closed, 'remote closed')
      await rejectsWith(ba.send(seqFrame(0)), ['UNAVAILABLE'], 'send on the remote end after close')
    }))

    it('allows exactly one frame handler per session', () => withNet(factory, async (net) => {
      const { t: a } = await net.add()
      const { t: b } = await net.add()
      const ab = await a.dial(net.addr(b))
      assert.throws(() => { ab.onFrame(() => {}) }, 'the probe already set a handler')
    }))

    it('buffers frames that arrive before the handler is set', () => withNet(factory, async (net) => {
      const a = await net.h.create()
      net.nodes.push(a)
      await a.start()
      const { t: b, p: pb } = await net.add()
      let inbound: Connection | undefined
      b.onConnection((c) => { inbound = c })
      const ab = await a.dial(net.addr(b))
      await waitFor(() => inbound !== undefined, 'inbound session')
      const ba = inbound as Connection
      for (let i = 0; i < 5; i++) await ba.send(seqFrame(i))
      // one round trip after those sends, they have most likely arrived, with no handler there
      await ab.send(seqFrame(99))
      await waitFor(() => pb.framesOf(ba).length === 1, 'the round trip')
      const got: Uint8Array[] = []
      ab.onFrame((f) => { got.push(f) })
      await waitFor(() => got.length === 5, 'buffered frames')
      assert.deepEqual(got.map(seqOf), [0, 1, 2, 3, 4])
    }))

    it('meshes three nodes that dial each other at once, and all exchange concurrently', () => withNet(factory, async (net) => {
      const nodes = [await net.add(), await net.add(), await net.add()]
      const dials: Array<Promise<Connection>> = []
      for (const x of nodes) for (const y of nodes) if (x !== y) dials.push(x.t.dial(net.addr(y.t)))
      await within(Promise.all(dials), 'six dials')
      for (const x of nodes) {
        for (const y of nodes) {
          if (x === y) continue
          await waitFor(() => x.p.openTo(y.t.nodeId).length === 1, `one session ${x.t.nodeId} → ${y.t.nodeId}`)
        }
        assert.equal(x.p.conns.length, 2, 'each node reported one session per peer')
      }
      const n = 300
      const sends: Array<Promise<void>> = []
      for (const x of nodes) {
        for (const c of x.p.conns) {
          sends.push((async () => { for (let i = 0; i < n; i++) await c.send(seqFrame(i, i % 64)) })())
        }
      }
      await within(Promise.all(sends), 'all sends')
      for (const x of nodes) {
        for (const c of x.p.conns) {
          await waitFor(() => x.p.framesOf(c).length === n, `${n} frames at ${x.t.nodeId} from ${c.remoteNode}`)
          assertSeqFrames(x.p.framesOf(c), n, i => i % 64, `${c.remoteNode} → ${x.t.nodeId}`)
        }
      }
    }))

    it('does not let a silent peer block anyone', () => withNet(factory, async (net) => {
      const { t: a } = await net.add()
      const { t: b, p: pb } = await net.add()
      const { t: c, p: pc } = await net.add()
      const silent = await net.h.silentPeer()
      try {
        const started = Date.now()
        let silentSettled = false
        // the silent dial must still be waiting when the others are done: its timeout leaves a
        // loaded machine ample time for two dials and 200 frames
        const silentDial = a.dial(silent.addr, { timeoutMs: SILENT_DIAL_MS })
        silentDial.then(() => { silentSettled = true }, () => { silentSettled = true })
        // meanwhile, sessions with b and c open and carry frames
        const [ab, ac] = await within(Promise.all([a.dial(net.addr(b)), a.dial(net.addr(c))]), 'dials next to a silent one')
        await Promise.all([ab, ac].map(async (conn) => { for (let i = 0; i < 100; i++) await conn.send(seqFrame(i)) }))
        const ba = await pb.the(a.nodeId)
        const ca = await pc.the(a.nodeId)
        await waitFor(() => pb.framesOf(ba).length === 100 && pc.framesOf(ca).length === 100, 'frames to b and c')
        assert.equal(silentSettled, false, 'the other sessions finished while the silent dial was still waiting')
        await rejectsWith(silentDial, ['TIMEOUT'], 'dial to a silent peer')
        // it gave up (TIMEOUT, above), and not before its timeout; how much later depends on the machine
        const took = Date.now() - started
        assert.ok(took >= SILENT_DIAL_MS - 100, `the silent dial gave up after its timeout (${took} ms)`)
      } finally {
        await silent.close()
      }
    }))

    it('fails dials clearly: bad address, own address, nobody listening', () => withNet(factory, async (net) => {
      const { t: a } = await net.add()
      await rejectsWith(a.dial('not an address'), ['INVALID_INPUT'], 'unparsable address')
      await rejectsWith(a.dial(net.addr(a)), ['INVALID_INPUT'], 'own address')
      const dead = await net.h.deadAddr()
      await rejectsWith(a.dial(dead, { timeoutMs: 2000 }), ['UNAVAILABLE', 'TIMEOUT'], 'nobody listening')
      const silent = await net.h.silentPeer()
      try {
        const aborted = new AbortController()
        const pending = a.dial(silent.addr, { signal: aborted.signal, timeoutMs: 10_000 })
        aborted.abort(new Error('caller gave up'))
        await assert.rejects(within(pending, 'aborted dial', 3000), /caller gave up/)
      } finally {
        await silent.close()
      }
    }))

    it('stop() closes every session on both ends and refuses new dials', () => withNet(factory, async (net) => {
      const { t: a, p: pa } = await net.add()
      const { t: b, p: pb } = await net.add()
      const { t: c, p: pc } = await net.add()
      await a.dial(net.addr(b))
      await c.dial(net.addr(a))
      await waitFor(() => pa.conns.length === 2, 'a has two sessions')
      const ba = await pb.the(a.nodeId)
      const ca = await pc.the(a.nodeId)
      await within(a.stop(), 'stop')
      const infos = await within(Promise.all(pa.conns.map(x => x.closed)), 'a\'s sessions closed')
      for (const i of infos) assert.equal(i.reason, 'transport stopped')
      const remote = await within(Promise.all([ba.closed, ca.closed]), 'peers see the close')
      for (const i of remote) assert.ok(i.reason !== undefined)
      assert.deepEqual(a.listenAddrs(), [])
      await rejectsWith(a.dial(net.addr(b)), ['UNAVAILABLE'], 'dial after stop')
      await a.stop()
      // the others still talk to each other
      const bc = await within(b.dial(net.addr(c)), 'b dials c after a stopped')
      await bc.send(seqFrame(5))
      const cb = await pc.the(b.nodeId)
      await waitFor(() => pc.framesOf(cb).length === 1, 'frame b → c')
    }))
  })
}
