/**
 * How the REST client talks to a daemon: over node:http, without the built-in fetch (a CLI call
 * would spend more CPU starting it than on the rest of its work), and failing as it did over
 * fetch: nothing listening is UNREACHABLE naming the errno, a daemon that does not answer (or
 * stops sending its body) within the deadline is UNREACHABLE "no answer within", a body that is
 * not JSON is PROTOCOL. Over real HTTP servers on loopback.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { ApiClient } from '../../src/client/ApiClient.ts'

type Failure = Error & { code?: string, details?: Record<string, unknown> }

describe('ApiClient over node:http', () => {
  let server: Server
  let base = ''
  const held: Array<() => void> = []

  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/silent') { held.push(() => res.end()); return }
      if (req.url === '/stalled') {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.write('{"ok":')
        held.push(() => res.end('true}'))
        return
      }
      if (req.url === '/html') { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html></html>'); return }
      if (req.url === '/echo') {
        let body = ''
        req.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => {
          res.writeHead(201, { 'content-type': 'application/json' })
          res.end(JSON.stringify({ method: req.method, body: JSON.parse(body) as unknown, length: req.headers['content-length'] ?? null, client: req.headers['x-engram-client'] ?? null }))
        })
        return
      }
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: 'no such route', code: 'NOT_FOUND', details: { path: req.url } }))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    for (const end of held) end()
    server.closeAllConnections()
    await new Promise(resolve => server.close(resolve))
  })

  it('sends JSON with its length and the client header, and reads the answer', async () => {
    const r = await new ApiClient(base).request<Record<string, unknown>>('POST', '/echo', { body: { note: 'é' } })
    assert.deepEqual(r, { method: 'POST', body: { note: 'é' }, length: String(Buffer.byteLength('{"note":"é"}')), client: 'engram' })
  })

  it('gives the daemon\'s own error as it sent it', async () => {
    await assert.rejects(new ApiClient(base).request('GET', '/missing'), (e: Failure) => e.code === 'NOT_FOUND' && e.details?.path === '/missing' && e.details.status === 404)
  })

  it('says PROTOCOL when what answered is not an engram daemon', async () => {
    await assert.rejects(new ApiClient(base).request('GET', '/html'), (e: Failure) => e.code === 'PROTOCOL' && /not JSON/.test(e.message))
  })

  it('says UNREACHABLE, naming the errno, when nothing listens', async () => {
    const probe = createServer()
    await new Promise<void>(resolve => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as AddressInfo).port
    await new Promise(resolve => probe.close(resolve))
    await assert.rejects(new ApiClient(`http://127.0.0.1:${port}`).request('GET', '/api/v1/health'),
      (e: Failure) => e.code === 'UNAVAILABLE' && e.details?.unreachable === true && /\(ECONNREFUSED\); start one with `engram start`/.test(e.message))
  })

  it('says UNREACHABLE "no answer within" when the daemon does not answer by the deadline', async () => {
    await assert.rejects(new ApiClient(base, { timeoutMs: 300 }).request('GET', '/silent'),
      (e: Failure) => e.code === 'UNAVAILABLE' && /no answer within 0\.3 s/.test(e.message))
  })

  it('fails with the deadline when the body stops coming, as fetch did', async () => {
    await assert.rejects(new ApiClient(base, { timeoutMs: 300 }).request('GET', '/stalled'), (e: Error) => e.name === 'TimeoutError')
  })

  it('does not load the built-in fetch (undici) in a process that only talks to a daemon', async () => {
    const client = fileURLToPath(new URL('../../src/client/ApiClient.ts', import.meta.url))
    const script = `const { ApiClient } = await import(${JSON.stringify(client)});
      const e = await new ApiClient(${JSON.stringify(base)}, { timeoutMs: 20_000 }).request('GET', '/missing').catch(e => e);
      process.stdout.write(JSON.stringify({ code: e.code, undici: process.moduleLoadList.filter(m => m.includes('undici')) }))`
    // asynchronously: the server answering it runs in this process
    const r = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 })
    assert.deepEqual(JSON.parse(r.stdout), { code: 'NOT_FOUND', undici: [] })
  })
})
