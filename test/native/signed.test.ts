/**
 * Signatures over native sync (in process, the in-memory transport, real keys): pages and gossip
 * batches carry their records' batches and proofs, a relay passes them on, and every receiver
 * stores each state with its origin's verified signature — a bulk write split over several pages
 * included.
 */
import assert from 'node:assert/strict'
import { afterEach, before, describe, it } from 'node:test'
import type { NodeId } from '../../src/core/ids.ts'
import type { Signer } from '../../src/core/signing.ts'
import { newSigningIdentity } from '../../src/node/keys.ts'
import { MemoryNetwork } from '../../src/transport/memory/MemoryTransport.ts'
import { eventually, sameDumps, simNode, type SimNode, type SimNodeOptions } from './helpers.ts'

const running = new Set<SimNode>()
afterEach(async () => {
  await Promise.all([...running].map(n => n.sync.stop()))
  running.clear()
})

async function up (net: MemoryNetwork, id: { node: NodeId, signer: Signer }, opts: SimNodeOptions = {}): Promise<SimNode> {
  const n = simNode(net, id.node, { ...opts, identity: id })
  await n.sync.start()
  running.add(n)
  return n
}

/** Every state of `n` is signed, and by `signer`. */
function allSignedBy (n: SimNode, signer: NodeId): boolean {
  const entries = n.store.changesSince(0, { limit: 100_000 }).entries
  return entries.length > 0 && entries.every(e => e.seal !== undefined && n.store.getBatch(e.seal.batch)?.header.signer === signer)
}

describe('signed records over native sync', () => {
  let ids: Array<{ node: NodeId, signer: Signer }>
  before(async () => { ids = await Promise.all([0, 1, 2].map(() => newSigningIdentity())) })

  for (const mode of ['streams', 'gossip rounds alone'] as const) {
    it(`a bulk write and single writes reach a node two hops away, signed by their origin (${mode})`, async () => {
      const net = new MemoryNetwork()
      const opts: SimNodeOptions = mode === 'streams' ? {} : { stream: false, settings: { gossipIntervalMs: 20 } }
      const [a, b, c] = [await up(net, ids[0]!, opts), await up(net, ids[1]!, opts), await up(net, ids[2]!, opts)]
      b.sync.addPeer(`mem:${a.id}`)
      c.sync.addPeer(`mem:${b.id}`)
      // 250 triples in one batch: more than a page (100 records), so pages carry parts of it with proofs.
      a.engine.addTriples(Array.from({ length: 250 }, (_, i) => ({ subject: `user:u${i}`, predicate: 'rel:p', object: `v${i}` })))
      for (let i = 0; i < 3; i++) a.engine.setNote(`cfg:k${i}`, i)
      await eventually(() => c.store.stats().triples === 250 && c.store.stats().notes === 3, () => `C has ${c.store.stats().triples} triples, ${c.store.stats().notes} notes`, 20_000)
      assert.ok(allSignedBy(b, a.id), 'B keeps every state with A\'s signature')
      assert.ok(allSignedBy(c, a.id), 'C keeps every state with A\'s signature, relayed by B')
      assert.equal(c.store.getState('note', 'cfg:k0')?.via, b.id)
      assert.deepEqual([b.engine.provenance.counters.refused, c.engine.provenance.counters.unsignedAccepted],
        [{ 'bad-signature': 0, 'not-signer': 0, unsigned: 0, revoked: 0, system: 0 }, 0])
      // Each knows A signs (from its signed records; B also from A's hello).
      assert.ok(b.engine.provenance.signers.has(a.id) && c.engine.provenance.signers.has(a.id))
      assert.ok(b.engine.provenance.signers.has(c.id), 'C said so in its hello')
      await eventually(() => sameDumps([a, b, c]), 'identical dumps')
    })
  }
})
