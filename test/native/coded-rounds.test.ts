/**
 * Coded gossip rounds between sessions (protocol/native/recon.ts, sync/native/GossipSide.ts): two
 * nodes that both list them in their hello reconcile by coded rounds alone; a node that does not
 * (an older version) is never sent a coded message and still converges by bloom rounds; after a
 * coded round gives up, the next round is a bloom round.
 */
import assert from 'node:assert/strict'
import { Packr } from 'msgpackr'
import { afterEach, describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { GossipPeer } from '../../src/protocol/native/gossip.ts'
import { decodeFrame } from '../../src/protocol/native/messages.ts'
import { ReconPeer } from '../../src/protocol/native/recon.ts'
import { RECON_LIMITS } from '../../src/protocol/native/reconMessages.ts'
import { SYMBOL_BYTES } from '../../src/protocol/native/riblt.ts'
import { gossipSide } from '../../src/sync/native/GossipSide.ts'
import { LazyWindow } from '../../src/sync/native/LazyWindow.ts'
import { MemoryNetwork, type MemoryConnection } from '../../src/transport/memory/MemoryTransport.ts'
import { mulberry32 } from '../../src/util/random.ts'
import { eventually, sameDumps, simNode, type SimNode } from './helpers.ts'

const packr = new Packr({ useRecords: false })

/** The in-memory network, noting the type of every frame each node sends (as decoded, and as on the wire when uncompressed). */
class TappedNetwork extends MemoryNetwork {
  readonly sent = new Map<string, string[]>()
  readonly wire: string[] = []
  override sendFrame (from: MemoryConnection, frame: Uint8Array): void {
    const list = this.sent.get(from.localNode) ?? []
    list.push(decodeFrame(frame, { deferRecords: true }).t)
    this.sent.set(from.localNode, list)
    if (frame[0] === 1) this.wire.push(String((packr.unpack(frame.subarray(1)) as { t: unknown }).t))
    super.sendFrame(from, frame)
  }
}

const started: SimNode[] = []
afterEach(async () => { await Promise.all(started.splice(0).map(n => n.sync.stop())) })

const triple = (s: string, i: number): { subject: string, predicate: string, object: string } => ({ subject: `user:${s}${i}`, predicate: 'rel:likes', object: `v${i}` })
const CODED = ['rdigest', 'rsymbols', 'rmore', 'rwant']
const BLOOM = ['digest', 'buckets', 'bloom']
const COMPACT = ['rd', 'rs', 'rm', 'rw', 'rr']

describe('coded rounds between sessions', () => {
  for (const older of [false, true]) {
    it(older
      ? 'with a node that does not speak them (an older version): bloom rounds only, no coded message sent, convergence'
      : 'two nodes that speak them reconcile by coded rounds alone', async () => {
      const net = new TappedNetwork()
      // gossip alone: no streams, no push
      const a = simNode(net, 'node-a', { stream: false, push: false })
      const b = simNode(net, 'node-b', { stream: false, push: false, ...(older ? { coded: false } : {}) })
      a.engine.addTriples(Array.from({ length: 120 }, (_, i) => triple('s', i)))
      b.engine.addTriples(Array.from({ length: 120 }, (_, i) => triple('s', i)))
      a.engine.addTriples(Array.from({ length: 37 }, (_, i) => triple('a', i)))
      b.engine.addTriples(Array.from({ length: 21 }, (_, i) => triple('b', i)))
      for (const n of [a, b]) { started.push(n); await n.sync.start() }
      b.sync.addPeer('mem:node-a')
      // converged: the same 178 triples, and every other record (the nodes' own system records come by the same rounds)
      await eventually(() => a.store.stats().triples === 178 && b.store.stats().triples === 178 && sameDumps([a, b]), 'both nodes hold the same 178 triples and records')
      const sent = [...(net.sent.get('node-a') ?? []), ...(net.sent.get('node-b') ?? [])]
      if (older) {
        assert.deepEqual(sent.filter(t => CODED.includes(t)), [], 'no coded message to or from the older node')
        assert.ok(sent.includes('digest'), 'bloom rounds')
      } else {
        assert.ok(sent.includes('rdigest') && sent.includes('rsymbols'), `coded rounds (sent: ${[...new Set(sent)].join(', ')})`)
        assert.deepEqual(sent.filter(t => BLOOM.includes(t)), [], 'no bloom round')
      }
    })
  }
})

describe('coded rounds between versions', () => {
  for (const older of [1, 2]) {
    it(`a node of version 2 and one of version ${older} run version ${older}'s forms and converge`, async () => {
      const net = new TappedNetwork()
      // gossip alone, frames uncompressed so that their types can be read on the wire
      const a = simNode(net, 'node-a', { stream: false, push: false, compress: false })
      const b = simNode(net, 'node-b', { stream: false, push: false, compress: false, coded: older })
      a.engine.addTriples(Array.from({ length: 90 }, (_, i) => triple('s', i)))
      b.engine.addTriples(Array.from({ length: 90 }, (_, i) => triple('s', i)))
      a.engine.addTriples(Array.from({ length: 13 }, (_, i) => triple('a', i)))
      b.engine.addTriples(Array.from({ length: 8 }, (_, i) => triple('b', i)))
      for (const n of [a, b]) { started.push(n); await n.sync.start() }
      b.sync.addPeer('mem:node-a')
      await eventually(() => a.store.stats().triples === 111 && b.store.stats().triples === 111 && sameDumps([a, b]), 'both nodes hold the same 111 triples and records')
      const coded = net.wire.filter(t => [...CODED, ...COMPACT].includes(t))
      assert.ok(coded.length > 0, `coded rounds (wire: ${[...new Set(net.wire)].join(', ')})`)
      assert.deepEqual(coded.filter(t => !(older === 1 ? CODED : COMPACT).includes(t)), [], `only version ${older}'s forms`)
      assert.deepEqual(net.wire.filter(t => BLOOM.includes(t)), [], 'no bloom round')
    })
  }
})

describe('the gossip side of a session', () => {
  it('runs a bloom round after a coded round that gave up, then coded rounds again', () => {
    const T0 = 1_763_631_000_000
    const store = new MemoryStore()
    const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => T0 })
    const window = new LazyWindow({ store, ttlMs: 24 * 3_600_000, now: () => T0, idleMs: 0 })
    engine.on('change', e => { window.observe(e.entries) })
    engine.addTriples(Array.from({ length: 30 }, (_, i) => triple('s', i)))
    window.current() // built, as a node's start builds it
    const coded = new ReconPeer({ index: window.reader, maxRecordsPerMessage: 100 })
    const bloom = new GossipPeer({ index: window.reader, fpr: 0.01, random: mulberry32(1), maxRecordsPerMessage: 100 })
    const side = gossipSide({ window, bloom, coded })
    const first = side.startRound()
    assert.equal(first?.t, 'rdigest')
    // a peer whose symbols never decode: count 2 in every symbol, up to the limit
    let from = 0
    let out = side.onMessage({ t: 'rsymbols', round: 1, from, s: junk(RECON_LIMITS.maxSymbolsPerMessage) })
    from = RECON_LIMITS.maxSymbolsPerMessage
    while (out.send.length > 0) {
      assert.equal(out.send[0]!.t, 'rmore')
      out = side.onMessage({ t: 'rsymbols', round: 1, from, s: junk(RECON_LIMITS.maxSymbolsPerMessage) })
      from += RECON_LIMITS.maxSymbolsPerMessage
    }
    assert.equal(coded.stats().failed, 1)
    assert.equal(side.startRound()?.t, 'digest')
    assert.equal(side.startRound()?.t, 'rdigest')
  })

  it('without a peer that speaks them, rounds are bloom rounds and a coded message is ignored', () => {
    const store = new MemoryStore()
    const window = new LazyWindow({ store, ttlMs: 24 * 3_600_000, now: () => 1_763_631_000_000, idleMs: 0 })
    window.current()
    const bloom = new GossipPeer({ index: window.reader, fpr: 0.01, random: mulberry32(1), maxRecordsPerMessage: 100 })
    const side = gossipSide({ window, bloom })
    assert.equal(side.startRound()?.t, 'digest')
    assert.deepEqual(side.onMessage({ t: 'rmore', round: 1, to: 10 }), { send: [], apply: [] })
  })
})

/** Symbols that never peel: count 2 everywhere. */
function junk (count: number): Uint8Array {
  const s = new Uint8Array(count * SYMBOL_BYTES)
  for (let j = 0; j < count; j++) { s[j * SYMBOL_BYTES] = j & 0xff; s[j * SYMBOL_BYTES + 12] = 2 }
  return s
}
