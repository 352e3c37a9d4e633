/** The error contract: one shape, the right status per code, nothing internal leaked. */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { toHttpError } from '../../src/api/errors.ts'
import { CLIENT_HEADER } from '../../src/api/contract.ts'
import { EngramError, HLC_DRIFT, type ErrorCode } from '../../src/core/errors.ts'
import { assertError, faultyStore, startApi, type TestApi } from './helpers.ts'

describe('error statuses', () => {
  it('maps every error code to its status', () => {
    const expected: Record<ErrorCode, number> = {
      INVALID_INPUT: 400,
      ID_MISMATCH: 400,
      PROTOCOL: 400,
      CONFIG_INVALID: 400,
      UNAUTHORIZED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      CONFLICT: 409,
      HLC_DRIFT: 409,
      LIMIT_EXCEEDED: 413,
      RATE_LIMITED: 429,
      STORE_UNAVAILABLE: 503,
      UNAVAILABLE: 503,
      TIMEOUT: 504,
      HLC_OVERFLOW: 500,
      STORE_CORRUPT: 500,
      INTERNAL: 500
    }
    for (const [code, status] of Object.entries(expected)) {
      const mapped = toHttpError(new EngramError(code as ErrorCode, `a ${code} error`, { x: 1 }))
      assert.equal(mapped.status, status, code)
      assert.deepEqual(mapped.body, { error: `a ${code} error`, code, details: { x: 1 } })
    }
  })

  it('HLC_DRIFT → 409 with the drift in details', () => {
    const mapped = toHttpError(HLC_DRIFT(2_000_000, 1_000_000, 60_000, 'peer-b'))
    assert.equal(mapped.status, 409)
    assert.equal(mapped.body.code, 'HLC_DRIFT')
    assert.deepEqual(mapped.body.details, { remoteWallMs: 2_000_000, localWallMs: 1_000_000, maxDriftMs: 60_000, from: 'peer-b' })
  })

  it('anything else → 500 INTERNAL without the message', () => {
    const mapped = toHttpError(new TypeError('secret /home/user/path'))
    assert.equal(mapped.status, 500)
    assert.equal(mapped.body.code, 'INTERNAL')
    assert.ok(!mapped.body.error.includes('secret'))
  })
})

describe('errors over HTTP', () => {
  const faults = faultyStore()
  const internal: unknown[] = []
  let api: TestApi
  before(async () => {
    api = await startApi({ wrapStore: faults.wrap, bodyLimitBytes: 64 * 1024, onInternalError: (err) => { internal.push(err) } })
  })
  after(async () => { await api.close() })

  it('a body over the size limit → 413 LIMIT_EXCEEDED naming the limit', async () => {
    const res = await api.request('POST', '/api/v1/triples', { subject: 's:a', predicate: 'p', object: 'x'.repeat(70 * 1024) })
    assertError(res, 413, 'LIMIT_EXCEEDED')
    assert.equal(res.body.details.limit, 64 * 1024)
    assert.match(res.body.error, /65536 bytes/)
  })

  it('a literal over its own limit (under the body limit) → 400 naming the field', async () => {
    const big = await startApi()
    try {
      const res = await big.request('POST', '/api/v1/triples', { subject: 's:a', predicate: 'p', object: 'x'.repeat(64 * 1024 + 1) })
      assertError(res, 400, 'INVALID_INPUT', 'object')
      assertError(await big.request('POST', '/api/v1/triples', { subject: 's'.repeat(2049), predicate: 'p', object: 1 }), 400, 'INVALID_INPUT', 'subject')
    } finally {
      await big.close()
    }
  })

  it('wrong types name the field, in the body and in batches', async () => {
    assertError(await api.request('POST', '/api/v1/triples', { subject: 123, predicate: 'p', object: 'o' }), 400, 'INVALID_INPUT', 'subject')
    assertError(await api.request('POST', '/api/v1/triples', { subject: 's', predicate: true, object: 'o' }), 400, 'INVALID_INPUT', 'predicate')
    assertError(await api.request('POST', '/api/v1/triples', { subject: ['s'], predicate: 'p', object: 'o' }), 400, 'INVALID_INPUT', 'subject')
    assertError(await api.request('POST', '/api/v1/triples', { predicate: 'p', object: 'o' }), 400, 'INVALID_INPUT', 'subject')
    assertError(await api.request('POST', '/api/v1/triples', { subject: '', predicate: 'p', object: 'o' }), 400, 'INVALID_INPUT', 'subject')
    assertError(await api.request('POST', '/api/v1/triples', { triples: [{ subject: 's', predicate: 'p', object: 1 }, { subject: null, predicate: 'p', object: 1 }] }), 400, 'INVALID_INPUT', 'triples[1].subject')
    assertError(await api.request('POST', '/api/v1/triples', { triples: {} }), 400, 'INVALID_INPUT', 'triples')
    assertError(await api.request('POST', '/api/v1/triples', { triples: [], extra: 1 }), 400, 'INVALID_INPUT', 'extra')
    const msg = (await api.request('POST', '/api/v1/triples', { subject: 123, predicate: 'p', object: 'o' })).body.error
    assert.equal(msg, 'subject: must be a string (got number)')
  })

  it('a body that is not JSON, empty, or of another content type → 400 / 415', async () => {
    assertError(await api.request('POST', '/api/v1/triples', '{"subject": '), 400, 'INVALID_INPUT', 'body')
    assertError(await api.request('POST', '/api/v1/triples', ''), 400, 'INVALID_INPUT', 'body')
    assertError(await api.request('POST', '/api/v1/triples', '"just a string"'), 400, 'INVALID_INPUT', 'body')
    assertError(await api.request('POST', '/api/v1/triples', undefined, { 'x-engram-client': 'test' }), 400, 'INVALID_INPUT', 'body')
    // Without a content type or a client header, a POST is what any web page could send: refused first.
    assertError(await api.request('POST', '/api/v1/triples'), 403, 'FORBIDDEN')
    const client = { 'x-engram-client': 'test' }
    assertError(await api.request('POST', '/api/v1/triples', 's p o', { 'content-type': 'text/plain', ...client }), 415, 'INVALID_INPUT')
    assertError(await api.request('POST', '/api/v1/triples', 'subject=s', { 'content-type': 'application/x-www-form-urlencoded', ...client }), 415, 'INVALID_INPUT')
    // What a web form sends is refused before its body is read.
    assertError(await api.request('POST', '/api/v1/triples', 's p o', { 'content-type': 'text/plain' }), 403, 'FORBIDDEN')
    assertError(await api.request('POST', '/api/v1/triples', '{"__proto__": {"x": 1}, "subject": "s"}'), 400, 'INVALID_INPUT')
  })

  it('an empty body is no body, whatever its content type (clients send application/json on every DELETE)', async () => {
    for (const type of ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded']) {
      const added = await api.request('POST', '/api/v1/triples', { subject: 'empty:a', predicate: 'p', object: type })
      assert.equal(added.status, 201)
      const del = await api.request('DELETE', `/api/v1/triples/${added.body.id as string}`, '', { 'content-type': type })
      assert.equal(del.status, 200, `${type}: ${del.text}`)
      // the answer of docs/API.md: what was deleted, and the stamp of the delete
      assert.deepEqual(del.body, { deleted: 1, id: added.body.id, hlc: del.body.hlc })
      assert.match(String(del.body.hlc), /^[0-9a-f]{12}\.[0-9a-f]{4}\./)
      const byPattern = await api.request('DELETE', '/api/v1/triples?subject=empty:none', '', { 'content-type': type })
      assert.deepEqual([byPattern.status, byPattern.body], [200, { deleted: 0 }], type)
    }
    // a route that needs a body says what it needs (the client header lets a POST that is not JSON through the guard)
    const res = await api.request('POST', '/api/v1/triples', '', { 'content-type': 'text/plain', [CLIENT_HEADER]: 'test' })
    assertError(res, 400, 'INVALID_INPUT')
    assert.match(res.body.error, /body/)
  })

  it('a store that is unavailable → 503 STORE_UNAVAILABLE', async () => {
    faults.fail.set('queryTriples', () => { throw new EngramError('STORE_UNAVAILABLE', 'database is locked by another process') })
    try {
      const res = await api.request('GET', '/api/v1/triples')
      assertError(res, 503, 'STORE_UNAVAILABLE')
      assert.equal(res.body.error, 'database is locked by another process')
    } finally {
      faults.fail.delete('queryTriples')
    }
  })

  it('an unexpected failure → 500 INTERNAL, no message or stack to the client, the error to the hook', async () => {
    faults.fail.set('getNote', () => { throw new Error('disk I/O error at /very/secret/place') })
    try {
      const res = await api.request('GET', '/api/v1/notes/anything')
      assertError(res, 500, 'INTERNAL')
      assert.ok(!res.text.includes('secret'))
      assert.ok(!res.text.includes('stack'))
      assert.equal(internal.length, 1)
      assert.match(String(internal[0]), /disk I\/O error/)
    } finally {
      faults.fail.delete('getNote')
    }
  })

  it('an import stamped beyond hlc.maxDriftMs → 409 HLC_DRIFT, nothing written (the one route that refuses drift); a forged id → 400 ID_MISMATCH', async () => {
    const triple = { kind: 'triple', id: '0566127bdee25d6346eb7c753d2d6b8867d59a68360bcde5e068fc8e18c194f3', subject: 'user:a', predicate: 'rel:x', object: { kind: 'string', value: 'y' }, deleted: false }
    const ahead = await api.request('POST', '/api/v1/import', { records: [{ ...triple, hlc: { wall: Date.now() + 2 * 3_600_000, counter: 0, node: 'node-b' } }] })
    assertError(ahead, 409, 'HLC_DRIFT')
    assert.equal((await api.request('GET', '/api/v1/triples?subject=user:a')).body.total, 0, 'nothing written')
    const inStep = await api.request('POST', '/api/v1/import', { records: [{ ...triple, hlc: { wall: Date.now(), counter: 0, node: 'node-b' } }] })
    assert.equal(inStep.status, 200, inStep.text)
    assert.equal(inStep.body.applied, 1)
    const forged = await api.request('POST', '/api/v1/import', { records: [{ ...triple, id: 'f'.repeat(64), hlc: { wall: Date.now(), counter: 1, node: 'node-b' } }] })
    assertError(forged, 400, 'ID_MISMATCH')
  })
})
