/**
 * Signed records across time, through the engine (MemoryStore, real Ed25519 keys, an injected
 * wall clock): a record stamped too far ahead passes the gate before it is held (a forged one is
 * refused, not held), is held with its signature and released with it, not checked again, or
 * dropped with it when its origin's void came first (its batch then collected); a
 * clock repair's re-stamped states are signed by this node and the states they replace are kept
 * as history; re-adding a present triple is a fresh assertion whose earlier state is history,
 * and reverting it changes nothing (the triple was present before too).
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import type { NodeId } from '../../src/core/ids.ts'
import type { MemoryRecord } from '../../src/core/model.ts'
import { makeTriple } from '../../src/core/records.ts'
import { sealPage, type PageSeals } from '../../src/core/seals.ts'
import { sealBatch, type Signer } from '../../src/core/signing.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { OWN_FROM_KEY } from '../../src/engine/NodeKnowledge.ts'
import { NodeKeyVerifier, newSigningIdentity } from '../../src/node/keys.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'

interface Id { node: NodeId, signer: Signer }
const T0 = 1_763_631_000_000
const DRIFT = 60_000
const HOUR = 3_600_000
const verifier = new NodeKeyVerifier()

function node (id: Id, clock: { wall: number }): Engine {
  const store = new MemoryStore()
  store.setMeta(OWN_FROM_KEY, '0')
  return new Engine({ store, node: id.node, maxDriftMs: DRIFT, now: () => clock.wall, signer: id.signer, verifier })
}

/** `records` signed as one batch by `signer`, as a page carries them. */
function signed (records: MemoryRecord[], signer: Signer, at: number): PageSeals {
  const b = sealBatch(records, signer, { wall: at, counter: 0 })
  return { batches: [{ signer: b.header.signer, at: b.header.at, n: b.header.n, sig: b.sig, proof: [] }], refs: records.map((_, leaf) => ({ batch: 0, leaf })) }
}

const triple = (subject: string, node: NodeId, wall: number): MemoryRecord =>
  makeTriple({ subject, predicate: 'p', object: { kind: 'string', value: 'o' } }, { wall, counter: 0, node }, false)

describe('signed records across time', () => {
  let alice: Id, bob: Id, mallory: Id
  before(async () => {
    [alice, bob, mallory] = await Promise.all([newSigningIdentity(), newSigningIdentity(), newSigningIdentity()])
  })

  it('a record stamped too far ahead passes the gate, is held with its signature and released with it', () => {
    const clock = { wall: T0 }
    const b = node(bob, clock)
    const now = triple('s:now', alice.node, T0)
    const ahead = triple('s:ahead', alice.node, T0 + HOUR)
    const forged = triple('s:forged', alice.node, T0 + HOUR)
    const seals = signed([now, ahead], alice.signer, T0)
    const forgedSeals = signed([forged], mallory.signer, T0)
    const page: PageSeals = {
      batches: [...seals.batches, ...forgedSeals.batches],
      refs: [...seals.refs, { batch: 1, leaf: 0 }]
    }
    const r = b.applyChecked([now, ahead, forged], { via: mallory.node, seals: page })
    assert.deepEqual(r.refused.map(f => [f.record, f.reason]), [[forged, 'not-signer']], 'refused by the gate, not held')
    assert.equal(r.held, 1)
    assert.equal(b.store.held({ limit: 10 })[0]?.record, ahead)
    assert.ok(b.store.held({ limit: 10 })[0]?.seal !== undefined, 'held with its signature')
    clock.wall = T0 + HOUR - DRIFT
    assert.equal(b.releaseDue(), 1)
    const state = b.store.getState('triple', (ahead as { id: string }).id)
    assert.equal(state?.via, mallory.node)
    assert.ok(state?.seal !== undefined, 'released with the signature it was held with')
    // A third node verifies what B serves of it: the signature is Alice's.
    const c = node({ node: 'node-c' as NodeId, signer: mallory.signer }, clock)
    const feed = b.store.changesSince(0, { limit: 10 })
    const served = c.applyChecked(feed.entries.map(e => e.record), { via: bob.node, seals: sealPage(feed.entries, id => b.store.getBatch(id)) })
    assert.deepEqual([served.refused.length, served.changed.length], [0, 2])
  })

  it('a signed record held after its origin\'s void is dropped with its signature: its batch is collected when nothing else belongs to it', () => {
    const clock = { wall: T0 }
    const b = node(bob, clock)
    b.applyChecked([], { via: alice.node, cursor: { peer: alice.node, seq: 1 }, voids: [{ node: alice.node, generation: 1, wall: T0, counter: 0 }] })
    const old = triple('s:old-future', alice.node, T0 + HOUR)
    assert.equal(b.applyChecked([old], { via: alice.node, seals: signed([old], alice.signer, T0 + HOUR) }).held, 1)
    const seal = b.store.held({ limit: 10 })[0]?.seal
    assert.ok(seal !== undefined && b.store.getBatch(seal.batch) !== undefined, 'held with its signature, its batch kept')
    assert.equal(b.dropVoidedHeld(() => true), 1)
    assert.deepEqual(b.store.held({ limit: 10 }), [])
    b.store.collectHistory(0)
    assert.equal(b.store.getBatch(seal.batch), undefined, 'nothing belongs to its batch any more: collected')
  })

  it('a clock repair signs the re-stamped states; the replaced states are history', () => {
    const clock = { wall: T0 + 2 * HOUR }
    const a = node(alice, clock)
    a.setNote('cfg:k', 1)
    clock.wall = T0
    const result = a.repairClock()
    assert.equal(result?.restamped, 1)
    const entry = result!.applied.changed[0]!
    assert.ok(entry.seal !== undefined, 'signed like any local write')
    assert.equal(a.store.getBatch(entry.seal.batch)?.header.signer, alice.node)
    const states = a.store.history('note', 'cfg:k')
    assert.deepEqual(states.map(s => [s.record.hlc.wall, s.until?.wall]), [[T0 + 2 * HOUR, entry.record.hlc.wall], [entry.record.hlc.wall, undefined]])
    // A peer verifies the re-stamped state.
    const b = node(bob, clock)
    const feed = a.store.changesSince(0, { limit: 10 })
    const r = b.applyChecked(feed.entries.map(e => e.record), { via: alice.node, seals: sealPage(feed.entries, id => a.store.getBatch(id)) })
    assert.deepEqual([r.refused.length, r.changed.length], [0, 1])
  })

  it('re-adding a present triple is a fresh assertion: its earlier state is history, and reverting it changes nothing', () => {
    const clock = { wall: T0 }
    const a = node(alice, clock)
    const [first] = a.addTriples([{ subject: 'user:x', predicate: 'p', object: 'o' }])
    clock.wall += 1000
    const again = a.assertTriples([{ subject: 'user:x', predicate: 'p', object: 'o' }])
    assert.deepEqual([again.created, again.reasserted], [0, 1])
    const states = a.store.history('triple', first!.id)
    assert.deepEqual(states.map(s => s.record.hlc.wall), [T0 + 1000, T0])
    assert.ok(states.every(s => s.seal !== undefined), 'both assertions signed')
    const reverted = a.history.revertRecord('triple', first!.id)
    assert.deepEqual([reverted.written.length, reverted.unchanged], [0, 1], 'present before, present now')
    assert.equal(a.getTriple(first!.id)?.deleted, false)
  })
})

describe('knowledge and the gate', () => {
  let alice: Id, bob: Id, mallory: Id
  before(async () => {
    [alice, bob, mallory] = await Promise.all([newSigningIdentity(), newSigningIdentity(), newSigningIdentity()])
  })

  it('a vector relayed with a refused record is not learnt past it: the genuine copy arriving later is taken, not dropped by Rule A', () => {
    const clock = { wall: T0 }
    const b = node(bob, clock)
    const genuine = { kind: 'note', key: 'cfg:k', value: 'from alice', hlc: { wall: T0 - 1000, counter: 0, node: alice.node }, deleted: false } as const
    const tampered = { ...genuine, value: 'tampered' }
    const forged = b.applyChecked([tampered], {
      via: mallory.node,
      seals: signed([tampered], mallory.signer, T0),
      cursor: { peer: mallory.node, seq: 1 },
      knowledge: [{ node: alice.node, wall: T0, counter: 0, generation: 0 }]
    })
    assert.equal(forged.refused.length, 1)
    const r = b.applyChecked([genuine], { via: alice.node, seals: signed([genuine], alice.signer, T0) })
    assert.deepEqual([r.refused.length, r.changed.length, r.forgotten], [0, 1, 0])
    assert.equal(b.getNote('cfg:k')?.value, 'from alice')
  })
})
