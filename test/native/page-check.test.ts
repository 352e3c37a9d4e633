/**
 * A page's checks beside the session's thread (src/protocol/native/pageCheck.ts, the port
 * src/sync/native/PageChecker.ts and its in-process twin InlinePageChecker.ts), deterministic:
 *
 * - the checks refuse exactly what the session's own checks refuse, with the same error;
 * - a page with one bad row among good ones is refused whole: nothing of it, nor of the pages
 *   after it, is applied;
 * - a page with one bad signature among good ones: the gate refuses that batch's records and
 *   applies the rest, exactly as when the session verified the page itself;
 * - pages apply in the order they were received, whichever way and however fast each was checked.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { isEngramError } from '../../src/core/errors.ts'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import type { MemoryRecord, Term } from '../../src/core/model.ts'
import { makeTrace, makeTriple } from '../../src/core/records.ts'
import type { BatchProof, PageSeals } from '../../src/core/seals.ts'
import { sealBatch, type Signer } from '../../src/core/signing.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { NodeKeyVerifier, newSigningIdentity } from '../../src/node/keys.ts'
import { compressFrame, CODEC_ZSTD } from '../../src/protocol/native/compression.ts'
import { decodeBody, encodeMessage, frameBody, startsAsChanges, type ChangesMessage, type UncheckedChanges } from '../../src/protocol/native/messages.ts'
import { checkChangesBody, type PageCheck } from '../../src/protocol/native/pageCheck.ts'
import { applyPeerPage } from '../../src/replication/applyPage.ts'
import { FAR_BEHIND } from '../../src/replication/farBehind.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { sendCheck, takeCheck } from '../../src/sync/native/checkedPageTransfer.ts'
import { InlinePageChecker } from '../../src/sync/native/InlinePageChecker.ts'
import { PageIntake } from '../../src/sync/native/PageIntake.ts'
import { MemoryNetwork } from '../../src/transport/memory/MemoryTransport.ts'
import { eventually } from '../support/eventually.ts'
import { sameDumps, simNode } from './helpers.ts'

const FEED = '0123456789abcdef0123456789abcdef'

/** `count` triples stamped by `signer`, from `first` on. */
function triples (node: NodeId, first: number, count: number): MemoryRecord[] {
  const wall = 1_790_000_000_000
  return Array.from({ length: count }, (_, i) => makeTriple({ subject: `user:u${first + i}`, predicate: 'rel:p', object: { kind: 'string', value: `v${first + i}` } }, { wall, counter: first + i, node }))
}

/** The page's records signed by `signer` in batches of `per`, as a page carries them (every leaf of a batch: no proof needed). */
function signed (records: readonly MemoryRecord[], signer: Signer, per: number): PageSeals {
  const batches: BatchProof[] = []
  const refs = []
  for (let b = 0; b * per < records.length; b++) {
    const part = records.slice(b * per, (b + 1) * per)
    const s = sealBatch(part, signer, { wall: part.at(-1)!.hlc.wall, counter: part.at(-1)!.hlc.counter })
    batches.push({ signer: s.header.signer, at: s.header.at, n: s.header.n, sig: s.sig, proof: [] })
    for (let leaf = 0; leaf < part.length; leaf++) refs.push({ batch: b, leaf })
  }
  return { batches, refs }
}

const page = (from: number, records: readonly MemoryRecord[], seals?: PageSeals): ChangesMessage =>
  ({ t: 'changes', from, to: from + records.length, more: true, records, ...(seals !== undefined ? { seals } : {}) })

/** A frame's body, with row `bad` (when given) broken: its subject a number. */
function bodyOf (msg: ChangesMessage, bad?: number): Uint8Array {
  if (bad === undefined) return frameBody(encodeMessage(msg))
  const records = msg.records.map((r, i) => (i === bad ? { ...r, subject: 42 } : r)) as unknown as MemoryRecord[]
  return frameBody(encodeMessage({ ...msg, records }))
}

/** What the session's own checks (PageIntake without a checker) make of a body: the page, or the error. */
async function ownChecks (body: Uint8Array, engine?: Engine): Promise<{ page?: ChangesMessage, error?: unknown }> {
  let decoded
  try {
    decoded = decodeBody(body, { deferRecords: true }) as UncheckedChanges
  } catch (error) {
    return { error }
  }
  return await new Promise(resolve => {
    const intake = new PageIntake({
      isOpen: () => true,
      apply: page => { resolve({ page }) },
      ...(engine !== undefined ? { verify: (records, seals) => engine.verifyAhead(records, seals) } : {}),
      fail: async error => { resolve({ error }) }
    })
    intake.push(decoded)
  })
}

/** The check result as it comes out of a worker: through the form that crosses threads. */
const crossed = (check: PageCheck): PageCheck => takeCheck(structuredClone(sendCheck(check)))

describe('page checks beside the session', () => {
  let ids: Array<{ node: NodeId, signer: Signer }>
  before(async () => { ids = await Promise.all([0, 1].map(() => newSigningIdentity())) })

  it('tells a changes frame from the others by its first bytes, plain or compressed', () => {
    const changes = encodeMessage(page(0, triples(asNodeId('n1'), 0, 300)))
    assert.ok(startsAsChanges(frameBody(changes)))
    const compressed = compressFrame(changes, CODEC_ZSTD)
    assert.notEqual(compressed[0], changes[0], 'the page was compressed')
    assert.ok(startsAsChanges(frameBody(compressed)))
    for (const other of [{ t: 'ack', cursor: 7 }, { t: 'cursor', cursor: 0, feed: FEED }] as const) {
      assert.equal(startsAsChanges(frameBody(encodeMessage(other))), false, other.t)
    }
    assert.equal(startsAsChanges(new Uint8Array([0x81, 0xa1, 0x74])), false, 'too short')
  })

  it('gives the page the session\'s own checks give: the same records, seals and verified signatures', async () => {
    const { node, signer } = ids[0]!
    const records = triples(node, 0, 500)
    const msg = page(0, records, signed(records, signer, 200))
    const body = bodyOf(msg)
    const own = await ownChecks(body.slice())
    const check = crossed(checkChangesBody(body, new NodeKeyVerifier()))
    assert.ok(check.ok)
    assert.deepEqual(check.page.msg, own.page)
    assert.equal(check.page.verified?.batches.length, 3)
    assert.ok(check.page.verified.checks.every(c => c?.ok === true))
    // the tree hashes came back as a usable KnownHashes: every leaf of the first batch
    assert.equal(check.page.verified.batches[0]!.known.size >= 200, true)
    assert.ok(check.page.verified.batches[0]!.known.get(199, 1) instanceof Uint8Array)
  })

  it('every kind of record and object crosses threads as the checks built it', async () => {
    const { node, signer } = ids[0]!
    const other = asNodeId('n2')
    const hlc = (counter: number, by: NodeId = node): { wall: number, counter: number, node: NodeId } => ({ wall: 1_790_000_000_000, counter, node: by })
    const objects: Term[] = [
      { kind: 'string', value: 'plain' }, { kind: 'node', value: 'user:x' }, { kind: 'lang', value: 'bonjour', lang: 'fr' },
      { kind: 'number', value: 2.5 }, { kind: 'boolean', value: false }, { kind: 'datetime', value: '2026-01-02T03:04:05.678Z' },
      { kind: 'json', value: { a: [1, null, 'x'], b: { c: true } } }, { kind: 'lang', value: 'hello', lang: 'en-GB' }
    ]
    const records: MemoryRecord[] = [
      ...objects.map((object, i) => makeTriple({ subject: `user:t${i}`, predicate: 'rel:p', object }, hlc(i, i % 2 === 0 ? node : other), i === 3)),
      { kind: 'note', key: 'cfg:a', value: { x: [1, 2] }, hlc: hlc(20), deleted: false },
      { kind: 'note', key: 'cfg:b', value: null, hlc: hlc(21), deleted: true },
      { kind: 'episode', id: 'ep:1', data: { summary: 's', tags: ['a'] }, hlc: hlc(22) },
      makeTrace('run:1', 'step', { n: 1 }, hlc(23))
    ]
    // the first four signed, the rest not
    const seals = signed(records.slice(0, 4), signer, 4)
    const msg: ChangesMessage = { ...page(0, records, { batches: seals.batches, refs: [...seals.refs, ...records.slice(4).map(() => undefined)] }), k: [{ node, wall: 5, counter: 1, generation: 0 }] }
    const body = bodyOf(msg)
    const own = await ownChecks(body.slice())
    const check = crossed(checkChangesBody(body, new NodeKeyVerifier()))
    assert.ok(check.ok)
    assert.deepEqual(check.page.msg, own.page)
    assert.deepEqual(check.page.msg.records.map(r => JSON.stringify(r)), own.page!.records.map(r => JSON.stringify(r)), 'the same fields in the same order')
    const direct = checkChangesBody(bodyOf(msg), new NodeKeyVerifier())
    assert.ok(direct.ok && direct.page.verified !== undefined)
    assert.deepEqual(check.page.verified?.checks, direct.page.verified.checks, 'every record\'s seal check, signed and unsigned')
  })

  it('refuses what the session\'s own checks refuse, with the same error, code and field', async () => {
    const node = asNodeId('n1')
    const good = page(0, triples(node, 0, 50))
    const cases: Array<[string, Uint8Array]> = [
      ['a bad row', bodyOf(good, 17)],
      ['not msgpack', new Uint8Array([0xc1, 0xc1, 0xc1])],
      ['to below from', frameBody(encodeMessage({ ...good, from: 60, to: 50 }))]
    ]
    for (const [what, body] of cases) {
      const own = await ownChecks(body.slice())
      const check = crossed(checkChangesBody(body, undefined))
      assert.equal(check.ok, false, what)
      assert.ok(!check.ok && isEngramError(own.error) && isEngramError(check.error))
      assert.deepEqual([check.error.code, check.error.message, check.error.details], [own.error.code, own.error.message, own.error.details], what)
    }
    const bad = crossed(checkChangesBody(bodyOf(good, 17), undefined))
    assert.ok(!bad.ok && bad.during === 'changes' && bad.error.message.startsWith('changes.records[17]'))
    const garbled = crossed(checkChangesBody(new Uint8Array([0xc1]), undefined))
    assert.ok(!garbled.ok && garbled.during === 'decode')
    const ack = crossed(checkChangesBody(frameBody(encodeMessage({ t: 'ack', cursor: 1 })), undefined))
    assert.ok(!ack.ok && ack.during === 'decode' && ack.error.code === 'PROTOCOL', 'another message where a page was expected')
  })

  it('a page with one bad signature among good ones: that batch is refused and the rest applied, as when the session verified it', async () => {
    const { node, signer } = ids[0]!
    const peer = ids[1]!.node
    const records = triples(node, 0, 300)
    const seals = signed(records, signer, 100)
    const sig = new Uint8Array(seals.batches[1]!.sig)
    sig[5]! ^= 1
    const tampered: PageSeals = { ...seals, batches: seals.batches.map((b, i) => (i === 1 ? { ...b, sig } : b)) }
    const body = bodyOf(page(0, records, tampered))
    const receiver = (): Engine => new Engine({ store: new MemoryStore(), node: asNodeId('receiver'), maxDriftMs: 60_000, verifier: new NodeKeyVerifier() })
    const apply = (engine: Engine, msg: ChangesMessage): void => {
      applyPeerPage(engine, { peer, records: msg.records, seals: msg.seals, view: { node: peer, cursor: 0, namespaces: null }, cursor: { seq: msg.to, feedId: FEED } })
    }
    // the session's own checks
    const own = receiver()
    const ownPage = (await ownChecks(body.slice(), own)).page!
    apply(own, ownPage)
    // checked beside it: the worker's result taken as verifyAhead's
    const beside = receiver()
    const check = crossed(checkChangesBody(body, new NodeKeyVerifier()))
    assert.ok(check.ok && check.page.verified !== undefined && check.page.msg.seals !== undefined)
    await beside.acceptVerified(check.page.msg.records, check.page.msg.seals, check.page.verified)
    apply(beside, check.page.msg)
    for (const e of [own, beside]) {
      assert.equal(e.store.stats().triples, 200, 'the two good batches are applied')
      assert.equal(e.store.getState('triple', records[150]!.kind === 'triple' ? records[150]!.id : '')?.record, undefined, 'nothing of the tampered batch')
      assert.equal(e.provenance.counters.refused['bad-signature'], 100)
      assert.equal(e.provenance.counters.signedAccepted, 200)
    }
    assert.deepEqual(beside.store.changesSince(0, { limit: 1000 }).entries.map(x => x.record), own.store.changesSince(0, { limit: 1000 }).entries.map(x => x.record))
  })

  it('applies pages in the order they were received, whichever way and however fast each was checked; a page refused stops the rest', async () => {
    const node = asNodeId('n1')
    const pages = [0, 1, 2, 3, 4].map(n => page(n * 10, triples(node, n * 10, 10)))
    const applied: number[] = []
    const failures: Array<{ error: unknown, during: string | undefined }> = []
    let open = true
    const intake = new PageIntake({
      isOpen: () => open,
      apply: msg => { applied.push(msg.from) },
      fail: async (error, during) => { failures.push({ error, during }); open = false }
    })
    const checker = new InlinePageChecker(undefined)
    // page 0 by the checker, slowest; page 1 by the session itself; page 2 by the checker, at once
    let release!: () => void
    const slow = new Promise<void>(resolve => { release = resolve })
    intake.pushChecking(slow.then(() => checker.check(bodyOf(pages[0]!))))
    intake.push(decodeBody(bodyOf(pages[1]!), { deferRecords: true }) as UncheckedChanges)
    intake.pushChecking(checker.check(bodyOf(pages[2]!)))
    // page 3 has a bad row; page 4 is good but comes after it
    intake.pushChecking(checker.check(bodyOf(pages[3]!, 4)))
    intake.pushChecking(checker.check(bodyOf(pages[4]!)))
    await eventually(() => checker.checked === 3, 'the checker checked the three pages after the first')
    assert.deepEqual(applied, [], 'nothing applied before the first page received')
    release()
    await eventually(() => failures.length === 1, 'the refused page failed the session')
    assert.deepEqual(applied, [0, 10, 20], 'the pages before the refused one, in the order received')
    const { error, during } = failures[0]!
    assert.ok(isEngramError(error) && error.code === 'PROTOCOL' && error.message.startsWith('changes.records[4]'), String(error))
    assert.equal(during, 'changes')
  })

  it('a checker that fails (not the peer\'s fault) fails the session with its error; nothing of that page is applied', async () => {
    const node = asNodeId('n1')
    const applied: number[] = []
    const failures: unknown[] = []
    const intake = new PageIntake({ isOpen: () => failures.length === 0, apply: msg => { applied.push(msg.from) }, fail: async e => { failures.push(e) } })
    const checker = new InlinePageChecker(undefined)
    intake.pushChecking(checker.check(bodyOf(page(0, triples(node, 0, 5)))))
    intake.pushChecking(Promise.reject(new Error('the page checks\' worker exited (code 1)')))
    intake.pushChecking(checker.check(bodyOf(page(5, triples(node, 5, 5)))))
    await eventually(() => failures.length === 1, 'the session failed')
    assert.deepEqual(applied, [0])
    assert.match(String(failures[0]), /worker exited/)
  })

  it('a signed copy in the simulation, every page checked by the in-process twin, ends with identical stores', async () => {
    const net = new MemoryNetwork()
    const [ia, ib] = ids
    const a = simNode(net, ia!.node, { identity: ia })
    const checker = new InlinePageChecker(new NodeKeyVerifier())
    const b = simNode(net, ib!.node, { identity: ib, pageChecker: checker })
    try {
      a.engine.addTriples(Array.from({ length: 450 }, (_, i) => ({ subject: `user:u${i}`, predicate: 'rel:p', object: `v${i}` })))
      await a.sync.start()
      await b.sync.start()
      b.sync.addPeer(`mem:${a.id}`)
      await eventually(() => b.store.stats().triples === 450, () => `B holds ${b.store.stats().triples} of 450 triples`)
      assert.ok(sameDumps([a, b]), 'identical dumps')
      assert.ok(checker.checked >= 2, `the pages went through the checker (${checker.checked})`)
      assert.equal(b.engine.provenance.counters.signedAccepted, 450)
    } finally {
      await Promise.all([a.sync.stop(), b.sync.stop()])
    }
  })

  it('a copy that is never far behind is checked on the main thread: the checker is not asked', async () => {
    const net = new MemoryNetwork()
    const a = simNode(net, 'a')
    const checker = new InlinePageChecker(undefined, 0, FAR_BEHIND)
    const b = simNode(net, 'b', { pageChecker: checker })
    try {
      a.engine.addTriples(Array.from({ length: 450 }, (_, i) => ({ subject: `user:u${i}`, predicate: 'rel:p', object: `v${i}` })))
      await a.sync.start()
      await b.sync.start()
      b.sync.addPeer(`mem:${a.id}`)
      await eventually(() => b.store.stats().triples === 450, () => `B holds ${b.store.stats().triples} of 450 triples`)
      assert.equal(checker.checked, 0)
    } finally {
      await Promise.all([a.sync.stop(), b.sync.stop()])
    }
  })
})
