/**
 * The REST API's limits against hostile clients, over real HTTP on loopback (docs/LIMITS.md):
 * a body trickled byte by byte, a connection that says nothing, too many connections from one
 * client, request floods on the sync route and from other machines, and guessing the secret.
 * Another client is served promptly all along. A second loopback address (127.0.0.2) plays the
 * hostile client, so per-client limits can be seen apart from the well-behaved one.
 */
import assert from 'node:assert/strict'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { after, before, describe, it } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { apiLimits, type ApiLimits } from '../../src/api/limits.ts'
import { createApiServer } from '../../src/api/server.ts'
import { asNodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { SyncService } from '../../src/sync/SyncService.ts'
import { createCa, issuePeer } from '../../src/tls/certificates.ts'
import { clientKey } from '../../src/util/clientKey.ts'
import { silentLogger } from '../../src/util/log.ts'
import { KeyedBuckets, TokenBucket } from '../../src/util/tokenBucket.ts'
import { DEFAULT_SETTINGS } from '../sync/helpers.ts'

const HOSTILE = '127.0.0.2'

interface Api { app: FastifyInstance, port: number, base: string, close (): Promise<void> }

/** An API server on 127.0.0.1:0; `now` is the clock of its rate limits (a test holds it still). */
async function startApi (limits: ApiLimits, now?: () => number): Promise<Api> {
  const store = new MemoryStore()
  const engine = new Engine({ store, node: asNodeId('node-limits'), maxDriftMs: 60_000 })
  const sync = new SyncService({ engine, secret: () => 'limits-secret', settings: () => DEFAULT_SETTINGS, log: silentLogger })
  const app = await createApiServer({
    engine, version: 't', bodyLimitBytes: 1024 * 1024, limits, sync, ...(now !== undefined ? { now } : {}),
    status: () => ({ nodeId: 'node-limits', version: 't', startedAt: '', dataDir: '/nowhere', store: { kind: store.kind, path: '' } })
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const port = (app.server.address() as AddressInfo).port
  return { app, port, base: `http://127.0.0.1:${port}`, close: async () => { await sync.stop(); await app.close() } }
}

/** A raw TCP connection from `from`; resolves once connected. */
async function open (port: number, from = HOSTILE): Promise<{ socket: Socket, data: () => string, closed: Promise<number> }> {
  const socket = connect({ host: '127.0.0.1', port, localAddress: from })
  let data = ''
  socket.on('data', d => { data += d.toString('latin1') })
  socket.on('error', () => {})
  const t0 = Date.now()
  const closed = new Promise<number>(resolve => socket.once('close', () => resolve(Date.now() - t0)))
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('close', () => reject(new Error('closed before connecting'))) })
  return { socket, data: () => data, closed }
}

/** GET /api/v1/health from 127.0.0.1: answered 200 (how fast is for npm run bench, not for a test). */
async function health (api: Api): Promise<void> {
  const res = await fetch(`${api.base}/api/v1/health`, { signal: AbortSignal.timeout(30_000) })
  await res.text()
  assert.equal(res.status, 200)
}

/**
 * Long enough for any loaded machine, and far shorter than Node's own defaults (60 s for headers,
 * 300 s for a request, 120 s for a TLS handshake): a close within it is the API's own limit.
 */
const CLOSE_DEADLINE_MS = 30_000

const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms) })]).finally(() => clearTimeout(timer))
}

describe('token buckets', () => {
  it('refill at the rate, hold at most the burst, and lend one batch at most', () => {
    let t = 0
    const b = new TokenBucket({ ratePerSecond: 10, burst: 20 }, () => t)
    for (let i = 0; i < 20; i++) assert.ok(b.take())
    assert.ok(!b.take())
    assert.equal(b.retryAfterMs(), 100)
    t += 1_000
    assert.equal(b.level, 10)
    t += 60_000
    assert.equal(b.level, 20, 'never more than the burst')
    assert.ok(b.takeDebt(50), 'a batch larger than the burst passes once')
    assert.equal(b.level, -30)
    assert.ok(!b.takeDebt(1), 'then waits until the debt is paid')
    t += 3_100
    assert.ok(b.takeDebt(1))
    const keyed = new KeyedBuckets({ ratePerSecond: 1, burst: 1 }, 2, () => t)
    assert.ok(keyed.get('a').take())
    keyed.get('b')
    keyed.get('c') // forgets a, the least recently used
    assert.equal(keyed.size, 2)
    assert.equal(keyed.peek('a'), undefined)
  })

  it('count one client per IPv4 address or IPv6 /64', () => {
    assert.equal(clientKey('10.0.0.5'), '10.0.0.5')
    assert.equal(clientKey('::ffff:10.0.0.5'), '10.0.0.5')
    assert.equal(clientKey('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64')
    assert.equal(clientKey('2001:db8:1:2::9'), '2001:db8:1:2::/64')
    assert.equal(clientKey('2001:0db8:0001:0002::1%eth0'), '2001:db8:1:2::/64')
    assert.equal(clientKey('::1'), '0:0:0:0::/64')
    assert.equal(clientKey('/ip4/192.168.1.9/udp/19091/quic-v1/p2p/12D3Koo'), '192.168.1.9')
    assert.equal(clientKey('/ip6/fe80::1/udp/1/quic-v1'), 'fe80:0:0:0::/64')
    assert.equal(clientKey('mem:node-a'), 'mem:node-a')
    assert.equal(clientKey(undefined), '?')
  })
})

describe('REST time limits and connection caps', () => {
  let api: Api
  before(async () => { api = await startApi(apiLimits({ requestTimeoutMs: 1_500, maxConnectionsPerClient: 20, maxConnections: 64 })) })
  after(async () => { await api.close() })

  it('answers 408 and disconnects a client that trickles its body, and serves others meanwhile', async () => {
    const c = await open(api.port)
    c.socket.write('POST /api/v1/sync/delta HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n')
    const trickle = setInterval(() => { if (!c.socket.destroyed) c.socket.write('{') }, 20)
    try {
      for (let i = 0; i < 5; i++) await health(api)
      const after = await within(c.closed, CLOSE_DEADLINE_MS, 'the trickling connection closed')
      assert.ok(after >= 1_400, `closed after ${after} ms, not before requestTimeoutMs (1500)`)
      assert.match(c.data(), /^HTTP\/1\.1 408 /)
    } finally {
      clearInterval(trickle)
    }
  })

  it('closes a connection that sends no request, and one whose headers trickle', async () => {
    const silent = await open(api.port)
    const headers = await open(api.port)
    headers.socket.write('GET /api/v1/health HTTP/1.1\r\n')
    const drip = setInterval(() => { if (!headers.socket.destroyed) headers.socket.write('x-a: b\r\n') }, 50)
    try {
      const [s, h] = await within(Promise.all([silent.closed, headers.closed]), CLOSE_DEADLINE_MS, 'silent and slow connections closed')
      assert.ok(s >= 1_400 && h >= 1_400, `closed after ${s} and ${h} ms, not before requestTimeoutMs (1500)`)
    } finally {
      clearInterval(drip)
    }
  })

})

describe('REST connection caps', () => {
  let api: Api
  // a request time limit of a minute: a connection closed well before it was refused by the cap
  before(async () => { api = await startApi(apiLimits({ requestTimeoutMs: 60_000, maxConnectionsPerClient: 20, maxConnections: 64 })) })
  after(async () => { await api.close() })

  it('refuses connections over the per-client cap at once; other clients are still served', async () => {
    const held = await Promise.all(Array.from({ length: 20 }, async () => await open(api.port)))
    const extra = await Promise.allSettled(Array.from({ length: 5 }, async () => { const c = await open(api.port); return await within(c.closed, CLOSE_DEADLINE_MS, 'refused') }))
    for (const e of extra) assert.equal(e.status, 'fulfilled', 'connections over the cap are closed as soon as they are accepted')
    await health(api)
    for (const c of held) c.socket.destroy()
  })
})

describe('REST time limits over TLS', () => {
  it('closes a connection that never finishes its TLS handshake, and one that sends no request after it', async () => {
    const ca = await createCa()
    const cert = await issuePeer({ ca, name: 'api', nodeId: '12D3KooWLimitsTestNode' })
    const store = new MemoryStore()
    const engine = new Engine({ store, node: asNodeId('node-limits'), maxDriftMs: 60_000 })
    const app = await createApiServer({
      engine, version: 't', bodyLimitBytes: 1024, limits: apiLimits({ requestTimeoutMs: 1_000 }), https: { cert: cert.certPem, key: cert.keyPem },
      status: () => ({ nodeId: 'node-limits', version: 't', startedAt: '', dataDir: '/nowhere', store: { kind: store.kind, path: '' } })
    })
    await app.listen({ host: '127.0.0.1', port: 0 })
    try {
      const port = (app.server.address() as AddressInfo).port
      const raw = await open(port) // TCP only: never a ClientHello
      const secure = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false })
      secure.on('error', () => {})
      // read (and drop) whatever comes: a paused socket would never see the server's end of it
      secure.resume()
      const t0 = Date.now()
      const secureClosed = new Promise<number>(resolve => secure.once('close', () => resolve(Date.now() - t0)))
      const [r, s2] = await within(Promise.all([raw.closed, secureClosed]), CLOSE_DEADLINE_MS, 'both closed')
      assert.ok(r >= 900 && s2 >= 900, `closed after ${r} and ${s2} ms, not before requestTimeoutMs (1000)`)
    } finally {
      await app.close()
    }
  })
})

describe('REST rate limits', () => {
  let api: Api
  // the buckets' clock moves only when a test moves it: however slowly a loaded machine works
  // through a loop, no token is added behind the test's back
  let clock = Date.now()
  const now = (): number => clock
  before(async () => { api = await startApi(apiLimits({ rateLimitPerSecond: 5 }), now) })
  after(async () => { await api.close() })

  const delta = async (from: string, headers: Record<string, string> = {}): Promise<Response> => {
    const res = await api.app.inject({ method: 'POST', url: '/api/v1/sync/delta', payload: '{}', headers: { 'content-type': 'application/json', ...headers }, remoteAddress: from })
    return new Response(res.body, { status: res.statusCode, headers: res.headers as Record<string, string> })
  }

  it('limits the sync route per client, from this machine too, with retry-after; other routes stay free here', async () => {
    const codes: number[] = []
    for (let i = 0; i < 30; i++) codes.push((await delta('127.0.0.3')).status)
    // the clock stands still: exactly a burst of 4 × 5, then 429
    assert.deepEqual(codes, [...Array<number>(20).fill(200), ...Array<number>(10).fill(429)], `a burst of 4 × 5, then 429: ${codes.join(',')}`)
    const limited = await delta('127.0.0.3')
    assert.equal(limited.status, 429)
    assert.ok(Number(limited.headers.get('retry-after')) >= 1)
    const body = await limited.json() as { code: string, details: { retryAfterMs: number } }
    assert.equal(body.code, 'RATE_LIMITED')
    assert.ok(body.details.retryAfterMs > 0)
    assert.equal((await delta('127.0.0.4')).status, 200, 'another client has its own budget')
    clock += 1_000
    const refilled: number[] = []
    for (let i = 0; i < 8; i++) refilled.push((await delta('127.0.0.3')).status)
    assert.deepEqual(refilled, [200, 200, 200, 200, 200, 429, 429, 429], 'a second later, 5 more (the rate)')
    for (let i = 0; i < 200; i++) assert.equal((await api.app.inject({ method: 'GET', url: '/api/v1/status' })).statusCode, 200, 'programs on this machine use the rest freely')
  })

  it('limits every route for other machines, refused or not', async () => {
    const codes: number[] = []
    for (let i = 0; i < 25; i++) codes.push((await api.app.inject({ method: 'GET', url: '/api/v1/triples', remoteAddress: '192.0.2.7' })).statusCode)
    assert.deepEqual([...new Set(codes)], [403, 429])
    assert.equal(codes.filter(c => c === 403).length, 20)
  })

  it('throttles a client that keeps failing authentication, before checking its signature', async () => {
    const bad = { 'x-engram-node': 'node-guess', 'x-engram-ts': String(Date.now()), 'x-engram-nonce': 'a'.repeat(32), 'x-engram-sig': 'b'.repeat(64) }
    const fast = await startApi(apiLimits({ rateLimitPerSecond: 1_000 }), now)
    try {
      const codes: number[] = []
      for (let i = 0; i < 40; i++) {
        const res = await fast.app.inject({ method: 'POST', url: '/api/v1/sync/delta', payload: '{}', headers: { 'content-type': 'application/json', ...bad }, remoteAddress: '198.51.100.1' })
        codes.push(res.statusCode)
      }
      assert.equal(codes.filter(c => c === 401).length, 30, codes.join(','))
      assert.deepEqual(codes.slice(30), Array(10).fill(429))
      const other = await fast.app.inject({ method: 'POST', url: '/api/v1/sync/delta', payload: '{}', headers: { 'content-type': 'application/json', ...bad }, remoteAddress: '198.51.100.2' })
      assert.equal(other.statusCode, 401, 'another client is not held back')
    } finally {
      await fast.close()
    }
  })
})
