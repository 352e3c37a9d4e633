/**
 * Signed records between real daemons over QUIC on loopback (docs/SECURITY.md, "Signed records"
 * and "Revoking a node"): a member holding the seed (an in-process peer with its own key) relays
 * records forged as a third node's and as the receiver's own, a live record it signed for another
 * node, and one with a flipped signature bit, to every node: each refuses them, logs and counts
 * them, lists them with the member that relayed them, and writes nothing of them — while the
 * member's own honest record in the same page goes through. Then a node revoked by two others has
 * its new writes refused everywhere, and its older ones kept.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { asNodeId } from '../../src/core/ids.ts'
import type { MemoryRecord, TripleRecord } from '../../src/core/model.ts'
import { makeTriple } from '../../src/core/records.ts'
import type { PageSeals } from '../../src/core/seals.ts'
import { sealBatch, type Signer } from '../../src/core/signing.ts'
import { identitySigner } from '../../src/node/keys.ts'
import { QuicTransport } from '../../src/transport/libp2p/QuicTransport.ts'
import { daemonsFixture, SEED, startMesh, until, type P2pNode } from '../native/daemons.ts'
import { attack, ATTACKER_FEED } from '../hostile/attacker.ts'
import { PASSPHRASE } from '../sync/daemons.ts'

const { box, live } = daemonsFixture()
const transports: QuicTransport[] = []
after(async () => { await Promise.allSettled(transports.map(t => t.stop())) })

const triple = (subject: string, node: string, wall = Date.now()): TripleRecord =>
  makeTriple({ subject, predicate: 'test:says', object: { kind: 'string', value: subject } }, { wall, counter: 0, node: asNodeId(node) })

/** A page whose batches are each `records` signed by `signer` (flip: one bit of that signature flipped). */
function page (groups: Array<{ records: MemoryRecord[], signer: Signer, flip?: boolean }>): { records: MemoryRecord[], seals: PageSeals } {
  const records: MemoryRecord[] = []
  const batches: PageSeals['batches'][number][] = []
  const refs: PageSeals['refs'][number][] = []
  for (const g of groups) {
    const b = sealBatch(g.records, g.signer, { wall: Date.now(), counter: 0 })
    const sig = new Uint8Array(b.sig)
    if (g.flip === true) sig[17]! ^= 0x04
    g.records.forEach((r, leaf) => { records.push(r); refs.push({ batch: batches.length, leaf }) })
    batches.push({ signer: b.header.signer, at: b.header.at, n: b.header.n, sig, proof: [] })
  }
  return { records, seals: { batches, refs } }
}

async function tripleOn (n: P2pNode, id: string): Promise<boolean> {
  try {
    await n.client.request('GET', `/api/v1/triples/${id}`)
    return true
  } catch {
    return false
  }
}

describe('signed records between daemons', () => {
  let nodes: P2pNode[]

  it('a member relaying forged, tampered or stripped records: refused on every node, logged, counted, listed, nothing written', async (t) => {
    nodes = await startMesh(box(), ['sa', 'sb', 'sc'])
    for (const n of nodes) live.add(n)
    // Every node writes, so every node has seen the others sign (and their hellos said so).
    for (const n of nodes) await n.client.addTriple(`user:${n.name}`, 'test:hello', 'signed')
    await until(async () => (await Promise.all(nodes.map(n => n.stats()))).every(s => s.triples === 3), () => 'the first writes everywhere', 30_000)

    const key = await generateKeyPair('Ed25519')
    const mallory = asNodeId(peerIdFromPrivateKey(key).toString())
    const signer = identitySigner(key, mallory)
    const transport = await QuicTransport.create({ host: '127.0.0.1', port: 0, privateKey: key, handshakeTimeoutMs: 5_000, closeTimeoutMs: 300 })
    await transport.start()
    transports.push(transport)

    const forged: Record<string, TripleRecord[]> = {}
    const honest: TripleRecord[] = []
    for (const [i, victim] of nodes.entries()) {
      const third = nodes[(i + 1) % nodes.length]!
      const asThird = triple(`forged:third-${victim.name}`, third.nodeId)
      const asOwn = triple(`forged:own-${victim.name}`, victim.nodeId)
      const signedForThird = triple(`forged:signed-${victim.name}`, third.nodeId)
      const flipped = triple(`forged:flipped-${victim.name}`, mallory)
      const control = triple(`honest:${victim.name}`, mallory)
      forged[victim.name] = [asThird, asOwn, signedForThird, flipped]
      honest.push(control)
      const p = page([
        { records: [control], signer },
        { records: [signedForThird], signer },
        { records: [flipped], signer, flip: true }
      ])
      const s = await attack(transport, `127.0.0.1:${victim.p2pPort}`, victim.nodeId)
      await s.handshake(SEED, ATTACKER_FEED, PASSPHRASE)
      await until(async () => s.received.some(m => m.t === 'cursor'), () => `${victim.name}'s cursor`, 10_000, 20)
      // The unsigned forgeries first, then the signed batches.
      await s.send({ t: 'changes', from: 0, to: 5, records: [asThird, asOwn, ...p.records], more: false, seals: { batches: p.seals.batches, refs: [undefined, undefined, ...p.seals.refs] } })
      await until(async () => s.received.some(m => m.t === 'ack' && m.cursor === 5), () => `${victim.name} acknowledging the page`, 10_000, 20)
      t.diagnostic(`${victim.name}: page of ${p.records.length + 2} records acknowledged`)
    }

    // The honest record went through and reached every node; no forged one is anywhere.
    await until(async () => (await Promise.all(nodes.map(async n => (await Promise.all(honest.map(h => tripleOn(n, h.id)))).every(Boolean)))).every(Boolean),
      () => 'the member\'s honest records on every node', 30_000)
    for (const n of nodes) {
      for (const f of Object.values(forged).flat()) assert.equal(await tripleOn(n, f.id), false, `${n.name} holds ${f.subject}`)
      const refused = await n.client.refused()
      assert.deepEqual([refused.counters['unsigned'], refused.counters['not-signer'], refused.counters['bad-signature'], refused.counters['total']], [2, 1, 1, 4], n.name)
      assert.ok(refused.refused.every(e => e.via === mallory), `${n.name} lists the member that relayed them`)
      assert.deepEqual(new Set(refused.refused.map(e => e.key)), new Set(forged[n.name]!.map(f => f.id)))
      assert.match(n.daemon.stderr(), new RegExp(`refused \\d record\\(s\\) relayed by ${mallory}`), `${n.name} logged the refusal`)
      const status = await n.client.status()
      assert.equal(status.provenance?.refused.total, 4)
      // What the forged own record claimed is not this node's: its own records are all signed by itself.
      const own = await n.client.request<{ triples: Array<{ provenance: { signed: boolean, signer?: string } }> }>('GET', `/api/v1/triples?origin=${n.nodeId}`)
      assert.ok(own.triples.every(x => x.provenance.signed && x.provenance.signer === n.nodeId))
    }
  })

  it('a node revoked by two others: its new writes are refused everywhere, its older ones stay', async () => {
    const [a, b, c] = nodes as [P2pNode, P2pNode, P2pNode]
    const before = await c.client.addTriple('user:c', 'test:before', 'revocation')
    await until(async () => (await tripleOn(a, before.id)) && (await tripleOn(b, before.id)), () => 'c\'s earlier write on a and b', 30_000)
    const after = new Date().toISOString()
    await a.client.revoke(c.nodeId, { after, reason: 'lost' })
    await b.client.revoke(c.nodeId, { after, reason: 'lost' })
    // Each honors its own at once; the other's arrives with sync (two issuers: the quorum).
    await until(async () => (await Promise.all([a, b].map(async n => (await n.client.revocations()).revocations.find(r => r.target === c.nodeId)?.issued.length === 2))).every(Boolean),
      () => 'both revocations on a and b', 30_000)
    await new Promise(resolve => setTimeout(resolve, 5))
    const late = await c.client.addTriple('user:c', 'test:after', 'revocation')
    await until(async () => (await Promise.all([a, b].map(async n => (await n.client.refused()).counters['revoked']! >= 1))).every(Boolean),
      () => 'the late write refused on a and b', 30_000)
    for (const n of [a, b]) {
      assert.equal(await tripleOn(n, late.id), false, `${n.name} holds c's write after its revocation`)
      assert.equal(await tripleOn(n, before.id), true, `${n.name} lost c's earlier write`)
      const rev = (await n.client.revocations()).revocations.find(r => r.target === c.nodeId)!
      assert.equal(rev.effective_after, after)
      assert.ok((await n.client.refused()).refused.some(e => e.reason === 'revoked' && e.key === late.id && e.origin === c.nodeId))
    }
    // c does not refuse its own writes, and says it was revoked.
    assert.equal(await tripleOn(c, late.id), true)
    const onC = (await c.client.revocations()).revocations.find(r => r.target === c.nodeId)!
    assert.equal(onC.effective_after, null)
    assert.match(onC.pending ?? '', /never refuses its own/)
  })
})
