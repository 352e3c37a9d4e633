/**
 * The pulling side against peers that misbehave: an unsigned answer, an answer signed by
 * another node than it claims, a page with a forged record. Each pull fails with the reason and
 * applies nothing; the cursor stays. A record stamped too far ahead is no misbehaviour: it is
 * held aside and the rest of its page applies.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, afterEach, before, describe, it } from 'node:test'
import { isEngramError } from '../../src/core/errors.ts'
import { asNodeId } from '../../src/core/ids.ts'
import { makeTriple, recordToPlain } from '../../src/core/records.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { AUTH_HEADERS, deriveRestKey, signResponse } from '../../src/sync/polled/auth.ts'
import { pullFrom } from '../../src/sync/polled/DeltaClient.ts'

const KEY = deriveRestKey('client-test-secret')
const PEER = 'node-peer'

/** What the fake peer answers: a body, and how to sign it. */
let answer: (nonce: string) => { status: number, body: string, headers: Record<string, string> } = () => ({ status: 500, body: '{}', headers: {} })

function page (records: unknown[], over: Record<string, unknown> = {}): string {
  return JSON.stringify({ nodeId: PEER, feedId: 'a'.repeat(32), syncedAt: new Date().toISOString(), cursor: 10, hasMore: false, snapshot: false, peerCursor: 0, peerNamespaces: null, records, ...over })
}
const signed = (body: string, node = PEER, status = 200) => (nonce: string) =>
  ({ status, body, headers: { [AUTH_HEADERS.node]: node, [AUTH_HEADERS.sig]: signResponse(KEY, node, status, nonce, body) } })

describe('DeltaClient against a misbehaving peer', () => {
  let server: Server
  let url = ''
  before(async () => {
    server = createServer((req, res) => {
      req.resume()
      req.on('end', () => {
        const a = answer(String(req.headers[AUTH_HEADERS.nonce] ?? ''))
        res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(a.body)
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => new Promise<void>(resolve => server.close(() => resolve())))
  afterEach(() => { answer = () => ({ status: 500, body: '{}', headers: {} }) })

  const engine = (): Engine => new Engine({ store: new MemoryStore(), node: asNodeId('node-me'), maxDriftMs: 60_000 })
  const pull = (e: Engine) => pullFrom({ url }, { engine: e, key: KEY, timeoutMs: 5000, pageSize: 100 })
  const code = (c: string, re?: RegExp) => (err: unknown): boolean => isEngramError(err) && err.code === c && (re === undefined || re.test(err.message))
  const good = makeTriple({ subject: 'user:a', predicate: 'p', object: { kind: 'string', value: 'x' } }, { wall: Date.now(), counter: 0, node: asNodeId(PEER) })

  it('applies a correctly signed page', async () => {
    answer = signed(page([recordToPlain(good)]))
    const e = engine()
    const r = await pull(e)
    assert.deepEqual([r.received, r.applied, r.cursor], [1, 1, 10])
    assert.equal(e.store.getCursor(asNodeId(PEER)), 10)
  })

  it('refuses an unsigned answer, and one signed by another node than it claims', async () => {
    const e = engine()
    answer = () => ({ status: 200, body: page([recordToPlain(good)]), headers: {} })
    await assert.rejects(pull(e), code('UNAUTHORIZED', /without proof of the shared secret/))
    answer = signed(page([recordToPlain(good)]), 'node-other')
    await assert.rejects(pull(e), code('PROTOCOL', /signed as node-other but answered as node-peer/))
    answer = (nonce) => ({ ...signed(page([recordToPlain(good)]))(nonce), body: page([recordToPlain(good)], { cursor: 11 }) })
    await assert.rejects(pull(e), code('UNAUTHORIZED', /could not prove/), 'a body changed after signing')
    assert.equal(e.store.stats().lastSeq, 0)
  })

  it('refuses a whole page when one record is forged (the cursor stays); holds aside one stamped too far ahead (the rest applies)', async () => {
    const e = engine()
    const forged = { ...recordToPlain(good), subject: 'user:b' }
    answer = signed(page([recordToPlain(good), forged]))
    await assert.rejects(pull(e), code('ID_MISMATCH'))
    assert.equal(e.store.stats().lastSeq, 0, 'nothing applied')
    assert.equal(e.store.getCursor(asNodeId(PEER)), 0)
    const ahead = makeTriple({ subject: 'user:c', predicate: 'p', object: { kind: 'string', value: 'y' } }, { wall: Date.now() + 3_600_000, counter: 0, node: asNodeId(PEER) })
    answer = signed(page([recordToPlain(good), recordToPlain(ahead)]))
    await pull(e)
    assert.equal(e.store.stats().lastSeq, 1, 'the good record applied')
    assert.ok(e.store.getCursor(asNodeId(PEER)) > 0, 'the cursor moved')
    assert.deepEqual(e.store.held({ limit: 10 }).map(h => h.record), [ahead], 'the one too far ahead is held aside')
  })

  it('refuses a malformed answer, and reports the peer\'s own errors', async () => {
    const e = engine()
    answer = signed('{"nodeId": "node-peer"}')
    await assert.rejects(pull(e), code('PROTOCOL', /expected shape/))
    answer = signed(JSON.stringify({ error: 'sync is off on this node: store unhealthy', code: 'UNAVAILABLE' }), PEER, 503)
    await assert.rejects(pull(e), code('UNAVAILABLE', /answered 503: sync is off on this node/))
    answer = () => ({ status: 401, body: JSON.stringify({ error: 'bad signature', code: 'UNAUTHORIZED' }), headers: {} })
    await assert.rejects(pull(e), code('UNAUTHORIZED', /refused our credentials: bad signature/))
  })

  it('a peer that does not answer in time is a TIMEOUT; one that is gone is UNAVAILABLE', async () => {
    const e = engine()
    const silent = createServer(() => {})
    await new Promise<void>(resolve => silent.listen(0, '127.0.0.1', resolve))
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
    await assert.rejects(pullFrom({ url: silentUrl }, { engine: e, key: KEY, timeoutMs: 200, pageSize: 100 }), code('TIMEOUT'))
    silent.closeAllConnections()
    await new Promise<void>(resolve => silent.close(() => resolve()))
    await assert.rejects(pullFrom({ url: silentUrl }, { engine: e, key: KEY, timeoutMs: 2000, pageSize: 100 }), code('UNAVAILABLE', /unreachable \(ECONNREFUSED\)/))
  })
})
