/**
 * The mailbox protocol's messages and page plaintext: every message round-trips; malformed frames
 * are PROTOCOL errors; a page's records round-trip through sealing and come back checked, with
 * their signatures; a row that is not a record, or a malformed batch, is refused; pages are cut
 * along the feed.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { isEngramError } from '../../src/core/errors.ts'
import { seedKeys } from '../../src/core/seedKeys.ts'
import { sealPage as pageSignatures, verifyPage } from '../../src/core/seals.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { newSigningIdentity, NodeKeyVerifier } from '../../src/node/keys.ts'
import {
  MAX_PULL_PAGES, cutPages, decodeAnswer, decodePagePlaintext, decodeRequest, encodeAnswer, encodePagePlaintext, encodeRequest
} from '../../src/protocol/mailbox/messages.ts'
import { openPage, sealPage } from '../../src/protocol/mailbox/seal.ts'

const WRITER = '12D3KooWGzx9pWqLhJ3R4ZbW1uGcWq5nYb5xV9Yt1w2x3y4z5A6B'

function protocolError (fn: () => unknown): void {
  assert.throws(fn, (e: unknown) => isEngramError(e) && e.code === 'PROTOCOL')
}

describe('mailbox messages', () => {
  it('round-trips every message', () => {
    const page = new Uint8Array([1, 2, 3, 4])
    assert.deepEqual(decodeRequest(encodeRequest({ op: 'deposit', page })), { op: 'deposit', page })
    const keyId = new Uint8Array(8).fill(7)
    assert.deepEqual(decodeRequest(encodeRequest({ op: 'pull', keyId, after: 2 ** 40, max: 10 })), { op: 'pull', keyId, after: 2 ** 40, max: 10 })
    assert.deepEqual(decodeAnswer(encodeAnswer({ op: 'deposited', stored: true, seq: 9 })), { op: 'deposited', stored: true, seq: 9 })
    assert.deepEqual(decodeAnswer(encodeAnswer({ op: 'deposited', stored: false, seq: 0 })), { op: 'deposited', stored: false, seq: 0 })
    assert.deepEqual(decodeAnswer(encodeAnswer({ op: 'page', seq: 3, page })), { op: 'page', seq: 3, page })
    assert.deepEqual(decodeAnswer(encodeAnswer({ op: 'end', more: true })), { op: 'end', more: true })
  })

  it('refuses malformed frames', () => {
    protocolError(() => decodeRequest(new Uint8Array([])))
    protocolError(() => decodeRequest(new Uint8Array([9, 1, 2])))
    protocolError(() => decodeRequest(new Uint8Array([1])))
    protocolError(() => decodeRequest(new Uint8Array([2, 1, 2, 3])))
    const pull = encodeRequest({ op: 'pull', keyId: new Uint8Array(8), after: 0, max: 1 })
    pull[pull.length - 1] = 0
    protocolError(() => decodeRequest(pull))
    pull[pull.length - 2] = 0xff
    protocolError(() => decodeRequest(pull))
    protocolError(() => decodeAnswer(new Uint8Array([0x81, 2, 0, 0, 0, 0, 0, 0, 0, 0])))
    protocolError(() => decodeAnswer(new Uint8Array([0x83, 5])))
    protocolError(() => decodeAnswer(new Uint8Array([0x82, 0, 0, 0, 0, 0, 0, 0, 1])))
    assert.equal((decodeRequest(encodeRequest({ op: 'pull', keyId: new Uint8Array(8), after: 0, max: 10_000 })) as { max: number }).max, MAX_PULL_PAGES)
  })

  it('seals records into a page that opens to the same records, checked', async () => {
    const engine = new Engine({ store: new MemoryStore(), node: WRITER as never, maxDriftMs: 60_000 })
    engine.addTriples([{ subject: 'ex:secret-subject', predicate: 'ex:knows', object: 'a secret string' }])
    const t = engine.addTriples([{ subject: 'ex:b', predicate: 'ex:p', object: 'gone' }])[0]!
    engine.deleteTriple(t.id)
    const records = engine.store.changesSince(0, { limit: 100 }).entries.map(e => e.record)
    const k = await seedKeys('a seed of the group, long enough')
    const sealed = sealPage({ key: k.seal, keyId: k.keyId }, WRITER, 1, records.length, encodePagePlaintext(records))
    assert.ok(!Buffer.from(sealed).includes('secret'), 'no plaintext in the sealed page')
    const opened = openPage([{ key: k.seal, keyId: k.keyId }], sealed)
    assert.ok('plaintext' in opened)
    assert.deepEqual(decodePagePlaintext(opened.plaintext), { records })
    assert.ok(records.some(r => r.kind === 'triple' && r.deleted), 'the tombstone travels in the page')
  })

  it('carries the signatures of its records, which verify on the other side; a malformed batch is refused', async () => {
    const { node, signer } = await newSigningIdentity()
    const engine = new Engine({ store: new MemoryStore(), node, signer, maxDriftMs: 60_000 })
    engine.addTriples([{ subject: 'ex:a', predicate: 'ex:p', object: 'one' }, { subject: 'ex:b', predicate: 'ex:p', object: 'two' }])
    engine.setNote('project:x/n', { text: 'a note' })
    const entries = engine.store.changesSince(0, { limit: 100 }).entries
    const records = entries.map(e => e.record)
    const seals = pageSignatures(entries, id => engine.store.getBatch(id))
    assert.equal(seals.batches.length, 2)
    const page = decodePagePlaintext(encodePagePlaintext(records, seals))
    assert.deepEqual(page.records, records)
    assert.deepEqual(page.seals, seals)
    assert.ok(verifyPage(page.records, page.seals!, new NodeKeyVerifier()).checks.every(c => c?.ok === true))
    const body = JSON.parse(new TextDecoder().decode(encodePagePlaintext(records, seals))) as { batches: unknown[][] }
    const broken = (change: (b: unknown[][]) => void): Uint8Array => {
      const copy = structuredClone(body)
      change(copy.batches)
      return new TextEncoder().encode(JSON.stringify(copy))
    }
    protocolError(() => decodePagePlaintext(broken(b => { b[0]![4] = 'not base64!' })))
    protocolError(() => decodePagePlaintext(broken(b => { b[0]![0] = 'not a node' })))
    protocolError(() => decodePagePlaintext(broken(b => { b.push(...b, ...b, ...b) })))
  })

  it('refuses a page whose rows are not records', () => {
    const engine = new Engine({ store: new MemoryStore(), node: WRITER as never, maxDriftMs: 60_000 })
    engine.addTriples([{ subject: 'ex:a', predicate: 'ex:p', object: 'x' }])
    const text = new TextDecoder().decode(encodePagePlaintext(engine.store.changesSince(0, { limit: 100 }).entries.map(e => e.record)))
    protocolError(() => decodePagePlaintext(new TextEncoder().encode(text.replace('[[0,', '[[9,'))))
    protocolError(() => decodePagePlaintext(new TextEncoder().encode('not json')))
    protocolError(() => encodePagePlaintext([]))
  })

  it('cuts a feed run into pages with their seq ranges', () => {
    const seqs = [3, 4, 5, 9, 10]
    assert.deepEqual(cutPages(seqs, 2, s => s).map(p => [p.from, p.to, p.records.length]), [[3, 4, 2], [5, 9, 2], [10, 10, 1]])
    assert.deepEqual(cutPages([], 2, s => s), [])
  })
})
