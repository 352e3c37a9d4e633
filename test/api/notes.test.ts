import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertError, enc, NODE_ID, startApi, type TestApi } from './helpers.ts'

const AWKWARD_KEYS = [
  'plain',
  'project/engram/goal',
  'user:alice:prefs',
  'with space and  two',
  'mixed/ns:key with space',
  'trailing/',
  '/leading',
  '100% sure',
  'question?and#hash&amp=1',
  'ünïcödé/ключ/日本',
  'emoji 🎉',
  'k'.repeat(1024)
]

describe('notes API', () => {
  let api: TestApi
  before(async () => { api = await startApi() })
  after(async () => { await api.close() })

  it('puts and gets a note: {key, value, hlc, origin, updated_at}', async () => {
    const put = await api.request('PUT', '/api/v1/notes/greeting', { value: { text: 'hello', n: [1, 2] } })
    assert.equal(put.status, 200, put.text)
    assert.deepEqual(Object.keys(put.body).sort(), ['hlc', 'key', 'origin', 'provenance', 'updated_at', 'value'])
    assert.equal(put.body.key, 'greeting')
    assert.deepEqual(put.body.value, { text: 'hello', n: [1, 2] })
    assert.equal(put.body.origin, NODE_ID)
    assert.match(put.body.updated_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    const got = await api.request('GET', '/api/v1/notes/greeting')
    assert.deepEqual(got.body, put.body)
  })

  it('overwrites: the last write wins and gets a newer stamp', async () => {
    const a = await api.request('PUT', '/api/v1/notes/counter', { value: 1 })
    const b = await api.request('PUT', '/api/v1/notes/counter', { value: 2 })
    assert.ok(b.body.hlc > a.body.hlc)
    assert.equal((await api.request('GET', '/api/v1/notes/counter')).body.value, 2)
  })

  it('stores any JSON value, null included', async () => {
    for (const value of [null, 0, 'text', false, [], {}, [{ a: { b: null } }]]) {
      const put = await api.request('PUT', '/api/v1/notes/any', { value })
      assert.equal(put.status, 200, put.text)
      assert.deepEqual((await api.request('GET', '/api/v1/notes/any')).body.value, value)
    }
  })

  for (const key of AWKWARD_KEYS) {
    it(`handles the key ${JSON.stringify(key.length > 40 ? `${key.slice(0, 20)}…(${key.length})` : key)}`, async () => {
      const path = `/api/v1/notes/${enc(key)}`
      const put = await api.request('PUT', path, { value: key.length })
      assert.equal(put.status, 200, put.text)
      assert.equal(put.body.key, key)
      const got = await api.request('GET', path)
      assert.equal(got.status, 200, got.text)
      assert.equal(got.body.key, key)
      const del = await api.request('DELETE', path)
      assert.deepEqual(del.body, { deleted: 1, key, hlc: del.body.hlc })
      assert.match(del.body.hlc, /^[0-9a-f]{12}\.[0-9a-f]{4}\./)
      assertError(await api.request('GET', path), 404, 'NOT_FOUND')
    })
  }

  it('takes the key from the rest of the path, so unencoded "/" and ":" work too', async () => {
    const put = await api.request('PUT', '/api/v1/notes/proj/sub:dir/leaf', { value: 'x' })
    assert.equal(put.body.key, 'proj/sub:dir/leaf')
    const got = await api.request('GET', `/api/v1/notes/${enc('proj/sub:dir/leaf')}`)
    assert.equal(got.body.value, 'x')
  })

  it('lists by prefix with pagination: {notes, total, limit, offset}, ordered by key', async () => {
    for (let i = 0; i < 12; i++) await api.request('PUT', `/api/v1/notes/${enc(`list/${String(i).padStart(2, '0')}`)}`, { value: i })
    await api.request('PUT', '/api/v1/notes/listless', { value: 'not in the prefix' })
    const first = await api.request('GET', `/api/v1/notes?prefix=${enc('list/')}&limit=5`)
    assert.equal(first.status, 200)
    assert.equal(first.body.total, 12)
    assert.deepEqual([first.body.limit, first.body.offset], [5, 0])
    assert.deepEqual(first.body.notes.map((n: { key: string }) => n.key), ['list/00', 'list/01', 'list/02', 'list/03', 'list/04'])
    const last = await api.request('GET', `/api/v1/notes?prefix=${enc('list/')}&limit=5&offset=10`)
    assert.deepEqual(last.body.notes.map((n: { value: number }) => n.value), [10, 11])
    await api.request('DELETE', `/api/v1/notes/${enc('list/03')}`)
    const after = await api.request('GET', `/api/v1/notes?prefix=${enc('list/')}`)
    assert.equal(after.body.total, 11, 'deleted notes are not listed')
    const all = await api.request('GET', '/api/v1/notes')
    assert.ok(all.body.total >= 12)
  })

  it('answers errors with the field named', async () => {
    assertError(await api.request('GET', '/api/v1/notes/never-written'), 404, 'NOT_FOUND')
    assertError(await api.request('DELETE', '/api/v1/notes/never-written'), 404, 'NOT_FOUND')
    assertError(await api.request('PUT', '/api/v1/notes/k', { valu: 1 }), 400, 'INVALID_INPUT', 'value')
    assertError(await api.request('PUT', '/api/v1/notes/k', { value: 1, valu: 1 }), 400, 'INVALID_INPUT', 'valu')
    assertError(await api.request('PUT', '/api/v1/notes/k', {}), 400, 'INVALID_INPUT', 'value')
    assertError(await api.request('PUT', '/api/v1/notes/k', [1]), 400, 'INVALID_INPUT', 'body')
    assertError(await api.request('PUT', '/api/v1/notes/k'), 400, 'INVALID_INPUT', 'body')
    assertError(await api.request('PUT', '/api/v1/notes/', { value: 1 }), 400, 'INVALID_INPUT', 'key')
    assertError(await api.request('PUT', `/api/v1/notes/${'k'.repeat(1025)}`, { value: 1 }), 400, 'INVALID_INPUT', 'key')
    assertError(await api.request('PUT', '/api/v1/notes/deep', { value: nest(70) }), 400, 'INVALID_INPUT')
    assertError(await api.request('GET', '/api/v1/notes?limit=x'), 400, 'INVALID_INPUT', 'limit')
    assertError(await api.request('GET', '/api/v1/notes?prefx=a'), 400, 'INVALID_INPUT', 'prefx')
  })
})

function nest (depth: number): unknown {
  let v: unknown = 1
  for (let i = 0; i < depth; i++) v = { v }
  return v
}
