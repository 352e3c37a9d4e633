/**
 * Provenance, history, as-of reads, revert and revocations over the REST API (real HTTP, a real
 * SQLite file, a signing engine with a clock the test moves).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { NodeId } from '../../src/core/ids.ts'
import { makeTriple } from '../../src/core/records.ts'
import { newSigningIdentity } from '../../src/node/keys.ts'
import { assertError, enc, startApi, type TestApi } from './helpers.ts'

const T0 = Date.parse('2026-11-20T09:00:00.000Z')
const MINUTE = 60_000

describe('provenance over the REST API', () => {
  let api: TestApi
  let self: NodeId
  let now = T0
  const peer = 'legacy-peer' as NodeId
  before(async () => {
    const id = await newSigningIdentity()
    self = id.node
    api = await startApi({ identity: id, now: () => now, historyRetentionMs: 24 * 60 * MINUTE })
    api.engine.publishName('laptop')
  })
  after(async () => { await api.close() })

  it('shows who wrote each record, from which machine, signed or not', async () => {
    const res = await api.request('POST', '/api/v1/triples', { subject: 'user:alice', predicate: 'likes', object: 'tea' })
    assert.equal(res.status, 201, res.text)
    assert.deepEqual(res.body.provenance, {
      origin: self, origin_name: 'laptop', time: new Date(T0).toISOString(), via: null, via_name: null, signed: true, signer: self, signer_name: 'laptop'
    })
    // A record of a node that does not sign, arrived through that node.
    const old = makeTriple({ subject: 'user:bob', predicate: 'likes', object: { kind: 'string', value: 'coffee' } }, { wall: T0 - MINUTE, counter: 0, node: peer })
    api.engine.applyChecked([old], { via: peer })
    const got = await api.request('GET', `/api/v1/triples/${old.id}`)
    assert.deepEqual(got.body.provenance, {
      origin: peer, origin_name: null, time: new Date(T0 - MINUTE).toISOString(), via: peer, via_name: null, signed: false
    })
    const list = await api.request('GET', `/api/v1/triples?origin=${peer}`)
    assert.deepEqual(list.body.triples.map((t: { subject: string }) => t.subject), ['user:bob'])
    const query = await api.request('POST', '/api/v1/query', { origin: self })
    assert.deepEqual(query.body.matches.map((t: { subject: string }) => t.subject), ['user:alice'])
    assertError(await api.request('GET', '/api/v1/triples?origin=no%20spaces'), 400, 'INVALID_INPUT', 'origin')
  })

  it('keeps history: every state newest first, with what replaced it and when; reads the past', async () => {
    now = T0 + 10 * MINUTE
    await api.request('PUT', `/api/v1/notes/${enc('cfg:editor')}`, { value: 'vim' })
    now += MINUTE
    await api.request('PUT', `/api/v1/notes/${enc('cfg:editor')}`, { value: 'emacs' })
    now += MINUTE
    await api.request('DELETE', `/api/v1/notes/${enc('cfg:editor')}`)
    const h = await api.request('GET', `/api/v1/history/${enc('cfg:editor')}`)
    assert.equal(h.status, 200, h.text)
    assert.equal(h.body.kind, 'note')
    assert.deepEqual(h.body.states.map((s: { value: unknown, deleted: boolean, current: boolean, replaced_at: string | null }) => [s.value, s.deleted, s.current, s.replaced_at]), [
      [null, true, true, null],
      ['emacs', false, false, new Date(T0 + 12 * MINUTE).toISOString()],
      ['vim', false, false, new Date(T0 + 11 * MINUTE).toISOString()]
    ])
    assert.equal(h.body.states[2].provenance.signer, self)
    const shown = await api.request('GET', `/api/v1/records/${enc('cfg:editor')}`)
    assert.deepEqual([shown.body.kind, shown.body.state.deleted, shown.body.states], ['note', true, 3])
    // As of a past time.
    const at = (ms: number): string => new Date(ms).toISOString()
    assert.equal((await api.request('GET', `/api/v1/notes/${enc('cfg:editor')}?asOf=${at(T0 + 11 * MINUTE + 1)}`)).body.value, 'emacs')
    assert.equal((await api.request('GET', `/api/v1/notes/${enc('cfg:editor')}?asOf=${T0 + 10 * MINUTE}`)).body.value, 'vim')
    assertError(await api.request('GET', `/api/v1/notes/${enc('cfg:editor')}`), 404, 'NOT_FOUND')
    const list = await api.request('GET', `/api/v1/notes?prefix=cfg:&asOf=${T0 + 10 * MINUTE}`)
    assert.deepEqual(list.body.notes.map((n: { value: unknown }) => n.value), ['vim'])
    const triples = await api.request('POST', '/api/v1/query', { asOf: at(T0 - 1) })
    assert.deepEqual(triples.body.matches.map((t: { subject: string }) => t.subject), ['user:bob'])
    // Outside what history covers, or not a time: refused with the field named.
    assertError(await api.request('POST', '/api/v1/query', { asOf: at(T0 - 25 * 60 * MINUTE) }), 400, 'INVALID_INPUT', 'asOf')
    assertError(await api.request('GET', '/api/v1/triples?asOf=yesterday'), 400, 'INVALID_INPUT', 'asOf')
    assertError(await api.request('GET', `/api/v1/history/${enc('nothing:here')}`), 404, 'NOT_FOUND')
  })

  it('reverts a record and one origin\'s window, as new writes', async () => {
    now = T0 + 20 * MINUTE
    const r = await api.request('POST', '/api/v1/revert', { id: 'cfg:editor' })
    assert.equal(r.status, 200, r.text)
    assert.deepEqual(r.body.written.map((w: { kind: string, key: string, value: unknown, deleted: boolean }) => [w.kind, w.key, w.value, w.deleted]), [['note', 'cfg:editor', 'emacs', false]])
    assert.equal((await api.request('GET', `/api/v1/notes/${enc('cfg:editor')}`)).body.value, 'emacs')
    const since = now + MINUTE
    now = since
    await api.request('POST', '/api/v1/triples', { subject: 'user:carol', predicate: 'likes', object: 'tea' })
    await api.request('PUT', `/api/v1/notes/${enc('cfg:editor')}`, { value: 'nano' })
    now += MINUTE
    const dry = await api.request('POST', '/api/v1/revert', { origin: self, since: new Date(since).toISOString(), dryRun: true })
    assert.deepEqual([dry.body.dryRun, dry.body.written.length], [true, 2])
    const done = await api.request('POST', '/api/v1/revert', { origin: self, since })
    assert.equal(done.body.written.length, 2)
    assert.equal((await api.request('GET', `/api/v1/notes/${enc('cfg:editor')}`)).body.value, 'emacs')
    assert.equal((await api.request('GET', '/api/v1/triples?subject=user:carol')).body.total, 0)
    assertError(await api.request('POST', '/api/v1/revert', { id: 'x', origin: self, since }), 400, 'INVALID_INPUT', 'id')
    assertError(await api.request('POST', '/api/v1/revert', {}), 400, 'INVALID_INPUT', 'origin')
  })

  it('revokes, lists nodes and revocations, and reports refused records', async () => {
    const target = (await newSigningIdentity()).node
    const made = await api.request('POST', '/api/v1/revocations', { node: target, after: T0, reason: 'laptop stolen' })
    assert.equal(made.status, 201, made.text)
    const list = await api.request('GET', '/api/v1/revocations')
    const rev = list.body.revocations.find((r: { target: string }) => r.target === target)
    assert.equal(rev.effective_after, new Date(T0).toISOString())
    assert.deepEqual(rev.issued.map((i: { issuer: string, reason: string }) => [i.issuer, i.reason]), [[self, 'laptop stolen']])
    const nodes = await api.request('GET', '/api/v1/nodes')
    assert.deepEqual(nodes.body.nodes.find((n: { node: string }) => n.node === self), { node: self, name: 'laptop', self: true, signs: true, revoked_after: null })
    assert.equal(nodes.body.nodes.find((n: { node: string }) => n.node === target).revoked_after, new Date(T0).toISOString())
    // A record of the revoked node stamped after: refused, counted, listed.
    const late = makeTriple({ subject: 'user:evil', predicate: 'p', object: { kind: 'string', value: 'o' } }, { wall: T0 + MINUTE, counter: 0, node: target })
    const applied = api.engine.applyChecked([late], { via: target })
    assert.deepEqual(applied.refused.map(f => f.reason), ['revoked'])
    const refused = await api.request('GET', '/api/v1/refused')
    assert.equal(refused.body.counters.revoked, 1)
    assert.deepEqual([refused.body.refused[0].reason, refused.body.refused[0].origin, refused.body.refused[0].via], ['revoked', target, target])
    const status = await api.request('GET', '/api/v1/status')
    assert.equal(status.body.provenance.signing, true)
    assert.equal(status.body.provenance.refused.total, 1)
    assert.equal(status.body.provenance.revoked, 1)
    assert.equal((await api.request('DELETE', `/api/v1/revocations/${target}`)).body.withdrawn.startsWith('_engram:revoke:'), true)
    assertError(await api.request('DELETE', `/api/v1/revocations/${target}`), 404, 'NOT_FOUND')
    assertError(await api.request('POST', '/api/v1/revocations', { node: self }), 400, 'INVALID_INPUT', 'node')
    assertError(await api.request('PUT', `/api/v1/notes/${enc('_engram:name:x')}`, { value: 1 }), 400, 'INVALID_INPUT', 'key')
  })
})
