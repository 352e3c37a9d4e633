/**
 * The routes' request schemas compiled on first use (api/lazyValidators.ts) are not checked
 * against Ajv's meta-schema: compiling the meta-schema was most of the first request a restarted
 * daemon answers. Requests are validated all the same.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createRequire } from 'node:module'
import { assertError, startApi, type TestApi } from './helpers.ts'

describe('request schemas compiled on first use', () => {
  let api: TestApi
  let checked = 0
  // Ajv as the compiler Fastify uses loads it (not a dependency of engram itself)
  const Ajv = createRequire(import.meta.resolve('@fastify/ajv-compiler'))('ajv') as { default: { prototype: { validateSchema: (...args: unknown[]) => unknown } } }
  const proto = Ajv.default.prototype
  const original = proto.validateSchema
  before(async () => {
    proto.validateSchema = function (this: unknown, ...args: unknown[]) { checked++; return original.apply(this, args) }
    api = await startApi()
  })
  after(async () => {
    proto.validateSchema = original
    await api.close()
  })

  it('are not checked against the meta-schema, and still refuse what they refuse', async () => {
    const write = await api.request('POST', '/api/v1/triples', { triples: [{ subject: 'v:a', predicate: 'knows', object: 'b' }] })
    assert.equal(write.status, 201, write.text)
    const found = await api.request('GET', '/api/v1/triples?subject=v%3Aa&predicate=knows&limit=1')
    assert.equal(found.status, 200, found.text)
    assert.equal((found.body as { triples: unknown[] }).triples.length, 1)
    assertError(await api.request('GET', '/api/v1/triples?subject=v%3Aa&limit=zero'), 400, 'INVALID_INPUT', 'limit')
    assertError(await api.request('POST', '/api/v1/triples', { triples: 'none' }), 400, 'INVALID_INPUT')
    assert.equal(checked, 0, 'a schema was checked against the meta-schema')
  })
})
