/**
 * GET /api/v1/events over real HTTP: one event per committed batch with kinds, keys and `via`,
 * filters, heartbeats, the subscriber cap, listeners removed on disconnect, streams ended when
 * the server closes.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import Fastify from 'fastify'
import { makeErrorHandler } from '../../src/api/errors.ts'
import { eventRoutes } from '../../src/api/routes/events.ts'
import { asNodeId } from '../../src/core/ids.ts'
import { makeTriple, recordToPlain } from '../../src/core/records.ts'
import { startApi, type TestApi } from './helpers.ts'
import { openSse, type SseEvent } from './sse.ts'
import { waitFor } from '../cli/helpers.ts'
import { eventually } from '../support/eventually.ts'

const isChange = (e: SseEvent): boolean => e.event === 'change'
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- event payloads are checked field by field
const data = (e: SseEvent): any => JSON.parse(e.data)

describe('GET /api/v1/events', () => {
  let api: TestApi
  before(async () => { api = await startApi() })
  after(async () => { await api.close() })

  it('sends ready, then one change event per committed batch, and removes its listener on disconnect', async () => {
    const baseline = api.engine.listenerCount('change')
    const s = await openSse(`${api.base}/api/v1/events`)
    assert.equal(s.status, 200)
    const ready = data(await s.next(e => e.event === 'ready', 5000))
    assert.equal(ready.nodeId, 'node-a')
    assert.equal(typeof ready.lastSeq, 'number')
    assert.equal(api.engine.listenerCount('change'), baseline + 1)

    const res = await api.request('POST', '/api/v1/triples', { triples: [
      { subject: 'kg:Alice', predicate: 'kg:observation', object: 'likes tea' },
      { subject: 'kg:Alice', predicate: 'knows', object: { node: 'kg:Bob' } }
    ] })
    assert.equal(res.status, 201)
    const change = await s.next(isChange, 5000)
    const body = data(change)
    assert.equal(body.via, null)
    assert.equal(body.count, 2)
    assert.deepEqual(body.kinds, ['triple'])
    assert.deepEqual(body.namespaces, ['kg'])
    assert.deepEqual(body.changes.map((c: { key: string }) => c.key), res.body.triples.map((t: { id: string }) => t.id))
    assert.equal(body.changes[0].subject, 'kg:Alice')
    assert.equal(body.truncated, false)
    assert.equal(change.id, String(body.seq.to))
    assert.equal(body.seq.to, body.seq.from + 1)

    await api.request('PUT', '/api/v1/notes/project:goal', { value: 'ship' })
    const note = data(await s.next(isChange, 5000, s.events.indexOf(change) + 1))
    assert.deepEqual(note.changes.map((c: { kind: string, key: string }) => [c.kind, c.key]), [['note', 'project:goal']])

    s.close()
    await waitFor(() => api.engine.listenerCount('change') === baseline, 5000, 'the listener to be removed')
  })

  it('names the peer a batch came from (via)', async () => {
    const s = await openSse(`${api.base}/api/v1/events?kinds=triple`)
    await s.next(e => e.event === 'ready', 5000)
    const remote = makeTriple({ subject: 'kg:Carol', predicate: 'kg:entityType', object: { kind: 'string', value: 'person' } },
      { wall: Date.now(), counter: 0, node: asNodeId('node-b') })
    api.engine.applyRemote([JSON.parse(JSON.stringify(recordToPlain(remote)))], { via: asNodeId('node-b') })
    const body = data(await s.next(isChange, 5000))
    assert.equal(body.via, 'node-b')
    assert.equal(body.changes[0].key, remote.id)
    s.close()
  })

  it('filters by namespace and kind, and refuses an unknown kind', async () => {
    const s = await openSse(`${api.base}/api/v1/events?namespaces=kg&kinds=triple`)
    await s.next(e => e.event === 'ready', 5000)
    await api.request('PUT', '/api/v1/notes/kg:not-a-triple', { value: 1 })
    await api.request('POST', '/api/v1/triples', { subject: 'user:zed', predicate: 'p', object: 'o' })
    await api.request('POST', '/api/v1/triples', { subject: 'kg:Dan', predicate: 'p', object: 'o' })
    const body = data(await s.next(isChange, 5000))
    assert.deepEqual(body.changes.map((c: { subject: string }) => c.subject), ['kg:Dan'])
    assert.equal(s.events.filter(isChange).length, 1)
    s.close()

    const bad = await api.request('GET', '/api/v1/events?kinds=triple,bogus')
    assert.equal(bad.status, 400)
    assert.equal(bad.body.code, 'INVALID_INPUT')
    assert.equal(bad.body.details.field, 'kinds')
  })

  it('ends open streams when the server closes', async () => {
    const other = await startApi()
    const s = await openSse(`${other.base}/api/v1/events`)
    await s.next(e => e.event === 'ready', 5000)
    await other.close()
    await waitFor(() => s.ended(), 5000, 'the stream to end')
    assert.equal(other.engine.listenerCount('change'), 0)
  })
})

describe('event stream limits', () => {
  it('sends heartbeats and caps concurrent subscribers', async () => {
    const api = await startApi()
    const app = Fastify()
    app.setErrorHandler(makeErrorHandler({}))
    eventRoutes(app, { engine: api.engine, version: 'x', bodyLimitBytes: 1024, status: () => { throw new Error('unused') } },
      { heartbeatMs: 30, maxSubscribers: 2 })
    await app.listen({ host: '127.0.0.1', port: 0 })
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v1/events`
    try {
      const a = await openSse(url)
      const b = await openSse(url)
      await waitFor(() => a.comments.includes('heartbeat') && b.comments.includes('heartbeat'), 5000, 'heartbeats')

      const refused = await fetch(url)
      assert.equal(refused.status, 503)
      const body = await refused.json() as { code: string, details: { limit: number } }
      assert.equal(body.code, 'UNAVAILABLE')
      assert.equal(body.details.limit, 2)

      a.close()
      // The slot frees once the server has seen the disconnect.
      const s = await eventually(async () => {
        const tried = await openSse(url)
        if (tried.status === 200) return tried
        tried.close()
        return undefined
      }, 'a free subscriber slot once the server saw the disconnect', { everyMs: 20 })
      assert.equal(s.status, 200)
      b.close()
      s.close()
    } finally {
      await app.close()
      await api.close()
    }
  })
})
