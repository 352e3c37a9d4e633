/**
 * Every shape of a triple's object survives the round trip: what POST stores, GET gives back
 * (in normalized form), and the same form finds it again through the query string and
 * POST /api/v1/query.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertError, enc, startApi, type TestApi } from './helpers.ts'

interface Case {
  readonly name: string
  /** What the client sends. */
  readonly sent: unknown
  /** What the API gives back (the normalized JSON form). */
  readonly back: unknown
}

const CASES: readonly Case[] = [
  { name: 'string', sent: 'vim', back: 'vim' },
  { name: 'empty string', sent: '', back: '' },
  { name: 'unicode string', sent: 'ünïcödé ✓ 日本語 🎉', back: 'ünïcödé ✓ 日本語 🎉' },
  { name: 'string that looks like JSON', sent: '{"node":"x"}', back: '{"node":"x"}' },
  { name: 'integer', sent: 42, back: 42 },
  { name: 'negative float', sent: -3.25, back: -3.25 },
  { name: 'large number', sent: 1e300, back: 1e300 },
  { name: 'zero', sent: 0, back: 0 },
  { name: 'true', sent: true, back: true },
  { name: 'false', sent: false, back: false },
  { name: 'node', sent: { node: 'user:bob' }, back: { node: 'user:bob' } },
  { name: 'datetime (UTC)', sent: { datetime: '2026-11-20T09:30:00.000Z' }, back: { datetime: '2026-11-20T09:30:00.000Z' } },
  { name: 'datetime (offset, normalized to UTC)', sent: { datetime: '2026-11-20T10:30:00+01:00' }, back: { datetime: '2026-11-20T09:30:00.000Z' } },
  { name: 'language-tagged', sent: { text: 'bonjour', lang: 'fr' }, back: { text: 'bonjour', lang: 'fr' } },
  { name: 'language tag normalized', sent: { text: 'olá', lang: 'pt-BR' }, back: { text: 'olá', lang: 'pt-br' } },
  { name: 'json object', sent: { json: { b: [1, 2, { c: null }], a: 'x' } }, back: { json: { b: [1, 2, { c: null }], a: 'x' } } },
  { name: 'json array', sent: { json: [1, 'two', false] }, back: { json: [1, 'two', false] } },
  { name: 'json null', sent: { json: null }, back: { json: null } },
  { name: 'tagged number', sent: { kind: 'number', value: 7 }, back: 7 },
  { name: 'tagged node', sent: { kind: 'node', value: 'user:carol' }, back: { node: 'user:carol' } },
  { name: 'tagged string', sent: { kind: 'string', value: '{"x"' }, back: '{"x"' },
  { name: 'tagged lang', sent: { kind: 'lang', value: 'hallo', lang: 'de' }, back: { text: 'hallo', lang: 'de' } }
]

describe('triple object shapes', () => {
  let api: TestApi
  before(async () => { api = await startApi() })
  after(async () => { await api.close() })

  for (const [i, c] of CASES.entries()) {
    it(`round-trips ${c.name}`, async () => {
      const subject = `obj:${i}`
      const created = await api.request('POST', '/api/v1/triples', { subject, predicate: 'has', object: c.sent })
      assert.equal(created.status, 201, created.text)
      assert.deepEqual(created.body.object, c.back)

      const got = await api.request('GET', `/api/v1/triples/${created.body.id}`)
      assert.deepEqual(got.body.object, c.back)

      // Writing back what was read yields the same triple.
      const again = await api.request('POST', '/api/v1/triples', { subject, predicate: 'has', object: got.body.object })
      assert.equal(again.body.id, created.body.id)

      // Found by the query-string form: plain text for string literals, a JSON term for the rest
      // (numbers and booleans in the tagged form, as plain text is always a string).
      const qs = typeof c.back === 'string'
        ? (c.back.startsWith('{') ? JSON.stringify({ kind: 'string', value: c.back }) : c.back)
        : JSON.stringify(typeof c.back === 'object' ? c.back : { kind: typeof c.back, value: c.back })
      const listed = await api.request('GET', `/api/v1/triples?subject=${enc(subject)}&object=${enc(qs)}`)
      assert.equal(listed.status, 200, listed.text)
      assert.deepEqual(listed.body.triples.map((t: { id: string }) => t.id), [created.body.id])

      // Found by POST /api/v1/query with the object as sent.
      const queried = await api.request('POST', '/api/v1/query', { subject, object: c.sent })
      assert.deepEqual(queried.body.matches.map((t: { id: string }) => t.id), [created.body.id])
    })
  }

  it('keeps different shapes of the "same" value apart', async () => {
    const objects = ['42', 42, { node: '42' }, { json: 42 }, { text: '42', lang: 'en' }]
    const res = await api.request('POST', '/api/v1/triples', { triples: objects.map(object => ({ subject: 'apart:x', predicate: 'p', object })) })
    assert.equal(res.body.created, 5)
    assert.equal(new Set(res.body.triples.map((t: { id: string }) => t.id)).size, 5)
  })

  it('refuses objects parseTerm does not accept, naming the field', async () => {
    const bad: readonly [unknown, string][] = [
      [null, 'object'],
      [[1, 2], 'object'],
      [{ nod: 'x' }, 'object'],
      [{ node: '' }, 'object.node'],
      [{ node: 5 }, 'object.node'],
      [{ datetime: '2026-11-20' }, 'object.datetime'],
      [{ text: 'x', lang: 'not a tag' }, 'object.lang'],
      [{ kind: 'colour', value: 'red' }, 'object.kind'],
      [{ json: { deep: nest(70) } }, 'object.json']
    ]
    for (const [object, field] of bad) {
      const res = await api.request('POST', '/api/v1/triples', { subject: 's:x', predicate: 'p', object })
      assertError(res, 400, 'INVALID_INPUT')
      assert.ok(res.body.details.field.startsWith(field), `${JSON.stringify(object)}: ${res.text}`)
    }
    const missing = await api.request('POST', '/api/v1/triples', { subject: 's:x', predicate: 'p' })
    assertError(missing, 400, 'INVALID_INPUT', 'object')
    const inBatch = await api.request('POST', '/api/v1/triples', { triples: [{ subject: 's:x', predicate: 'p', object: 1 }, { subject: 's:x', predicate: 'p', object: { nod: 1 } }] })
    assertError(inBatch, 400, 'INVALID_INPUT', 'triples[1].object')
  })
})

function nest (depth: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < depth; i++) v = [v]
  return v
}
