/**
 * The dashboard's files over real HTTP: the page with its Content-Security-Policy (its inline
 * import map allowed by hash, nothing from another origin, no framing), every module the page
 * imports served from the package (the libraries from the installed packages), ETags answered
 * with 304, unknown files 404, and nothing but the listed files reachable.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { startApi, type TestApi } from './helpers.ts'

describe('the dashboard files', () => {
  let api: TestApi
  before(async () => { api = await startApi() })
  after(async () => { await api.close() })

  it('serves the page with a CSP that allows its own origin and its import map only', async () => {
    const res = await api.request('GET', '/')
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/)
    const csp = res.headers.get('content-security-policy') ?? ''
    const map = /<script type="importmap">([\s\S]*?)<\/script>/.exec(res.text)
    assert.ok(map !== null, 'the page has an import map')
    const hash = createHash('sha256').update(map[1]!).digest('base64')
    assert.ok(csp.includes(`script-src 'self' 'sha256-${hash}'`), csp)
    for (const d of ["default-src 'none'", "connect-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) assert.ok(csp.includes(d), `${d} in ${csp}`)
    assert.ok(!/https?:|\*/.test(csp), 'no other origin is allowed')
    assert.equal(res.headers.get('x-frame-options'), 'DENY')
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer')
  })

  it('serves every module the page imports, the libraries included', async () => {
    const page = (await api.request('GET', '/')).text
    const seen = new Set<string>()
    const queue = [...page.matchAll(/(?:src|href)="(\/ui\/[^"]+)"/g)].map(m => m[1]!)
    for (const m of page.matchAll(/"(\/ui\/vendor\/[^"]+)"/g)) queue.push(m[1]!)
    for (let i = 0; i < queue.length && i < 200; i++) {
      const path = queue[i]!
      if (seen.has(path)) continue
      seen.add(path)
      const res = await api.request('GET', path)
      assert.equal(res.status, 200, `${path}: ${res.status}`)
      assert.ok(res.headers.get('etag') !== null)
      if (!path.endsWith('.js') && !path.endsWith('.mjs')) continue
      assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/)
      // relative imports of the module, resolved against it
      for (const m of res.text.matchAll(/(?:import|from)\s*["'](\.{1,2}\/[^"']+)["']/g)) queue.push(new URL(m[1]!, `http://x${path}`).pathname)
    }
    for (const lib of ['/ui/vendor/preact.mjs', '/ui/vendor/hooks.mjs', '/ui/vendor/htm.mjs', '/ui/app.js', '/ui/views/SyncView.js']) assert.ok(seen.has(lib), `${lib} was reached`)
    assert.ok(seen.size > 20, `${seen.size} files`)
  })

  it('answers 304 to a matching ETag, 404 to anything it does not list', async () => {
    const first = await api.request('GET', '/ui/app.js')
    const again = await api.request('GET', '/ui/app.js', undefined, { 'if-none-match': first.headers.get('etag')! })
    assert.equal(again.status, 304)
    assert.equal(again.text, '')
    for (const path of ['/ui/nope.js', '/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/index.html', '/ui/vendor/../../src/index.ts']) {
      const res = await api.request('GET', path)
      assert.equal(res.status, 404, `${path}: ${res.status} ${res.text.slice(0, 80)}`)
      assert.equal(res.body.code, 'NOT_FOUND')
    }
  })
})
