/**
 * The signed form (core/signing.ts), the batch tree (core/merkle.ts) and page seals
 * (core/seals.ts): proofs rebuild the root for any subset of leaves, a receiver can prove to the
 * next node whatever it received, and any change to a record, a proof or a signature is refused.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import fc from 'fast-check'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import { KnownHashes, nodeHash, proveLeaves, rootFromProof, splitPoint, treeRoot } from '../../src/core/merkle.ts'
import type { MemoryRecord } from '../../src/core/model.ts'
import { makeTriple } from '../../src/core/records.ts'
import { sealPage, verifyPage, type PageSeals } from '../../src/core/seals.ts'
import { leafHash, maySign, sealBatch, type Signer } from '../../src/core/signing.ts'
import { blake3 } from '../../src/core/hash.ts'
import { NodeKeyVerifier, newSigningIdentity } from '../../src/node/keys.ts'
import { assertProperty, seedFor } from './arbitraries.ts'

const leafOf = (i: number): Uint8Array => blake3(`leaf ${i}`)

describe('batch tree', () => {
  it('splits like RFC 6962', () => {
    assert.deepEqual([2, 3, 4, 5, 8, 9, 1000].map(splitPoint), [1, 2, 2, 4, 4, 8, 512])
    const l = [0, 1, 2].map(leafOf)
    assert.deepEqual(treeRoot(l), nodeHash(nodeHash(l[0]!, l[1]!), l[2]!))
    assert.deepEqual(treeRoot([l[0]!]), l[0])
  })

  it('a proof and the chosen leaves give the root back; a relay proves any subset of what it received', () => {
    const arb = fc.integer({ min: 1, max: 300 }).chain(n => fc.tuple(fc.constant(n),
      fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: n }),
      fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: n })))
    assertProperty(fc.property(arb, ([n, first, second]) => {
      const leaves = Array.from({ length: n }, (_, i) => leafOf(i))
      const root = treeRoot(leaves)
      const positions = [...first].sort((a, b) => a - b)
      const proof = proveLeaves(KnownHashes.ofLeaves(leaves), positions)
      const rebuilt = rootFromProof(n, positions, positions.map(p => leaves[p]!), proof)
      assert.ok(rebuilt !== undefined)
      assert.deepEqual(rebuilt.root, root)
      // The receiver keeps the leaves it got and the proof's nodes: it can prove any subset of them.
      const relay = new KnownHashes(n, rebuilt.nodes)
      for (const p of positions) relay.add({ start: p, size: 1, hash: leaves[p]! })
      const again = KnownHashes.decode(n, relay.encode())
      const sub = second.filter(p => positions.includes(p)).sort((a, b) => a - b)
      if (sub.length === 0) return
      const proof2 = proveLeaves(again, sub)
      assert.deepEqual(rootFromProof(n, sub, sub.map(p => leaves[p]!), proof2)?.root, root)
      // A proof with a hash too many or too few gives nothing.
      assert.equal(rootFromProof(n, sub, sub.map(p => leaves[p]!), [...proof2, leafOf(-1)]), undefined)
      if (proof2.length > 0) assert.equal(rootFromProof(n, sub, sub.map(p => leaves[p]!), proof2.slice(1)), undefined)
    }), seedFor(0x5e1), 300)
  })

  it('the hashes a node knows encode the same, sorted by start then size, in whatever order they were learned', () => {
    const arb = fc.integer({ min: 1, max: 200 }).chain(n => fc.tuple(fc.constant(n),
      fc.uniqueArray(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 1, max: n })), { minLength: 1, maxLength: 2 * n })))
    assertProperty(fc.property(arb, ([n, picks]) => {
      const nodes = picks.map(([start, size]) => ({ start, size: Math.min(size, n - start), hash: leafOf(start * 1000 + size) }))
      const unique = [...new Map(nodes.map(x => [`${x.start}/${x.size}`, x])).values()]
      const sorted = [...unique].sort((a, b) => a.start - b.start || a.size - b.size)
      const inOrder = new KnownHashes(n, sorted)
      const shuffled = new KnownHashes(n, [...unique].reverse())
      const merged = new KnownHashes(n)
      merged.merge(shuffled)
      assert.equal(inOrder.size, unique.length)
      assert.deepEqual(shuffled.encode(), inOrder.encode())
      assert.deepEqual(merged.encode(), inOrder.encode())
      const again = KnownHashes.decode(n, inOrder.encode())
      assert.deepEqual([...again].sort((a, b) => a.start - b.start || a.size - b.size), sorted)
      for (const x of sorted) assert.deepEqual(again.get(x.start, x.size), x.hash)
    }), seedFor(0x5e2), 200)
  })

  it('a contiguous run needs at most 2·log2(n) hashes', () => {
    const n = 5000
    const leaves = Array.from({ length: n }, (_, i) => leafOf(i))
    const run = Array.from({ length: 3000 }, (_, i) => i + 1234)
    assert.ok(proveLeaves(KnownHashes.ofLeaves(leaves), run).length <= 2 * Math.ceil(Math.log2(n)))
  })
})

describe('page seals', () => {
  let alice: { node: NodeId, signer: Signer }
  let mallory: { node: NodeId, signer: Signer }
  const verifier = new NodeKeyVerifier()
  before(async () => {
    alice = await newSigningIdentity()
    mallory = await newSigningIdentity()
  })

  const triples = (node: NodeId, count: number, deleted = false): MemoryRecord[] =>
    Array.from({ length: count }, (_, i) => makeTriple({ subject: `user:${i}`, predicate: 'p', object: { kind: 'string', value: String(i) } },
      { wall: 1_763_631_000_000 + i, counter: 0, node }, deleted))

  /** Seals `records` as one batch and builds the page of the entries `pick` chooses. */
  function page (records: MemoryRecord[], pick: number[], signer: Signer): { records: MemoryRecord[], seals: PageSeals } {
    const batch = sealBatch(records, signer, { wall: 1_763_631_000_100, counter: 0 })
    const seals = sealPage(pick.map(i => ({ seal: { batch: 7, leaf: i } })), id => (id === 7 ? batch : undefined))
    return { records: pick.map(i => records[i]!), seals }
  }

  it('verifies a page that carries part of a batch, and refuses one changed bit anywhere', () => {
    const recs = triples(alice.node, 50)
    const p = page(recs, [3, 4, 5, 40], alice.signer)
    const ok = verifyPage(p.records, p.seals, verifier)
    assert.ok(ok.checks.every(c => c?.ok === true))
    assert.equal(ok.batches[0]!.header.n, 50)

    const flipped = new Uint8Array(p.seals.batches[0]!.sig)
    flipped[10]! ^= 0x01
    const badSig = verifyPage(p.records, { ...p.seals, batches: [{ ...p.seals.batches[0]!, sig: flipped }] }, verifier)
    assert.ok(badSig.checks.every(c => c?.ok === false && c.why === 'bad-signature'))

    const changed = [...p.records]
    changed[1] = { ...changed[1]!, hlc: { ...changed[1]!.hlc, counter: 1 } }
    assert.ok(verifyPage(changed, p.seals, verifier).checks.every(c => c?.ok === false))

    const moved = { ...p.seals, refs: p.seals.refs.map((r, i) => (i === 0 ? { batch: 0, leaf: 9 } : r)) }
    assert.ok(verifyPage(p.records, moved, verifier).checks.every(c => c?.ok === false))
  })

  it('refuses a live record of another node signed by a member, and accepts a derived deletion', () => {
    const forged = triples(alice.node, 2)
    const p = page(forged, [0, 1], mallory.signer)
    assert.ok(verifyPage(p.records, p.seals, verifier).checks.every(c => c?.ok === false && c.why === 'not-signer'))
    assert.equal(maySign(forged[0]!, mallory.node), false)

    const tombs = triples(alice.node, 2, true)
    const d = page(tombs, [0, 1], mallory.signer)
    assert.ok(verifyPage(d.records, d.seals, verifier).checks.every(c => c?.ok === true))
  })

  it('cannot be verified against a node id that names no key', () => {
    assert.equal(verifier.canSign(asNodeId('node-a')), false)
    assert.equal(verifier.canSign(alice.node), true)
    const recs = triples(asNodeId('node-a'), 1)
    const p = page(recs, [0], { node: asNodeId('node-a'), sign: m => alice.signer.sign(m) })
    assert.ok(verifyPage(p.records, p.seals, verifier).checks.every(c => c?.ok === false))
  })

  it('verifies a batch whose records a page lists out of leaf order, and refuses a leaf listed twice', () => {
    const recs = triples(alice.node, 20)
    const p = page(recs, [2, 3, 9, 15], alice.signer)
    const order = [2, 0, 3, 1]
    const shuffled = { ...p.seals, refs: order.map(i => p.seals.refs[i]) }
    assert.ok(verifyPage(order.map(i => p.records[i]!), shuffled, verifier).checks.every(c => c?.ok === true))

    // the record at leaf 9 listed again after leaf 15 (not next to its first listing)
    const twice = { ...p.seals, refs: [...p.seals.refs, p.seals.refs[2]] }
    assert.ok(verifyPage([...p.records, p.records[2]!], twice, verifier).checks.every(c => c?.ok === false && c.why === 'bad-signature'))
  })

  it('hashes each state differently', () => {
    const [a] = triples(alice.node, 1)
    const b = { ...a!, deleted: true } as MemoryRecord
    assert.notDeepEqual(leafHash(a!), leafHash(b))
  })
})
