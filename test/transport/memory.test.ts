import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryNetwork, mulberry32, type MemoryTransport } from '../../src/transport/memory/MemoryTransport.ts'
import type { Connection } from '../../src/transport/Transport.ts'
import { Probe, runTransportTests, seqFrame, seqOf, waitFor } from './conformance.ts'

runTransportTests('memory', () => {
  const net = new MemoryNetwork()
  let n = 0
  return {
    create: async (opts) => net.createTransport(`node-${++n}`, opts),
    silentPeer: async () => {
      const id = `silent-${++n}`
      const t = net.createTransport(id)
      await t.start()
      net.silence(id)
      return { addr: `mem:${id}`, close: () => t.stop() }
    },
    deadAddr: async () => 'mem:nobody-listens-here'
  }
})

/** Two started nodes on a manual network, with a session a → b and probes. */
async function pair (net: MemoryNetwork, opts?: { a?: string, b?: string }): Promise<{ a: MemoryTransport, b: MemoryTransport, pa: Probe, pb: Probe, ab: Connection, ba: Connection }> {
  const a = net.createTransport(opts?.a ?? 'a')
  const b = net.createTransport(opts?.b ?? 'b')
  const pa = new Probe(a)
  const pb = new Probe(b)
  await a.start()
  await b.start()
  const ab = await a.dial(`mem:${b.nodeId}`)
  const ba = pb.openTo(a.nodeId)[0] as Connection
  return { a, b, pa, pb, ab, ba }
}

describe('MemoryNetwork simulation hooks', () => {
  it('moves frames only when stepped, in manual mode', async () => {
    const net = new MemoryNetwork({ manual: true })
    const { pb, ab, ba } = await pair(net)
    await ab.send(seqFrame(0))
    await ab.send(seqFrame(1))
    assert.equal(pb.framesOf(ba).length, 0)
    assert.equal(net.pendingDeliveries, 2)
    assert.equal(net.step(), 2)
    assert.deepEqual(pb.framesOf(ba).map(seqOf), [0, 1])
    assert.equal(net.pendingDeliveries, 0)
  })

  it('is reproducible from its seed: same seed, same drops and same order', async () => {
    const run = async (seed: number): Promise<number[]> => {
      const net = new MemoryNetwork({ manual: true, random: mulberry32(seed), dropRate: 0.3, maxDelaySteps: 5, reorder: true })
      const { pb, ab, ba } = await pair(net)
      for (let i = 0; i < 200; i++) await ab.send(seqFrame(i))
      net.runUntilIdle(1000)
      return pb.framesOf(ba).map(seqOf)
    }
    const first = await run(42)
    assert.deepEqual(await run(42), first)
    assert.notDeepEqual(await run(43), first)
    assert.ok(first.length > 100 && first.length < 180, `about 30 % dropped (got ${first.length} of 200)`)
    assert.notDeepEqual(first, [...first].sort((x, y) => x - y), 'reordered')
  })

  it('keeps per-connection order under delay unless reordering is asked for', async () => {
    const net = new MemoryNetwork({ manual: true, random: mulberry32(7), maxDelaySteps: 10 })
    const { pb, ab, ba } = await pair(net)
    for (let i = 0; i < 100; i++) await ab.send(seqFrame(i))
    const steps = net.runUntilIdle(1000)
    assert.ok(steps > 1, 'delays spread deliveries over several steps')
    assert.deepEqual(pb.framesOf(ba).map(seqOf), Array.from({ length: 100 }, (_, i) => i))
  })

  it('applies per-link conditions over the network defaults', async () => {
    const net = new MemoryNetwork({ manual: true, random: mulberry32(1) })
    const a = net.createTransport('a')
    const b = net.createTransport('b')
    const c = net.createTransport('c')
    const pb = new Probe(b)
    const pc = new Probe(c)
    for (const t of [a, b, c]) await t.start()
    net.setLink('a', 'b', { dropRate: 1 })
    const ab = await a.dial('mem:b')
    const ac = await a.dial('mem:c')
    for (let i = 0; i < 10; i++) { await ab.send(seqFrame(i)); await ac.send(seqFrame(i)) }
    net.runUntilIdle()
    assert.equal(pb.framesOf(pb.conns[0] as Connection).length, 0)
    assert.equal(pc.framesOf(pc.conns[0] as Connection).length, 10)
    assert.equal(net.stats.dropped, 10)
  })

  it('partition loses frames and refuses dials until healed; sessions survive it', async () => {
    const net = new MemoryNetwork({ manual: true })
    const { a, pb, ab, ba } = await pair(net)
    net.partition('a', 'b')
    await ab.send(seqFrame(0))
    net.runUntilIdle()
    assert.equal(pb.framesOf(ba).length, 0)
    await ab.close('x')
    net.runUntilIdle()
    await assert.rejects(a.dial('mem:b'), (e: Error & { code?: string }) => e.code === 'UNAVAILABLE')
    net.heal('a', 'b')
    const again = await a.dial('mem:b')
    await again.send(seqFrame(1))
    net.runUntilIdle()
    const fresh = pb.openTo(a.nodeId)[0] as Connection
    assert.deepEqual(pb.framesOf(fresh).map(seqOf), [1])
  })

  it('frames sent before a partition but delivered during it are lost', async () => {
    const net = new MemoryNetwork({ manual: true })
    const { pb, ab, ba } = await pair(net)
    await ab.send(seqFrame(0))
    net.partition('b', 'a')
    net.runUntilIdle()
    assert.equal(pb.framesOf(ba).length, 0)
  })

  it('disconnect ends the session on both ends at once and discards frames in flight', async () => {
    const net = new MemoryNetwork({ manual: true })
    const { a, b, pb, ab, ba } = await pair(net)
    await ab.send(seqFrame(0))
    net.disconnect('a', 'b', 'cable pulled')
    assert.equal((await ab.closed).reason, 'cable pulled')
    assert.equal((await ba.closed).reason, 'cable pulled')
    assert.equal((await ab.closed).error?.code, 'UNAVAILABLE')
    net.runUntilIdle()
    assert.equal(pb.framesOf(ba).length, 0)
    assert.equal(a.connections().length + b.connections().length, 0)
    // and they can reconnect at once
    const again = await a.dial('mem:b')
    assert.equal(again.remoteNode, 'b')
  })

  it('close reaches the peer after the frames in flight, even with delays', async () => {
    const net = new MemoryNetwork({ manual: true, random: mulberry32(3), maxDelaySteps: 4 })
    const { pb, ab, ba } = await pair(net)
    for (let i = 0; i < 20; i++) await ab.send(seqFrame(i))
    await ab.close('done')
    let closedAtFrames = -1
    void ba.closed.then(() => { closedAtFrames = pb.framesOf(ba).length })
    net.runUntilIdle()
    await waitFor(() => closedAtFrames >= 0, 'close delivered')
    assert.equal(closedAtFrames, 20)
    assert.equal((await ba.closed).reason, 'done')
  })

  it('a silenced node swallows frames and dials to it time out', async () => {
    const net = new MemoryNetwork({ manual: true })
    const { a, pb, ab, ba } = await pair(net)
    net.silence('b')
    await ab.send(seqFrame(0))
    net.runUntilIdle()
    assert.equal(pb.framesOf(ba).length, 0)
    const c = net.createTransport('c')
    await c.start()
    await assert.rejects(c.dial('mem:b', { timeoutMs: 20 }), (e: Error & { code?: string }) => e.code === 'TIMEOUT')
    net.silence('b', false)
    await ab.send(seqFrame(1))
    net.runUntilIdle()
    assert.deepEqual(pb.framesOf(ba).map(seqOf), [1])
    await a.stop()
  })

  it('refuses a second transport for a node id that is running, allows it after stop', async () => {
    const net = new MemoryNetwork()
    const a = net.createTransport('a')
    assert.throws(() => net.createTransport('a'), /already has a transport/)
    await a.start()
    await a.stop()
    const again = net.createTransport('a')
    await again.start()
    assert.deepEqual(again.listenAddrs(), ['mem:a'])
  })

  it('runs a seeded many-node exchange under loss and reordering, and says which seed it used', async () => {
    const seed = Number(process.env.ENGRAM_SIM_SEED ?? 1234)
    const net = new MemoryNetwork({ manual: true, random: mulberry32(seed), dropRate: 0.1, maxDelaySteps: 3, reorder: true })
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'].map(id => net.createTransport(id))
    const probes = nodes.map(t => new Probe(t))
    for (const t of nodes) await t.start()
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) await (nodes[i] as MemoryTransport).dial(`mem:n${j + 1}`)
    }
    for (const p of probes) for (const c of p.conns) for (let k = 0; k < 50; k++) await c.send(seqFrame(k))
    net.runUntilIdle()
    const received = probes.reduce((sum, p) => sum + p.conns.reduce((s, c) => s + p.framesOf(c).length, 0), 0)
    assert.equal(received + net.stats.dropped, net.stats.sent, `seed ${seed}: every frame delivered or counted as dropped`)
    assert.ok(net.stats.dropped > 0, `seed ${seed}: some loss`)
  })
})
