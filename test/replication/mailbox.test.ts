/**
 * The mailbox in one process, over `MemoryMailbox` and `MailboxHost` with the exchange called
 * directly (no transport): a member deposits its own writes (a deletion included) and another
 * converges from the mailbox alone; pages from other members are not deposited again; the
 * records of a writer that never reaches the mailbox get there through a member that holds them,
 * and another member holding them too leaves them to it; a node
 * with another seed pulls nothing; a changed page is refused, counted and logged, the rest
 * applied; a full mailbox drops its oldest pages with the documented log line. Signed records
 * pass the gate: kept signed; records a member forged in a page it sealed (as another node's,
 * signed by itself, unsigned, or with a flipped signature bit) refused, counted, not written.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { NodeId, TripleId } from '../../src/core/ids.ts'
import type { MemoryRecord } from '../../src/core/model.ts'
import { makeTriple } from '../../src/core/records.ts'
import type { PageSeals } from '../../src/core/seals.ts'
import { seedKeysFromRoot } from '../../src/core/seedKeys.ts'
import { sealBatch, type Signer } from '../../src/core/signing.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { newSigningIdentity, NodeKeyVerifier } from '../../src/node/keys.ts'
import { encodePagePlaintext, encodeRequest } from '../../src/protocol/mailbox/messages.ts'
import { sealPage } from '../../src/protocol/mailbox/seal.ts'
import { MemoryMailbox } from '../../src/store/mailbox/MemoryMailbox.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { MailboxHost } from '../../src/sync/mailbox/MailboxHost.ts'
import { MailboxSync, type MailboxLink } from '../../src/sync/mailbox/MailboxSync.ts'
import { createLogger } from '../../src/util/log.ts'
import { canonicalDump, dumpDifference } from '../support/dumps.ts'

const KEYS = seedKeysFromRoot(new Uint8Array(32).fill(1))
const OTHER_KEYS = seedKeysFromRoot(new Uint8Array(32).fill(2))
const A = '12D3KooWAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' as NodeId
const B = '12D3KooWBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB' as NodeId
const C = '12D3KooWCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC' as NodeId
const D = '12D3KooWDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD' as NodeId

function logs (): { lines: string[], log: ReturnType<typeof createLogger> } {
  const lines: string[] = []
  return { lines, log: createLogger({ level: 'debug', sink: l => { lines.push(l) } }) }
}

/** A member with a fresh store (its engine signing with `signer`, when given), or a restarted one over `engine` (its store kept). */
function member (node: NodeId, host: MailboxHost, keys = KEYS, tamper?: (frame: Uint8Array) => Uint8Array, signer?: Signer,
  engine = new Engine({ store: new MemoryStore(), node, maxDriftMs: 60_000, ...(signer !== undefined ? { signer, verifier: new NodeKeyVerifier() } : {}) })
): { engine: Engine, sync: MailboxSync, lines: string[] } {
  const link: MailboxLink = {
    relays: () => ['relay'],
    exchange: async (_relay, request) => host.answer(node, request).map(f => tamper?.(f) ?? f)
  }
  const { lines, log } = logs()
  return { engine, sync: new MailboxSync({ engine, link, keys, log, intervalMs: 1000, pageRecords: 100 }), lines }
}

function write (e: Engine, n: number, tag: string): TripleId[] {
  return e.addTriples(Array.from({ length: n }, (_, i) => ({ subject: `ex:${tag}-${i}`, predicate: 'ex:p', object: `${tag} ${i}` }))).map(t => t.id)
}

/** A mailbox large enough for every test here, and its host. */
function bigMailbox (): { box: MemoryMailbox, host: MailboxHost } {
  const box = new MemoryMailbox({ maxBytes: 64 * 1024 * 1024, retentionMs: 3_600_000 })
  return { box, host: new MailboxHost(box, logs().log) }
}

/** `n` triples written on `e`, the first `deleted` of them then deleted; their ids. */
function writeAndDelete (e: Engine, n: number, tag: string, deleted: number): TripleId[] {
  const ids = write(e, n, tag)
  for (const id of ids.slice(0, deleted)) e.deleteTriple(id)
  return ids
}

function assertSameStores (x: Engine, y: Engine, names: [string, string]): void {
  const dx = canonicalDump(x.store)
  const dy = canonicalDump(y.store)
  assert.deepEqual(dy, dx, dumpDifference(dx, dy, names))
}

describe('mailbox sync in one process', () => {
  it('a member converges from the mailbox alone, deletions included; nothing is deposited twice', async () => {
    const { box, host } = bigMailbox()
    const a = member(A, host)
    writeAndDelete(a.engine, 450, 'a', 20)
    await a.sync.round()
    assert.equal(a.sync.counts.deposited, 5, '470 changes in pages of 100')
    assert.equal(a.sync.counts.depositedBytes, box.usage().bytes, 'the bytes deposited are the bytes the mailbox holds')
    const b = member(B, host)
    await b.sync.round()
    assertSameStores(a.engine, b.engine, ['A', 'B'])
    assert.deepEqual([b.sync.counts.pulled, b.sync.counts.pulledBytes], [5, a.sync.counts.depositedBytes], 'B pulled those pages')
    const pages = box.usage().pages
    await b.sync.round()
    await a.sync.round()
    assert.equal(box.usage().pages, pages, 'B deposits none of A\'s records; A takes nothing back')
    write(b.engine, 3, 'b')
    await b.sync.round()
    await a.sync.round()
    assert.deepEqual(canonicalDump(a.engine.store), canonicalDump(b.engine.store))
  })

  it('records of a writer that never reaches the mailbox get there through a member holding them, once', async () => {
    const { box, host } = bigMailbox()
    // C writes and reaches A and D directly, never the mailbox
    const c = member(C, host)
    const ids = writeAndDelete(c.engine, 150, 'c', 5)
    const fromC = c.engine.store.changesSince(0, { limit: 1_000 }).entries.map(e => e.record)
    const a = member(A, host)
    const d = member(D, host)
    write(a.engine, 20, 'a')
    a.engine.applyChecked(fromC, { via: C })
    d.engine.applyChecked(fromC, { via: C })
    await a.sync.round()
    assert.equal(a.sync.counts.deposited, 2, 'A deposits its 20 records and C\'s 155')
    const pages = box.usage().pages
    await d.sync.round()
    assert.equal(d.sync.counts.applied, 20, 'D took A\'s records; C\'s it held already')
    assert.deepEqual([d.sync.counts.deposited, box.usage().pages], [0, pages], 'D leaves C\'s records to A, who covers them')
    // B reaches the mailbox alone
    const b = member(B, host)
    await b.sync.round()
    assertSameStores(a.engine, b.engine, ['A', 'B'])
    assert.equal(b.engine.store.getTriple(ids[2]!)?.deleted, true, 'C\'s deletion reached B')
    // A keeps covering C: C's later writes reach the mailbox through A again; D, restarted, still
    // leaves them to A (what it saw covered is kept in its store)
    const late = c.engine.addTriples([{ subject: 'ex:late', predicate: 'ex:p', object: 'late' }]).map(t => c.engine.store.getTriple(t.id)!)
    a.engine.applyChecked(late, { via: C })
    d.engine.applyChecked(late, { via: C })
    const d2 = member(D, host, KEYS, undefined, undefined, d.engine)
    await d2.sync.round()
    assert.deepEqual([d2.sync.counts.deposited, box.usage().pages], [0, pages])
    await a.sync.round()
    await b.sync.round()
    assert.deepEqual(canonicalDump(b.engine.store), canonicalDump(a.engine.store))
    assert.equal(box.usage().pages, pages + 1)
  })

  it('a node with another seed pulls nothing; a changed page is refused and logged, the others applied', async () => {
    const { host } = bigMailbox()
    const a = member(A, host)
    write(a.engine, 250, 'a')
    await a.sync.round()
    const w = member(B, host, OTHER_KEYS)
    await w.sync.round()
    assert.equal(w.sync.counts.pulled, 0)
    assert.equal(w.engine.store.stats().triples, 0)
    let first = true
    const c = member(C, host, KEYS, f => {
      if (f[0] !== 0x82 || !first) return f
      first = false
      const t = f.slice()
      t[t.length - 1] = (t[t.length - 1] as number) ^ 0x80
      return t
    })
    await c.sync.round()
    assert.deepEqual([c.sync.counts.pulled, c.sync.counts.refused], [3, 1])
    assert.equal(c.engine.store.stats().triples, 150)
    assert.ok(c.lines.some(l => /warn .*refused a mailbox page: it does not open \(tampered, or forged\).*writer=12D3KooWA/.test(l)), c.lines.join('\n'))
  })

  it('signed records pass the gate: kept signed; records a member forged in a page it sealed are refused, counted and not written', async () => {
    const box = new MemoryMailbox({ maxBytes: 64 * 1024 * 1024, retentionMs: 3_600_000 })
    const host = new MailboxHost(box, logs().log)
    const [ia, ib, im] = await Promise.all([newSigningIdentity(), newSigningIdentity(), newSigningIdentity()])
    const a = member(ia.node, host, KEYS, undefined, ia.signer)
    const b = member(ib.node, host, KEYS, undefined, ib.signer)
    write(a.engine, 150, 'a')
    await a.sync.round()
    await b.sync.round()
    assert.equal(b.engine.store.stats().triples, 150)
    assert.equal(b.engine.store.provenanceStats().unsigned, 0, 'every record pulled is kept with its signature')
    assert.equal(b.engine.provenance.counters.signedAccepted, 150)

    // Mallory holds the group's key: it seals a page as A's, of live triples stamped as A's.
    const at = { wall: Date.now(), counter: 0 }
    const forged = (tag: string): MemoryRecord => makeTriple({ subject: `ex:forged-${tag}`, predicate: 'ex:p', object: { kind: 'string', value: tag } }, { ...at, node: ia.node })
    const records = [forged('signed-by-mallory'), forged('unsigned'), forged('flipped')]
    const byMallory = sealBatch([records[0]!], im.signer, at)
    const byA = sealBatch([records[2]!], ia.signer, at)
    const flipped = byA.sig.slice()
    flipped[0] = flipped[0]! ^ 0x01
    const seals: PageSeals = {
      batches: [{ signer: im.node, at, n: 1, sig: byMallory.sig, proof: [] }, { signer: ia.node, at, n: 1, sig: flipped, proof: [] }],
      refs: [{ batch: 0, leaf: 0 }, undefined, { batch: 1, leaf: 0 }]
    }
    const page = sealPage({ key: KEYS.seal, keyId: KEYS.keyId }, ia.node, 1000, 1002, encodePagePlaintext(records, seals))
    host.answer(im.node, encodeRequest({ op: 'deposit', page }))
    await b.sync.round()
    assert.equal(b.sync.counts.refused, 0, 'the page opens: the group\'s key is all it needs')
    assert.deepEqual(b.engine.provenance.counters.refused, { 'bad-signature': 1, 'not-signer': 1, unsigned: 1, revoked: 0, system: 0 })
    assert.equal(b.engine.store.stats().triples, 150, 'nothing forged is written')
    assert.equal(b.engine.provenance.refusals.list().length, 3, 'the refused records are listed for review')
  })

  it('a full mailbox drops its oldest pages and says so', async () => {
    const box = new MemoryMailbox({ maxBytes: 20_000, retentionMs: 3_600_000 })
    const { lines, log } = logs()
    const a = member(A, new MailboxHost(box, log))
    write(a.engine, 500, 'a')
    await a.sync.round()
    assert.ok(box.usage().bytes <= 20_000, a.lines.join('\n'))
    assert.ok(lines.some(l => /warn +mailbox full: dropped the \d+ oldest pages \(\d+ bytes\)/.test(l)), lines.join('\n'))
  })
})
