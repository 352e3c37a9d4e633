/**
 * The dashboard's files over real HTTP, as `npm run build` wrote them (dist/web/): the page
 * with its Content-Security-Policy (scripts, styles and connections from its own origin only,
 * no framing), one bundled module and one style sheet named by their content and kept for good,
 * each sent in the brotli or gzip form the client accepts (the same bytes once decoded), ETags
 * answered with 304 per form, unknown files 404, and nothing but the listed files reachable.
 */
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { acceptedCodings } from '../../src/api/routes/dashboard.ts'
import { startApi, type TestApi } from './helpers.ts'

interface Raw { status: number, headers: Record<string, string | string[] | undefined>, body: Buffer }

/** A GET with exactly these headers (fetch would ask for and decode compressed answers itself). */
function get (base: string, path: string, headers: Record<string, string> = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { headers, agent: false }, res => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

describe('the dashboard files', () => {
  let api: TestApi
  let page: string
  before(async () => {
    api = await startApi()
    page = (await get(api.base, '/')).body.toString('utf8')
  })
  after(async () => { await api.close() })

  it('serves the page with a CSP that allows its own origin only', async () => {
    const res = await get(api.base, '/')
    assert.equal(res.status, 200, `${res.status}: ${res.body.toString('utf8').slice(0, 200)} (is the dashboard built? npm run build)`)
    assert.match(String(res.headers['content-type']), /^text\/html/)
    assert.equal(res.headers['cache-control'], 'no-cache', 'the page is revalidated, so a browser runs the node\'s own version')
    const csp = String(res.headers['content-security-policy'])
    for (const d of ["default-src 'none'", "script-src 'self';", "connect-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) assert.ok(csp.includes(d), `${d} in ${csp}`)
    assert.ok(!/https?:|\*|unsafe|sha256/.test(csp), 'no other origin, no inline script')
    assert.equal(res.headers['x-frame-options'], 'DENY')
    assert.equal(res.headers['x-content-type-options'], 'nosniff')
    assert.equal(res.headers['referrer-policy'], 'no-referrer')
  })

  it('names one module and one style sheet by their content, kept for good', async () => {
    const scripts = [...page.matchAll(/<script[^>]*src="([^"]+)"/g)].map(m => m[1]!)
    const sheets = [...page.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map(m => m[1]!)
    assert.equal(scripts.length, 1, `one module: ${scripts.join(', ')}`)
    assert.equal(sheets.length, 1)
    assert.ok(!page.includes('importmap') && !page.includes('<script>'), 'no inline script')
    for (const path of [...scripts, ...sheets]) {
      assert.match(path, /^\/ui\/[a-z]+-[0-9a-f]{16}\.(js|css)$/)
      const res = await get(api.base, path)
      assert.equal(res.status, 200, path)
      assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable')
      assert.match(String(res.headers['content-type']), path.endsWith('.js') ? /^text\/javascript/ : /^text\/css/)
    }
    const js = (await get(api.base, scripts[0]!)).body.toString('utf8')
    assert.ok(js.includes('/api/v1/status/stream'), 'the bundle holds the page\'s own modules')
    assert.ok(!/\bfrom\s*["'](\.{0,2}\/|preact|htm)/.test(js), 'and imports nothing: the libraries are in it')
  })

  it('sends the brotli or gzip form the client accepts, the same bytes once decoded', async () => {
    const path = [...page.matchAll(/src="([^"]+)"/g)][0]![1]!
    const plain = await get(api.base, path)
    assert.equal(plain.headers['content-encoding'], undefined)
    assert.equal(plain.headers.vary, 'accept-encoding')
    const br = await get(api.base, path, { 'accept-encoding': 'gzip, deflate, br' })
    assert.equal(br.headers['content-encoding'], 'br')
    assert.ok(br.body.length < plain.body.length / 2, `${br.body.length} of ${plain.body.length} bytes`)
    assert.deepEqual(brotliDecompressSync(br.body), plain.body)
    const gz = await get(api.base, path, { 'accept-encoding': 'gzip, br;q=0' })
    assert.equal(gz.headers['content-encoding'], 'gzip')
    assert.deepEqual(gunzipSync(gz.body), plain.body)
    const etags = new Set([plain, br, gz].map(r => r.headers.etag))
    assert.equal(etags.size, 3, 'an ETag per form')
    const again = await get(api.base, path, { 'accept-encoding': 'br', 'if-none-match': String(br.headers.etag) })
    assert.equal(again.status, 304)
    assert.equal(again.body.length, 0)
    const first = await get(api.base, '/')
    assert.equal((await get(api.base, '/', { 'if-none-match': String(first.headers.etag) })).status, 304, 'the page too')
  })

  it('answers 404 to anything it does not list', async () => {
    for (const path of ['/ui/nope.js', '/ui/main.js', '/ui/app.js', '/ui/../package.json', '/ui/%2e%2e/package.json', '/ui/index.html', '/ui/index.html.gz', '/ui/vendor/preact.mjs']) {
      const res = await api.request('GET', path)
      assert.equal(res.status, 404, `${path}: ${res.status} ${res.text.slice(0, 80)}`)
      assert.equal(res.body.code, 'NOT_FOUND')
    }
  })

  it('reads Accept-Encoding weights', () => {
    assert.deepEqual([...acceptedCodings('gzip, deflate, br')], ['gzip', 'deflate', 'br'])
    assert.deepEqual([...acceptedCodings('br;q=0, gzip;q=0.5')], ['gzip'])
    assert.deepEqual([...acceptedCodings(undefined)], [])
  })
})
