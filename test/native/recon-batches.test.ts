/**
 * The first answer of a coded round (reconSizing.ts firstBatch): sized from the difference sketch with a
 * margin for its error, so that a round settles its difference in two round trips (`rdigest` →
 * `rsymbols` → `rwant` + `records` → `records`) without an `rmore`, for small and large
 * differences alike.
 * Round trips are counted as the bench counts them (bench/recon.ts): each message sent in answer
 * to another is half a trip, the longest chain of the round.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import { recordToPlain } from '../../src/core/records.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { ReconPeer } from '../../src/protocol/native/recon.ts'
import { decodeReconFrame, encodeReconFrame } from '../../src/protocol/native/reconMessages.ts'
import { WindowIndex } from '../../src/protocol/native/WindowIndex.ts'

const T0 = 1_763_631_000_000
const TTL = 24 * 3_600_000

interface Node { id: NodeId, engine: Engine, index: WindowIndex, store: MemoryStore, peer: ReconPeer }

function node (name: string): Node {
  const id = asNodeId(name)
  const store = new MemoryStore()
  const engine = new Engine({ store, node: id, maxDriftMs: 60_000, now: () => T0 })
  const index = new WindowIndex({ store, ttlMs: TTL, now: () => T0 })
  engine.on('change', e => index.observe(e.entries))
  return { id, engine, index, store, peer: new ReconPeer({ index, maxRecordsPerMessage: 5_000 }) }
}

const same = (a: Node, b: Node): boolean => {
  const x = a.index.digest()
  const y = b.index.digest()
  return x.n === y.n && Buffer.compare(x.x, y.x) === 0
}

/** One round started by `from`, every frame encoded and decoded: its message types and round trips. */
function round (from: Node, to: Node): { types: string[], trips: number } {
  const digest = from.peer.startRound()
  assert.ok(digest !== undefined, 'no round of this node is still going')
  const queue = [{ from, frame: encodeReconFrame(digest), depth: 1 }]
  const types: string[] = []
  let deepest = 0
  for (let q = queue.shift(); q !== undefined; q = queue.shift()) {
    const msg = decodeReconFrame(q.frame)
    types.push(msg.t)
    deepest = Math.max(deepest, q.depth)
    const [sender, receiver] = q.from === from ? [from, to] : [to, from]
    const out = receiver.peer.onMessage(msg)
    if (out.apply.length > 0) receiver.engine.applyRemote(out.apply, { via: sender.id })
    for (const m of out.send) queue.push({ from: receiver, frame: encodeReconFrame(m), depth: q.depth + 1 })
  }
  return { types, trips: deepest / 2 }
}

/** Two nodes sharing `shared` triples, `onA` more only on a and `onB` only on b (names made with `tag`). */
function pair (shared: number, onA: number, onB: number, tag: string): [Node, Node] {
  const a = node('node-a')
  const b = node('node-b')
  a.engine.addTriples(Array.from({ length: shared }, (_, i) => ({ subject: `user:s${i}`, predicate: 'knows', object: `v${i}` })))
  const plain = a.store.dump().map(recordToPlain)
  for (let i = 0; i < plain.length; i += 1000) b.engine.applyRemote(plain.slice(i, i + 1000), { via: a.id })
  a.engine.addTriples(Array.from({ length: onA }, (_, i) => ({ subject: `user:a${tag}-${i}`, predicate: 'knows', object: `a${i}` })))
  b.engine.addTriples(Array.from({ length: onB }, (_, i) => ({ subject: `user:b${tag}-${i}`, predicate: 'knows', object: `b${i}` })))
  return [a, b]
}

describe('the first batch of a coded round', () => {
  test('differences of 2 to 1,000 settle in one round; on fixed cases, at most 3 of 24 rounds need an rmore', () => {
    let withMore = 0
    const cases: string[] = []
    for (const d of [2, 5, 10, 30, 100, 300, 600, 1_000]) {
      for (const tag of ['x', 'y', 'z']) {
        const [a, b] = pair(200, Math.ceil(d / 2), Math.floor(d / 2), `${tag}${d}`)
        const r = round(a, b)
        assert.ok(same(a, b), `d = ${d} (${tag}): one round settles the difference (${r.types.join(' ')})`)
        assert.deepEqual(a.store.dump(), b.store.dump())
        const more = r.types.filter(t => t === 'rmore').length
        assert.equal(r.trips, 2 + more, `d = ${d} (${tag}): two round trips and one per rmore (${r.types.join(' ')})`)
        if (more > 0) { withMore++; cases.push(`d = ${d} (${tag})`) }
      }
    }
    assert.ok(withMore <= 3, `rounds that needed an rmore: ${cases.join(', ')}`)
  })
})
