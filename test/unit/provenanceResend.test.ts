/**
 * A signed page whose records this node already holds, signed, as they are (a page sent again
 * after an acknowledgement timeout, a restarted stream, records that came earlier through another
 * peer) costs no signature checks: those batches are dropped before verification. Counted with a
 * verifier that counts its calls (real Ed25519 keys, MemoryStore, in process). A batch with one
 * record not held is verified in full, a tampered record among held ones is refused as before,
 * and a state held unsigned is still verified (its signed copy replaces it).
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import type { NodeId } from '../../src/core/ids.ts'
import type { MemoryRecord, NoteRecord } from '../../src/core/model.ts'
import { sealPage, type PageSeals } from '../../src/core/seals.ts'
import type { SignatureVerifier, Signer } from '../../src/core/signing.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { NodeKeyVerifier, newSigningIdentity } from '../../src/node/keys.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'

interface Id { node: NodeId, signer: Signer }
const T0 = 1_763_631_000_000

/** A verifier that counts the signatures it checks. */
class CountingVerifier implements SignatureVerifier {
  checks = 0
  private readonly real = new NodeKeyVerifier()
  verify (signer: NodeId, message: Uint8Array, sig: Uint8Array): boolean {
    this.checks++
    return this.real.verify(signer, message, sig)
  }

  canSign (node: NodeId): boolean { return this.real.canSign(node) }
}

function engine (id: Id, verifier: SignatureVerifier, opts: { signer?: boolean } = {}): Engine {
  let now = T0
  return new Engine({
    store: new MemoryStore(),
    node: id.node,
    maxDriftMs: 60_000,
    now: () => now++,
    ...(opts.signer === false ? {} : { signer: id.signer }),
    verifier
  })
}

/** `from`'s feed as the page a peer sends (fresh objects at each call, as a page sent again is). */
function pageOf (from: Engine): { records: MemoryRecord[], seals: PageSeals } {
  const page = from.store.changesSince(0, { limit: 100_000 })
  return { records: page.entries.map(e => structuredClone(e.record)), seals: sealPage(page.entries, id => from.store.getBatch(id)) }
}

/** Applies a page as the native session does: its signatures checked ahead, then the write. */
async function receive (to: Engine, page: { records: readonly MemoryRecord[], seals?: PageSeals }, via: NodeId): Promise<ReturnType<Engine['applyChecked']>> {
  await to.verifyAhead(page.records, page.seals)
  return to.applyChecked(page.records, { via, ...(page.seals !== undefined ? { seals: page.seals } : {}) })
}

describe('a page of records held already is not verified again', () => {
  let alice: Id, bob: Id
  before(async () => {
    [alice, bob] = await Promise.all([newSigningIdentity(), newSigningIdentity()])
  })

  it('a page of new records is looked up once per batch, not again at the write', async () => {
    const a = engine(alice, new NodeKeyVerifier())
    const b = engine(bob, new NodeKeyVerifier())
    for (let i = 0; i < 20; i++) a.setNote(`cfg:k${i}`, { v: i }) // 20 single-record batches
    let lookups = 0
    const getState = b.store.getState.bind(b.store)
    b.store.getState = (kind, key) => { lookups++; return getState(kind, key) }
    const got = await receive(b, pageOf(a), alice.node)
    assert.equal(got.changed.length, 20)
    assert.equal(lookups, 20, 'one lookup per batch (its first record), made ahead only')
  })

  it('the same page applied twice checks its signatures once', async () => {
    const a = engine(alice, new NodeKeyVerifier())
    const v = new CountingVerifier()
    const b = engine(bob, v)
    for (let i = 0; i < 20; i++) a.setNote(`cfg:k${i}`, { v: i }) // 20 single-record batches
    a.addTriples([{ subject: 'user:x', predicate: 'p', object: 'o' }, { subject: 'user:y', predicate: 'p', object: 'o' }]) // one batch of 2
    const first = await receive(b, pageOf(a), alice.node)
    assert.equal(first.changed.length, 22)
    assert.equal(first.refused.length, 0)
    assert.equal(v.checks, 21, 'one check per batch')
    v.checks = 0
    const again = await receive(b, pageOf(a), alice.node)
    assert.equal(again.changed.length, 0)
    assert.equal(again.refused.length, 0)
    assert.equal(v.checks, 0, 'a page sent again is not verified again')
  })

  it('records that arrived through another peer are not verified again; new batches are', async () => {
    const a = engine(alice, new NodeKeyVerifier())
    const v = new CountingVerifier()
    const b = engine(bob, v)
    for (let i = 0; i < 5; i++) a.setNote(`cfg:k${i}`, { v: i })
    await receive(b, pageOf(a), 'relay-node' as NodeId)
    a.setNote('cfg:new', { v: 'new' })
    v.checks = 0
    const r = await receive(b, pageOf(a), alice.node)
    assert.equal(r.changed.length, 1)
    assert.equal(v.checks, 1, 'only the new batch')
    assert.deepEqual(b.store.getState('note', 'cfg:new')?.record, a.store.getState('note', 'cfg:new')?.record)
    assert.notEqual(b.store.getState('note', 'cfg:new')?.seal, undefined)
  })

  it('a batch with a record not held is verified in full, its held records with it', async () => {
    const a = engine(alice, new NodeKeyVerifier())
    const v = new CountingVerifier()
    const b = engine(bob, v)
    a.addTriples([{ subject: 'user:x', predicate: 'p', object: 'o' }, { subject: 'user:y', predicate: 'p', object: 'o' }])
    const full = pageOf(a)
    // only the first record of the batch reaches b (its proof covers the missing leaf)
    const one = sealPage(a.store.changesSince(0, { limit: 1 }).entries, id => a.store.getBatch(id))
    await receive(b, { records: [full.records[0]!], seals: one }, alice.node)
    v.checks = 0
    const r = await receive(b, pageOf(a), alice.node)
    assert.equal(r.changed.length, 1)
    assert.equal(r.refused.length, 0)
    assert.equal(v.checks, 1)
  })

  it('a tampered record among held ones is refused as before, nothing of it written', async () => {
    const a = engine(alice, new NodeKeyVerifier())
    const v = new CountingVerifier()
    const b = engine(bob, v)
    for (let i = 0; i < 5; i++) a.setNote(`cfg:k${i}`, { v: i })
    a.addTriples([{ subject: 'user:x', predicate: 'p', object: 'o' }, { subject: 'user:y', predicate: 'p', object: 'o' }])
    await receive(b, pageOf(a), alice.node)
    const held = b.store.getState('note', 'cfg:k2')
    // a held note's stamp with another value, in its single-record batch
    const page = pageOf(a)
    const i = page.records.findIndex(r => r.kind === 'note' && r.key === 'cfg:k2')
    page.records[i] = { ...(page.records[i] as NoteRecord), value: { v: 'forged' } }
    v.checks = 0
    const r = await receive(b, page, alice.node)
    assert.equal(r.refused.length, 1)
    assert.equal(r.refused[0]!.reason, 'bad-signature')
    assert.equal(r.changed.length, 0)
    assert.equal(v.checks, 1, 'only the tampered batch is checked')
    assert.deepEqual(b.store.getState('note', 'cfg:k2'), held)
    // a tampered record in a batch whose other records are held: the batch is verified, the tampered record refused
    const page2 = pageOf(a)
    const t = page2.records.findIndex(r => r.kind === 'triple')
    const triple = b.store.getState('triple', (page2.records[t] as { id: string }).id)
    page2.records[t] = { ...page2.records[t]!, hlc: { ...page2.records[t]!.hlc, wall: page2.records[t]!.hlc.wall + 1 } } as MemoryRecord
    const r2 = await receive(b, page2, alice.node)
    assert.equal(r2.refused.length, 2, 'both records of the batch fail with it')
    assert.ok(r2.refused.every(f => f.reason === 'bad-signature'))
    assert.equal(r2.changed.length, 0)
    assert.deepEqual(b.store.getState('triple', (page2.records[t] as { id: string }).id), triple)
  })

  it('a state held unsigned is verified when its signed copy arrives, and stored with its seal', async () => {
    const a = engine(alice, new NodeKeyVerifier())
    const v = new CountingVerifier()
    const b = engine(bob, v)
    a.setNote('cfg:k', { v: 1 })
    const signed = pageOf(a)
    await receive(b, { records: pageOf(a).records }, alice.node)
    assert.equal(b.store.getState('note', 'cfg:k')?.seal, undefined)
    v.checks = 0
    const r = await receive(b, signed, alice.node)
    assert.equal(v.checks, 1)
    assert.equal(r.changed.length, 1)
    assert.notEqual(b.store.getState('note', 'cfg:k')?.seal, undefined)
  })

  it('a batch held when checked ahead but not when admitted is verified at the write', async () => {
    const a = engine(alice, new NodeKeyVerifier())
    const v = new CountingVerifier()
    const b = engine(bob, v)
    a.setNote('cfg:k', { v: 1 })
    await receive(b, pageOf(a), alice.node)
    const old = pageOf(a)
    v.checks = 0
    await b.verifyAhead(old.records, old.seals)
    assert.equal(v.checks, 0)
    a.setNote('cfg:k', { v: 2 })
    await receive(b, pageOf(a), alice.node) // the held state is replaced meanwhile
    v.checks = 0
    const r = b.applyChecked(old.records, { via: alice.node, seals: old.seals })
    assert.equal(v.checks, 1)
    assert.equal(r.changed.length, 0)
    assert.deepEqual((b.store.getState('note', 'cfg:k')?.record as NoteRecord).value, { v: 2 })
  })
})
