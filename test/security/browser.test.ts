/**
 * A web page against a real daemon's local API, in a real headless Chromium (Debian's chromium,
 * driven by playwright-core): a page of another site tries every route of the API with every
 * way a page has of sending a request (fetch in cors and no-cors mode, forms of each encoding,
 * beacons, an event source), and a page on a DNS name re-pointed at 127.0.0.1 (DNS rebinding:
 * the browser then sees the API as its own origin and may read what it answers) tries a full
 * read and every write. None may succeed: every request the browser sends is answered 403 (a
 * recording proxy in front of the daemon sees each one and its answer), the page reads no data,
 * and the daemon's data, peers and P2P peers are exactly as before. A link still opens the
 * dashboard page, a frame of it is refused, and the CLI keeps working.
 *
 * The attack pages are served by the browser itself (page.route), so the only server the
 * browser reaches is the daemon, through the proxy; Chromium's resolver maps the attackers'
 * names to 127.0.0.1.
 */
import assert from 'node:assert/strict'
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { chromium, type Browser, type Page } from 'playwright-core'
import { startApi } from '../api/helpers.ts'
import { sandbox, type Sandbox } from '../cli/helpers.ts'
import { freePorts } from '../native/daemons.ts'
import { startNode, type Node } from '../sync/daemons.ts'
import { eventually } from '../support/eventually.ts'

const CHROMIUM = '/usr/bin/chromium'
const SEED = 'Zq8-browser-test_seed-4Kp2wX'

interface Route { readonly method: string, readonly path: string }

/** The few browser globals the attack pages use (the page scripts run in Chromium, not in Node). */
interface El { name: string, value: string, src: string, method: string, action: string, enctype: string, target: string, href: string, onload: (() => void) | null, append (e: El): void, submit (): void }
declare const document: { createElement (tag: string): El, getElementById (id: string): El | null, body: El }
interface BrowserEventSource { onmessage: ((e: { data: unknown }) => void) | null, onerror: (() => void) | null, addEventListener (type: string, f: (e: { data: unknown }) => void): void, close (): void }

/** Every route of the API, from fastify's own route tree (parameters filled in below). */
async function apiRoutes (): Promise<Route[]> {
  const api = await startApi()
  try {
    await api.app.ready()
    const tree = api.app.printRoutes({ commonPrefix: false })
    const out: Route[] = []
    const stack: string[] = []
    for (const line of tree.split('\n')) {
      const m = /^([│ ]*)[├└]── (\S+) \(([A-Z, ]+)\)$/.exec(line)
      if (m === null) continue
      const depth = m[1]!.length / 4
      stack.length = depth
      stack.push(m[2]!)
      for (const method of m[3]!.split(', ')) if (method !== 'HEAD') out.push({ method, path: stack.join('') })
    }
    return out
  } finally {
    await api.close()
  }
}

/** A body for each route that would leave a visible trace if it were accepted. */
function fill (path: string, victimTripleId: string): { path: string, body: unknown } {
  const p = path.replace('/api/v1/triples/:id', `/api/v1/triples/${victimTripleId}`)
    .replace('/api/v1/notes/*', '/api/v1/notes/victim:note').replace('/api/v1/sync/peers/:name', '/api/v1/sync/peers/victim-peer')
    .replace(':id', 'x').replace('*', 'x')
  const body = p === '/api/v1/triples' ? { subject: 'attack:x', predicate: 'p', object: 'o' }
    : p.startsWith('/api/v1/notes/') ? { value: 'attacked' }
      : p === '/api/v1/sync/peers' ? { name: 'attacker', url: 'http://10.9.9.9:1' }
        : p === '/api/v1/p2p/peers' ? { addr: '10.9.9.9:19091' }
          : p === '/api/v1/traces' ? { id: 'attack', type: 'x', data: {} }
            : p === '/api/v1/episodes' ? { id: 'attack', summary: 'x' }
              : {}
  return { path: p, body }
}

/** What the page could read, per attempt. */
interface Seen { readonly what: string, readonly status?: number, readonly type?: string, readonly text?: string, readonly error?: string }

/** Runs in the page: every technique against every route; returns what the page could see. */
async function attack (arg: { base: string, targets: ReadonlyArray<{ method: string, path: string, body: unknown }> }): Promise<Seen[]> {
  const seen: Seen[] = []
  const beacon = (url: string, data: unknown): void => { (navigator as unknown as { sendBeacon (u: string, d: unknown): boolean }).sendBeacon(url, data) }
  const tryFetch = async (what: string, url: string, init: RequestInit): Promise<void> => {
    try {
      const r = await fetch(url, init)
      let text = ''
      try { text = await r.text() } catch { /* opaque */ }
      seen.push({ what, status: r.status, type: r.type, text: text.slice(0, 4000) })
    } catch (e) {
      seen.push({ what, error: String(e) })
    }
  }
  const submit = async (url: string, enctype: string, json: string): Promise<void> => {
    const frame = document.createElement('iframe')
    frame.name = `f${Math.random()}`
    document.body.append(frame)
    const loaded = new Promise<void>(resolve => { frame.onload = () => { resolve() }; setTimeout(resolve, 3000) })
    const form = document.createElement('form')
    form.method = 'POST'
    form.action = url
    form.enctype = enctype
    form.target = frame.name
    const input = document.createElement('input')
    input.name = json.slice(0, -2)
    input.value = json.slice(-2)
    form.append(input)
    document.body.append(form)
    form.submit()
    await loaded
  }
  const one = async (t: { method: string, path: string, body: unknown }): Promise<void> => {
    const url = arg.base + t.path
    const json = JSON.stringify(t.body)
    const what = `${t.method} ${t.path}`
    if (t.method === 'GET') {
      await tryFetch(`${what} cors`, url, {})
      await tryFetch(`${what} no-cors`, url, { mode: 'no-cors' })
    } else if (t.method === 'POST') {
      await tryFetch(`${what} no-cors, no body`, url, { method: 'POST', mode: 'no-cors' })
      await tryFetch(`${what} no-cors, text/plain`, url, { method: 'POST', mode: 'no-cors', body: json, headers: { 'content-type': 'text/plain' } })
      await tryFetch(`${what} cors, json`, url, { method: 'POST', body: json, headers: { 'content-type': 'application/json' } })
      beacon(url, json)
      beacon(url, new Blob([json], { type: 'text/plain' }))
      for (const enctype of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) await submit(url, enctype, json)
    } else {
      await tryFetch(`${what} cors, json`, url, { method: t.method, body: json, headers: { 'content-type': 'application/json' } })
      await tryFetch(`${what} cors, no body`, url, { method: t.method })
    }
  }
  // Six routes at a time (the connections a browser opens to one host): every technique
  // against every route, as before, in less time.
  const queue = [...arg.targets]
  await Promise.all(Array.from({ length: 6 }, async () => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) await one(t)
  }))
  await new Promise<void>(resolve => {
    const es = new (globalThis as unknown as { EventSource: new (url: string) => BrowserEventSource }).EventSource(arg.base + '/api/v1/events')
    es.onmessage = e => { seen.push({ what: 'event source message', text: String(e.data) }) }
    es.addEventListener('ready', e => { seen.push({ what: 'event source ready', text: String(e.data) }) })
    es.onerror = () => { es.close(); resolve() }
    setTimeout(() => { es.close(); resolve() }, 3000)
  })
  return seen
}

/** A proxy in front of the daemon that records each request and the status it was answered. */
async function recordingProxy (target: string): Promise<{ url: string, log: Array<{ method: string, url: string, host: string, origin?: string, site?: string, status: number }>, close (): Promise<void> }> {
  const log: Array<{ method: string, url: string, host: string, origin?: string, site?: string, status: number }> = []
  const t = new URL(target)
  const server: Server = createServer((req, res) => {
    const up = httpRequest({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers, setHost: false }, upRes => {
      log.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', origin: req.headers.origin, site: req.headers['sec-fetch-site'] as string | undefined, status: upRes.statusCode ?? 0 })
      res.writeHead(upRes.statusCode ?? 502, upRes.headers)
      upRes.pipe(res)
    })
    up.on('error', () => { res.destroy() })
    req.pipe(up)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: async () => { server.closeAllConnections(); await new Promise<void>(resolve => server.close(() => resolve())) }
  }
}

/** A server that stands for a paired peer and counts the sync calls it receives. */
async function countingPeer (): Promise<{ url: string, calls: () => number, close (): Promise<void> }> {
  let calls = 0
  const server = createServer((_req, res) => { calls++; res.writeHead(503).end() })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls: () => calls,
    close: async () => { server.closeAllConnections(); await new Promise<void>(resolve => server.close(() => resolve())) }
  }
}

describe('a web page against the local API (real Chromium, real daemon)', () => {
  let box: Sandbox
  let victim: Node
  let proxy: Awaited<ReturnType<typeof recordingProxy>>
  let peer: Awaited<ReturnType<typeof countingPeer>>
  let browser: Browser
  let routes: Route[]
  let tripleId: string

  /** What the attacks must not change: data, polled peers, P2P peers, calls to the peer. */
  const state = async (): Promise<string> => JSON.stringify({
    triples: (await victim.client.queryTriples({ limit: 1000 })).triples,
    notes: (await victim.client.listNotes({ limit: 1000 })).notes,
    peers: (await victim.client.syncStatus()).peers.map(p => [p.name, p.url, p.status]),
    p2p: await victim.client.request('GET', '/api/v1/p2p/peers'),
    traces: await victim.client.request('GET', '/api/v1/traces'),
    episodes: await victim.client.request('GET', '/api/v1/episodes'),
    peerCalls: peer.calls()
  })

  const settle = async (): Promise<void> => {
    // Beacons and form posts may still be on their way: wait until the proxy saw nothing new for a while.
    let n = -1
    for (let i = 0; i < 100 && n !== proxy.log.length; i++) {
      n = proxy.log.length
      await new Promise(resolve => setTimeout(resolve, 300))
    }
  }

  const openPage = async (url: string): Promise<Page> => {
    const ctx = await browser.newContext()
    const page = await ctx.newPage()
    await page.route(url.replace(/\/[^/]*$/, '/attack.html'), r => r.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><html><body><a id="dashboard">dashboard</a></body></html>' }))
    await page.goto(url.replace(/\/[^/]*$/, '/attack.html'))
    return page
  }

  before(async () => {
    box = sandbox()
    routes = await apiRoutes()
    peer = await countingPeer()
    const [p2pPort] = await freePorts(1)
    victim = await startNode(box, 'victim', { config: { p2p: { enabled: true, seed: SEED, port: p2pPort }, sync: { retryBaseMs: 600_000 } } })
    tripleId = (await victim.client.addTriple('victim:alice', 'knows', 'victim:bob')).id
    await victim.client.setNote('victim:note', 'the victim\'s note')
    await victim.client.pairPeer('victim-peer', peer.url)
    // Pairing pulls at once: wait for that call, so that only the attacks could make more.
    for (let i = 0; i < 200 && peer.calls() === 0; i++) await new Promise(resolve => setTimeout(resolve, 50))
    proxy = await recordingProxy(victim.url)
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--host-resolver-rules=MAP evil.test 127.0.0.1, MAP attacker.test 127.0.0.1',
        // Chromium's own guard for requests from public pages to this machine (a permission
        // prompt the user may accept; other browsers have none) is off: the API's guard is tested.
        '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults']
    })
  })

  after(async () => {
    await browser?.close()
    await proxy?.close()
    // Bounded: had an attack got through, the node might be busy with the peers it added. The
    // bound's timer is cleared once the node stopped (a pending one keeps this process alive).
    if (victim !== undefined) {
      let bound: NodeJS.Timeout | undefined
      await Promise.race([victim.stop(), new Promise(resolve => { bound = setTimeout(resolve, 30_000) })]).finally(() => { clearTimeout(bound); victim.kill() })
    }
    await peer?.close()
    box?.remove()
  })

  it('a page of another site: every route, every way of sending, none succeeds', async () => {
    const before = await state()
    const targets = routes.map(r => ({ method: r.method, ...fill(r.path, tripleId) }))
    const page = await openPage('http://attacker.test:8080/')
    const seen = await page.evaluate(attack, { base: proxy.url, targets })
    await settle()
    const sent = proxy.log.filter(r => r.url !== '/attack.html')
    // The browser did send the requests (the guard, not the browser, refused them) ...
    assert.ok(sent.length >= targets.length, `the proxy saw ${sent.length} requests for ${targets.length} routes`)
    // ... and every one was refused.
    const through = sent.filter(r => r.status !== 403)
    assert.deepEqual(through, [], `requests that were not refused: ${JSON.stringify(through.slice(0, 5))}`)
    const readable = seen.filter(s => s.status !== undefined && s.status !== 0 && s.status < 400)
    assert.deepEqual(readable, [], 'nothing the page could read succeeded')
    assert.ok(!seen.some(s => s.what.startsWith('event source')), 'the event stream sent the page nothing')
    assert.equal(await state(), before, 'data, peers and P2P peers unchanged; no sync was started')
    await page.context().close()
  })

  it('a page on a DNS name re-pointed at 127.0.0.1: no answer with data, nothing written', async () => {
    const before = await state()
    const host = new URL(proxy.url).host.replace('127.0.0.1', 'evil.test')
    const page = await openPage(`http://${host}/`)
    const from = proxy.log.length
    const targets = routes.map(r => ({ method: r.method, ...fill(r.path, tripleId) }))
    const seen = await page.evaluate(attack, { base: '', targets })
    await settle()
    const sent = proxy.log.slice(from)
    assert.ok(sent.length >= targets.length, `the proxy saw ${sent.length} requests for ${targets.length} routes`)
    assert.ok(sent.every(r => r.host === host), 'the browser named its own host')
    assert.deepEqual(sent.filter(r => r.status !== 403), [], 'every request refused')
    // Same-origin from the browser's view: it reads every answer, and none holds data.
    const answers = seen.filter(s => s.type === 'basic')
    assert.ok(answers.length >= targets.length, `the page read ${answers.length} answers`)
    for (const a of answers) {
      assert.equal(a.status, 403, a.what)
      assert.equal(JSON.parse(a.text!).code, 'FORBIDDEN', a.what)
      assert.ok(!a.text!.includes('victim'), `${a.what} answered no data`)
    }
    assert.equal(await state(), before)
    await page.context().close()
  })

  it('a link from another site still opens the dashboard page, a frame does not; the CLI keeps working', async () => {
    const page = await openPage('http://attacker.test:8080/')
    await page.evaluate(href => { document.getElementById('dashboard')!.href = href }, proxy.url + '/')
    const from = proxy.log.length
    await Promise.all([page.waitForNavigation({ timeout: 20_000 }), page.click('#dashboard')])
    const nav = proxy.log.slice(from).find(r => r.url === '/')
    assert.ok(nav !== undefined, 'the navigation reached the daemon')
    assert.notEqual(nav.status, 403, 'a top-level navigation to the page is not refused')
    assert.equal(nav.site, 'cross-site')
    await page.context().close()

    // A frame of the dashboard is no navigation: refused (and every answer forbids framing).
    const framer = await openPage('http://attacker.test:8080/')
    const fromFrame = proxy.log.length
    await framer.evaluate(src => { const f = document.createElement('iframe'); f.src = src; document.body.append(f) }, proxy.url + '/')
    const framed = await eventually(() => proxy.log.slice(fromFrame).find(r => r.url === '/'), 'the frame\'s request at the daemon')
    assert.equal(framed.status, 403, 'the dashboard refuses to be framed by another site')
    await framer.context().close()
    const r = await victim.cli(['add', 'victim:carol', 'likes', 'tea'])
    assert.equal(r.code, 0, r.stderr)
    const q = await victim.cli(['query', '--subject', 'victim:carol', '--json'])
    assert.equal(q.code, 0, q.stderr)
  })
})
