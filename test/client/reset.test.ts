/**
 * The REST client on a connection closed under a request (a kept-alive connection the daemon
 * closed as idle as the request went out): a read is sent once more on a new connection; a write
 * is never repeated. Over a real HTTP server on loopback whose first connection is reset.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { ApiClient } from '../../src/client/ApiClient.ts'

describe('ApiClient on a reset connection', () => {
  let server: Server
  let base = ''
  /** Requests that reached the server, and how many of them it answered by resetting. */
  const seen: string[] = []
  let resetsLeft = 0

  before(async () => {
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`)
      if (resetsLeft > 0) { resetsLeft--; req.socket.resetAndDestroy(); return }
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ ok: true }))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => { server.closeAllConnections(); await new Promise(resolve => server.close(resolve)) })

  it('a read whose connection is reset is sent once more and answered', async () => {
    seen.length = 0
    resetsLeft = 1
    const r = await new ApiClient(base, { timeoutMs: 30_000 }).request<{ ok: boolean }>('GET', '/api/v1/health')
    assert.deepEqual(r, { ok: true })
    assert.deepEqual(seen, ['GET /api/v1/health', 'GET /api/v1/health'])
  })

  it('a read reset twice fails as unreachable, after two tries', async () => {
    seen.length = 0
    resetsLeft = 2
    await assert.rejects(new ApiClient(base, { timeoutMs: 30_000 }).request('GET', '/api/v1/health'), (e: Error & { code?: string }) => e.code === 'UNAVAILABLE')
    assert.equal(seen.length, 2)
  })

  it('a write whose connection is reset is not repeated: the caller is told', async () => {
    seen.length = 0
    resetsLeft = 1
    await assert.rejects(new ApiClient(base, { timeoutMs: 30_000 }).request('POST', '/api/v1/triples', { body: { subject: 's', predicate: 'p', object: 'o' } }), (e: Error & { code?: string }) => e.code === 'UNAVAILABLE')
    assert.deepEqual(seen, ['POST /api/v1/triples'])
  })
})
