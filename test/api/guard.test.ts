/**
 * The local API's request rule (src/api/guard.ts), case by case: Host names, cross-site
 * requests (Origin, Sec-Fetch-Site), the navigation to a page, POSTs a web form could send, and
 * the API token.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { apiTokenExempt, checkRequest, hostAllowed, type GuardedRequest, type GuardRules } from '../../src/api/guard.ts'

const RULES: GuardRules = { allowedHosts: ['engram.home.arpa'] }

const req = (over: Partial<GuardedRequest> & { h?: Record<string, string> } = {}): GuardedRequest => ({
  method: over.method ?? 'GET',
  route: over.route ?? '/api/v1/triples',
  page: over.page,
  scheme: over.scheme ?? 'http',
  fromLoopback: over.fromLoopback ?? true,
  headers: { host: '127.0.0.1:19090', ...over.h }
})

const refused = (r: GuardedRequest, rules: GuardRules = RULES): string | undefined => {
  const e = checkRequest(r, rules)
  return e === undefined ? undefined : `${e.code} ${(e.details as { rule?: string } | undefined)?.rule ?? ''}`.trim()
}

describe('Host', () => {
  test('loopback names and addresses, and configured names, are allowed', () => {
    for (const host of ['127.0.0.1:19090', '127.0.0.1', '127.8.9.10:1', 'localhost:19090', 'LOCALHOST', 'ui.localhost:8080',
      'a.b.localhost', '[::1]:19090', '[::1]', 'engram.home.arpa:19090', 'ENGRAM.home.arpa']) {
      assert.equal(hostAllowed(host, RULES.allowedHosts), true, host)
      assert.equal(refused(req({ h: { host } })), undefined, host)
    }
  })

  test('any other name is refused: a DNS-rebinding page names its own host', () => {
    for (const host of ['evil.example:19090', 'evil.example', 'localhost.evil.example', '127.0.0.1.nip.io:19090', 'localhost.',
      '10.0.0.5:19090', '[fe80::1]:19090', '[::ffff:7f00:1]', '', 'local host', 'localhost:99999999', '[::1', 'home.arpa']) {
      assert.equal(refused(req({ h: { host } })), 'FORBIDDEN host', host)
    }
    const noHost = req()
    assert.equal(refused({ ...noHost, headers: {} }), 'FORBIDDEN host')
  })

  test('requests from other machines are not held to it (they reach the peer routes only)', () => {
    assert.equal(refused(req({ fromLoopback: false, route: '/api/v1/health', h: { host: 'desktop.lan:19090' } })), undefined)
  })
})

describe('cross-site requests', () => {
  test('the same origin is allowed; any other origin is refused', () => {
    assert.equal(refused(req({ h: { origin: 'http://127.0.0.1:19090' } })), undefined)
    assert.equal(refused(req({ h: { host: 'localhost:19090', origin: 'http://localhost:19090' } })), undefined)
    assert.equal(refused(req({ scheme: 'https', h: { origin: 'https://127.0.0.1:19090' } })), undefined)
    for (const origin of ['https://evil.example', 'http://127.0.0.1:19091', 'http://localhost:19090', 'https://127.0.0.1:19090', 'null', '']) {
      assert.equal(refused(req({ h: { origin } })), 'FORBIDDEN cross-site', origin)
    }
  })

  test('Sec-Fetch-Site must be same-origin or none', () => {
    assert.equal(refused(req({ h: { 'sec-fetch-site': 'same-origin' } })), undefined)
    assert.equal(refused(req({ h: { 'sec-fetch-site': 'none' } })), undefined)
    for (const site of ['cross-site', 'same-site', 'other']) {
      assert.equal(refused(req({ h: { 'sec-fetch-site': site } })), 'FORBIDDEN cross-site', site)
    }
  })

  test('a top-level navigation may open a page from a link, nothing else', () => {
    const nav = { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }
    assert.equal(refused(req({ route: '/', h: nav })), undefined)
    assert.equal(refused(req({ route: '/ui/peers', page: true, h: nav })), undefined)
    // Not a page, framed, fetched, posted, or with an Origin: refused.
    assert.equal(refused(req({ route: '/api/v1/triples', h: nav })), 'FORBIDDEN cross-site')
    assert.equal(refused(req({ route: '/', h: { ...nav, 'sec-fetch-dest': 'iframe' } })), 'FORBIDDEN cross-site')
    assert.equal(refused(req({ route: '/', h: { ...nav, 'sec-fetch-mode': 'no-cors' } })), 'FORBIDDEN cross-site')
    assert.equal(refused(req({ route: '/', method: 'POST', h: { ...nav, 'content-type': 'application/json' } })), 'FORBIDDEN cross-site')
    assert.equal(refused(req({ route: '/', h: { ...nav, origin: 'https://evil.example' } })), 'FORBIDDEN cross-site')
    // The Host rule still holds for pages.
    assert.equal(refused(req({ route: '/', h: { ...nav, host: 'evil.example' } })), 'FORBIDDEN host')
  })
})

describe('POST', () => {
  test('needs a JSON body or a header no form can send', () => {
    const post = (h: Record<string, string>): string | undefined => refused(req({ method: 'POST', route: '/api/v1/sync/now', h }))
    assert.equal(post({ 'content-type': 'application/json' }), undefined)
    assert.equal(post({ 'content-type': 'application/json; charset=utf-8' }), undefined)
    assert.equal(post({ 'content-type': 'application/merge-patch+json' }), undefined)
    assert.equal(post({ 'x-engram-client': 'engram' }), undefined)
    assert.equal(post({ authorization: 'Bearer x' }), undefined)
    for (const ct of ['', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp']) {
      assert.equal(post(ct === '' ? {} : { 'content-type': ct }), 'FORBIDDEN post', ct)
    }
  })

  test('PUT, PATCH and DELETE need none: browsers preflight them, and no preflight is granted', () => {
    for (const method of ['PUT', 'PATCH', 'DELETE']) assert.equal(refused(req({ method })), undefined, method)
  })
})

describe('the API token (api.requireToken)', () => {
  const token = 'k'.repeat(43)
  const rules: GuardRules = { allowedHosts: [], token, tokenExempt: apiTokenExempt }
  test('every local route needs it', () => {
    assert.equal(refused(req(), rules), 'UNAUTHORIZED')
    assert.equal(refused(req({ h: { authorization: 'Bearer nope' } }), rules), 'UNAUTHORIZED')
    assert.equal(refused(req({ h: { authorization: `Basic ${token}` } }), rules), 'UNAUTHORIZED')
    assert.equal(refused(req({ h: { authorization: `Bearer ${token}` } }), rules), undefined)
    assert.equal(refused(req({ h: { authorization: `bearer  ${token} ` } }), rules), undefined)
    assert.equal(refused(req({ method: 'POST', route: '/api/v1/sync/delta', h: { 'content-type': 'application/json' } }), rules), 'UNAUTHORIZED')
  })

  test('what other machines may reach anyway, signed sync requests and pages do not', () => {
    assert.equal(refused(req({ route: '/api/v1/health' }), rules), undefined)
    assert.equal(refused(req({ route: '/api/v1/p2p/status' }), rules), undefined)
    assert.equal(refused(req({ route: '/' }), rules), undefined)
    assert.equal(refused(req({ route: '/ui', page: true }), rules), undefined)
    assert.equal(refused(req({ method: 'POST', route: '/api/v1/sync/delta', h: { 'content-type': 'application/json', 'x-engram-sig': 'x' } }), rules), undefined)
    assert.equal(refused(req({ fromLoopback: false, route: '/api/v1/triples' }), rules), undefined)
  })
})
