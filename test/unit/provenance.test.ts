/**
 * Signed records through the engine (in process, MemoryStore, real Ed25519 keys): local writes
 * are sealed, relayed pages verify, forged and tampered records are refused (counted, listed,
 * nothing written) whoever relays them, unsigned records are taken only where they cannot be used
 * to forge, revocations follow their quorum, own old states are signed by the migration, and
 * revert writes the earlier state back.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import type { NodeId } from '../../src/core/ids.ts'
import type { MemoryRecord, NoteRecord, TripleRecord } from '../../src/core/model.ts'
import { makeTriple } from '../../src/core/records.ts'
import { sealPage, type PageSeals } from '../../src/core/seals.ts'
import { sealBatch, type Signer } from '../../src/core/signing.ts'
import { isSystemRecord, nameKey, SYSTEM_NAMESPACE } from '../../src/core/system.ts'
import { recordNamespace } from '../../src/core/model.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { NodeKeyVerifier, newSigningIdentity } from '../../src/node/keys.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'

interface Id { node: NodeId, signer: Signer }
const T0 = 1_763_631_000_000
let now = T0
const verifier = new NodeKeyVerifier()

function engine (id: Id, opts: { quorum?: number, require?: boolean, signer?: boolean } = {}): Engine {
  return new Engine({
    store: new MemoryStore(),
    node: id.node,
    maxDriftMs: 60_000,
    now: () => now,
    ...(opts.signer === false ? {} : { signer: id.signer }),
    verifier,
    revocationQuorum: () => opts.quorum ?? 2,
    requireSignatures: () => opts.require ?? false
  })
}

/** Sends `from`'s whole feed to `to` as one signed page, through `via` (default: `from`). */
function relay (from: Engine, to: Engine, via: NodeId = from.node): ReturnType<Engine['applyChecked']> {
  const page = from.store.changesSince(0, { limit: 100_000 })
  const seals = sealPage(page.entries, id => from.store.getBatch(id))
  return to.applyChecked(page.entries.map(e => e.record), { via, seals })
}

const triple = (subject: string, node: NodeId, wall: number, deleted = false): TripleRecord =>
  makeTriple({ subject, predicate: 'likes', object: { kind: 'string', value: 'tea' } }, { wall, counter: 0, node }, deleted)

/** A page of `records` signed as one batch by `signer`. */
function signedPage (records: MemoryRecord[], signer: Signer): PageSeals {
  return pageOf([[records, signer]])
}

/** A page of several batches, each of `records` signed by `signer`, in this order. */
function pageOf (groups: Array<[MemoryRecord[], Signer]>): PageSeals {
  const batches: PageSeals['batches'][number][] = []
  const refs: PageSeals['refs'][number][] = []
  for (const [records, signer] of groups) {
    const b = sealBatch(records, signer, { wall: now, counter: 0 })
    records.forEach((_, leaf) => refs.push({ batch: batches.length, leaf }))
    batches.push({ signer: b.header.signer, at: b.header.at, n: b.header.n, sig: b.sig, proof: [] })
  }
  return { batches, refs }
}

describe('system records', () => {
  it('are the records whose namespace is the system\'s, whatever their names hold', () => {
    const names = ['_engram:name:x', '_engram:', '_engram', '_engramx:a', '_engra:m', 'x:_engram:a', ':_engram', '', 'a:b', '_engram::']
    const hlc = { wall: 1, counter: 0, node: 'n' as NodeId }
    for (const name of names) {
      const records: MemoryRecord[] = [
        { kind: 'note', key: name, value: 1, hlc, deleted: false },
        { ...makeTriple({ subject: name, predicate: 'p', object: { kind: 'string', value: 'o' } }, hlc) },
        { kind: 'episode', id: name, data: {}, hlc },
        { kind: 'trace', id: 't', runId: name, type: 'step', data: null, hlc }
      ]
      for (const r of records) assert.equal(isSystemRecord(r), recordNamespace(r) === SYSTEM_NAMESPACE, `${r.kind} named ${JSON.stringify(name)}`)
    }
  })
})

describe('signed records through the engine', () => {
  let alice: Id, bob: Id, carol: Id, mallory: Id
  before(async () => {
    [alice, bob, carol, mallory] = await Promise.all([newSigningIdentity(), newSigningIdentity(), newSigningIdentity(), newSigningIdentity()])
  })

  it('seals local writes and verifies them on the receiver, through a relay too', () => {
    const a = engine(alice)
    const b = engine(bob)
    const c = engine(carol)
    a.addTriples([{ subject: 'user:x', predicate: 'p', object: 'o' }, { subject: 'user:y', predicate: 'p', object: 'o' }])
    a.setNote('cfg:k', { v: 1 })
    const r = relay(a, b)
    assert.equal(r.refused.length, 0)
    assert.equal(r.changed.length, 3)
    assert.equal(b.provenance.counters.signedAccepted, 3)
    // Bob relays Alice's records to Carol: they still verify against Alice's key.
    const r2 = relay(b, c)
    assert.deepEqual([r2.changed.length, r2.refused.length], [3, 0])
    const state = c.store.getState('note', 'cfg:k')!
    assert.equal(state.via, bob.node)
    assert.equal(c.store.getBatch(state.seal!.batch)!.header.signer, alice.node)
    assert.ok(c.provenance.signers.has(alice.node))
  })

  it('refuses forged, tampered and stripped records whoever relays them; the rest of the page is written', () => {
    const b = engine(bob)
    const a = engine(alice)
    a.setNote('k', 1)
    relay(a, b) // Bob learns that Alice signs.
    const honest = triple('user:honest', mallory.node, now)
    const forgedAsAlice = triple('user:forged', alice.node, now)
    const forgedAsBob = triple('user:own', bob.node, now)
    // Signed by Mallory but claiming Alice's and Bob's stamps: Mallory may not sign them; its own batch goes through.
    let r = b.applyChecked([honest, forgedAsAlice, forgedAsBob], {
      via: mallory.node,
      seals: pageOf([[[honest], mallory.signer], [[forgedAsAlice, forgedAsBob], mallory.signer]])
    })
    assert.deepEqual(r.refused.map(f => f.reason), ['not-signer', 'not-signer'])
    assert.deepEqual(r.changed.map(e => (e.record as TripleRecord).subject), ['user:honest'])
    // Unsigned, claiming nodes known to sign (Alice; Bob itself): refused.
    r = b.applyChecked([forgedAsAlice, forgedAsBob], { via: mallory.node })
    assert.deepEqual(r.refused.map(f => f.reason), ['unsigned', 'unsigned'])
    // Signed by Alice, one bit of the signature flipped: refused.
    const real = triple('user:real', alice.node, now)
    const seals = signedPage([real], alice.signer)
    const sig = new Uint8Array(seals.batches[0]!.sig)
    sig[5]! ^= 0x10
    r = b.applyChecked([real], { via: mallory.node, seals: { ...seals, batches: [{ ...seals.batches[0]!, sig }] } })
    assert.deepEqual(r.refused.map(f => f.reason), ['bad-signature'])
    assert.equal(b.store.get('triple', real.id), undefined)
    assert.equal(b.store.get('triple', forgedAsAlice.id), undefined)
    assert.equal(b.store.get('triple', forgedAsBob.id), undefined)
    assert.deepEqual(b.provenance.counters.refused, { 'bad-signature': 1, 'not-signer': 2, unsigned: 2, revoked: 0, system: 0 })
    const listed = b.provenance.refusals.list()
    assert.equal(listed.length, 5)
    assert.deepEqual(listed.map(e => e.via), Array(5).fill(mallory.node))
    // An unsigned copy of a state Bob holds, or of an older one, is dropped quietly (an older relay sent it back).
    const held = a.store.getNote('k')!
    r = b.applyChecked([held, { ...held, value: 0, hlc: { ...held.hlc, wall: held.hlc.wall - 1 } }], { via: mallory.node })
    assert.deepEqual([r.refused.length, r.changed.length], [0, 0])
  })

  it('checks a page\'s signatures ahead, a batch at a time, and does not check them again when applying it', async () => {
    let verifications = 0
    const counting = new class extends NodeKeyVerifier {
      override verify (signer: NodeId, message: Uint8Array, sig: Uint8Array): boolean { verifications++; return super.verify(signer, message, sig) }
    }()
    const b = new Engine({ store: new MemoryStore(), node: bob.node, maxDriftMs: 60_000, now: () => now, signer: bob.signer, verifier: counting })
    const singles = Array.from({ length: 300 }, (_, i) => triple(`user:single${i}`, alice.node, now - i))
    const seals = pageOf(singles.map(r => [[r], alice.signer] as [MemoryRecord[], Signer]))
    const bad = new Uint8Array(seals.batches[7]!.sig)
    bad[0]! ^= 1
    const tampered = { ...seals, batches: seals.batches.map((x, i) => (i === 7 ? { ...x, sig: bad } : x)) }
    await b.verifyAhead(singles, tampered)
    assert.equal(verifications, 300)
    const r = b.applyChecked([...singles], { via: alice.node, seals: tampered })
    assert.equal(verifications, 300, 'not checked again')
    assert.deepEqual([r.changed.length, r.refused.map(f => f.reason)], [299, ['bad-signature']])
  })

  it('takes unsigned records of nodes not known to sign, unless signatures are required', () => {
    const legacy = triple('user:old', carol.node, now)
    const b = engine(bob)
    let r = b.applyChecked([legacy], { via: carol.node })
    assert.deepEqual([r.changed.length, b.provenance.counters.unsignedAccepted], [1, 1])
    assert.equal(b.store.getState('triple', legacy.id)!.seal, undefined)
    // The signed copy of the same state replaces the unsigned one.
    r = b.applyChecked([legacy], { via: carol.node, seals: signedPage([legacy], carol.signer) })
    assert.equal(r.changed.length, 1)
    assert.notEqual(b.store.getState('triple', legacy.id)!.seal, undefined)
    const strict = engine(bob, { require: true })
    r = strict.applyChecked([triple('user:new', carol.node, now)], { via: carol.node })
    assert.deepEqual(r.refused.map(f => f.reason), ['unsigned'])
  })

  it('accepts a derived deletion signed by the node that derived it', () => {
    const b = engine(bob)
    const c = engine(carol)
    c.addTriples([{ subject: 'user:z', predicate: 'likes', object: 'tea' }])
    relay(c, b)
    const t = c.store.queryTriples({ subject: 'user:z' }, { limit: 1, offset: 0 }).triples[0]!
    const tomb = { ...t, deleted: true }
    const a = engine(alice)
    relay(c, a)
    a.applyChecked([tomb], { via: carol.node, derived: true })
    const r = relay(a, b)
    assert.equal(r.refused.length, 0)
    assert.equal(b.store.getTriple(t.id)!.deleted, true)
    assert.equal(b.store.getBatch(b.store.getState('triple', t.id)!.seal!.batch)!.header.signer, alice.node)
  })

  it('honors a revocation it issued, or one issued by a quorum of others; never one of itself', () => {
    const b = engine(bob, { quorum: 2 })
    const before = triple('user:before', carol.node, now - 1000)
    const after = triple('user:after', carol.node, now + 10)
    const m = engine(mallory)
    m.revoke(carol.node, { after: now })
    m.revoke(bob.node, { after: 0, reason: 'no reason' })
    relay(m, b)
    assert.equal(b.provenance.revocations.revokedAfter(carol.node), undefined, 'one issuer is not a quorum')
    assert.equal(b.provenance.revocations.revokedAfter(bob.node), undefined, 'never itself')
    const a = engine(alice)
    a.revoke(carol.node, { after: now - 500 })
    relay(a, b)
    assert.equal(b.provenance.revocations.revokedAfter(carol.node), now, 'the second issuer\'s time: both agree from then')
    const r = b.applyChecked([before, after], { via: carol.node, seals: signedPage([before, after], carol.signer) })
    assert.deepEqual(r.refused.map(f => [f.reason, (f.record as TripleRecord).subject]), [['revoked', 'user:after']])
    assert.ok(b.store.get('triple', before.id) !== undefined)
    const status = b.provenance.revocations.list()
    assert.equal(status.find(s => s.target === bob.node)?.pending?.includes('never refuses its own'), true)
    // Issued here: effective at once.
    const own = engine(alice, { quorum: 16 })
    own.revoke(mallory.node, { after: now })
    assert.equal(own.provenance.revocations.revokedAfter(mallory.node), now)
    own.withdrawRevocation(mallory.node)
    assert.equal(own.provenance.revocations.revokedAfter(mallory.node), undefined)
  })

  it('publishes node names, and refuses a name or revocation written for another node', () => {
    const a = engine(alice)
    const b = engine(bob)
    a.publishName('laptop')
    assert.equal(a.publishName('laptop'), undefined, 'unchanged: not written again')
    relay(a, b)
    assert.equal(b.provenance.names.nameOf(alice.node), 'laptop')
    const forged: NoteRecord = { kind: 'note', key: nameKey(alice.node), value: { name: 'evil' }, hlc: { wall: now + 1, counter: 0, node: mallory.node }, deleted: false }
    const r = b.applyChecked([forged], { via: mallory.node, seals: signedPage([forged], mallory.signer) })
    assert.deepEqual(r.refused.map(f => f.reason), ['system'])
    assert.equal(b.provenance.names.nameOf(alice.node), 'laptop')
    assert.throws(() => a.setNote('_engram:name:x', 1), /written by engram itself/)
  })

  it('signs its own states written before it signed, as the same states at new seqs', async () => {
    const store = new MemoryStore()
    const unsigned = new Engine({ store, node: alice.node, maxDriftMs: 60_000, now: () => now })
    unsigned.addTriples([{ subject: 'user:1', predicate: 'p', object: 'o' }, { subject: 'user:2', predicate: 'p', object: 'o' }])
    unsigned.setNote('k', 1)
    store.apply([triple('user:other', carol.node, now)], { clock: { wall: now, counter: 0 }, via: carol.node })
    const before = store.dump()
    const signing = new Engine({ store, node: alice.node, maxDriftMs: 60_000, now: () => now, signer: alice.signer, verifier })
    const progress: number[] = []
    assert.equal(await signing.sealOwnStates(n => progress.push(n), 2), 3)
    assert.deepEqual(progress, [2, 3])
    assert.deepEqual(store.dump(), before)
    assert.equal(store.provenanceStats().unsigned, 1, 'the other node\'s state stays unsigned')
    assert.equal(await signing.sealOwnStates(), 0)
    // Peers that held them unsigned take the signed copies.
    const b = engine(bob)
    b.applyChecked(before, { via: alice.node })
    const r = relay(signing, b)
    assert.equal(r.changed.length, 3)
    assert.equal(b.store.provenanceStats().unsigned, 1)
  })

  it('reverts a record, and one origin\'s window, as new writes', () => {
    now = T0 + 100_000
    const a = engine(alice)
    const b = engine(bob)
    a.setNote('k', 'v1')
    a.addTriples([{ subject: 'user:keep', predicate: 'p', object: 'o' }])
    relay(a, b)
    now += 1000
    const from = now
    b.setNote('k', 'v2')
    b.addTriples([{ subject: 'user:new', predicate: 'p', object: 'o' }])
    b.deleteTriples({ subject: 'user:keep' })
    now += 1000
    a.setNote('other', 'x')
    relay(a, b)
    const dry = b.history.revertWindow(bob.node, from, now, { dryRun: true })
    assert.equal(dry.written.length, 3)
    assert.equal(b.store.getNote('k')!.value, 'v2', 'a dry run writes nothing')
    const done = b.history.revertWindow(bob.node, from, now)
    assert.deepEqual([done.written.length, done.unchanged, done.skipped.length], [3, 0, 0])
    assert.equal(b.store.getNote('k')!.value, 'v1')
    assert.equal(b.store.queryTriples({}, { limit: 10, offset: 0 }).triples.map(t => t.subject).join(), 'user:keep')
    assert.equal(b.store.getNote('other')!.value, 'x', 'another origin\'s writes stay')
    // Revert of one record: back to the state before its last change.
    b.history.revertRecord('note', 'k')
    assert.equal(b.store.getNote('k')!.value, 'v2')
    assert.throws(() => b.history.revertRecord('note', 'missing'), /not found/)
    assert.throws(() => b.history.checkAsOf(now - 31 * 86_400_000), /oldest time history covers/)
  })
})
