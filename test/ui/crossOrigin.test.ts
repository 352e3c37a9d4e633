/**
 * A page of another origin, in a real browser, tries the dashboard's routes on a real daemon:
 * reading (the API, the live stream, the event stream), writing (JSON, text/plain "simple"
 * requests that skip the preflight, a form post), deleting, resolving, and framing the
 * dashboard. It reads nothing, changes nothing, and cannot frame the page. (What the API does
 * with such requests — the Host, Origin and Sec-Fetch checks — is the API guard's; this is the
 * browser's view of the whole.)
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { sandbox, type Sandbox } from '../support/daemon.ts'
import { startNode, type Node } from '../sync/daemons.ts'
import { launch, type Browser } from './browser.ts'
import { eventually } from '../support/eventually.ts'

/** The other site's page: every attempt, with what came of it in window.results. */
function evilPage (target: string): string {
  return `<!doctype html><html><body><h1>another site</h1>
<form id="f" method="POST" action="${target}/api/v1/triples" enctype="text/plain" target="sink">
  <input name='{"subject":"evil:form","predicate":"p","object":"x","pad":"' value='"}'>
</form>
<iframe name="sink"></iframe>
<iframe id="framed" src="${target}/"></iframe>
<script>
const target = ${JSON.stringify(target)}
const results = {}
window.results = results
async function attempt (name, f) {
  try { results[name] = 'got: ' + String(await f()).slice(0, 200) } catch (e) { results[name] = 'blocked: ' + e.message }
}
const json = (o) => JSON.stringify(o)
;(async () => {
  await attempt('read triples', async () => (await fetch(target + '/api/v1/triples')).text())
  await attempt('read status', async () => (await fetch(target + '/api/v1/status')).text())
  await attempt('read the live stream', async () => (await fetch(target + '/api/v1/status/stream')).status)
  await attempt('read the events', async () => (await fetch(target + '/api/v1/events')).status)
  await attempt('add, JSON', async () => (await fetch(target + '/api/v1/triples', { method: 'POST', headers: { 'content-type': 'application/json' }, body: json({ subject: 'evil:json', predicate: 'p', object: 'x' }) })).status)
  await attempt('add, text/plain without cors', async () => (await fetch(target + '/api/v1/triples', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: json({ subject: 'evil:text', predicate: 'p', object: 'x' }) })).type)
  await attempt('note, text/plain without cors', async () => (await fetch(target + '/api/v1/notes/victim%3Anote', { method: 'PUT', mode: 'no-cors', body: json({ value: 'evil' }) })).type)
  await attempt('delete a namespace', async () => (await fetch(target + '/api/v1/triples?namespace=victim', { method: 'DELETE' })).status)
  await attempt('resolve, text/plain without cors', async () => (await fetch(target + '/api/v1/conflicts/' + '0'.repeat(32) + '/resolve', { method: 'POST', mode: 'no-cors', body: json({ keep: 'other' }) })).type)
  await attempt('event source', () => new Promise((resolve, reject) => {
    const es = new EventSource(target + '/api/v1/status/stream')
    es.onmessage = (e) => { es.close(); resolve(e.data) }
    es.addEventListener('ready', (e) => { es.close(); resolve(e.data) })
    es.onerror = () => { es.close(); reject(new Error('EventSource failed')) }
  }))
  await attempt('read the framed page', async () => document.getElementById('framed').contentDocument.body.innerHTML)
  document.getElementById('f').submit()
  results.done = true
})()
</script></body></html>`
}

describe('a page of another origin', () => {
  let box: Sandbox
  let node: Node
  let server: Server
  let browser: Browser
  let evil = ''
  before(async () => {
    box = sandbox()
    node = await startNode(box, 'victim')
    server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }).end(evilPage(node.url)) })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    evil = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
    server?.close()
    await node?.kill()
    box.remove()
  })

  it('reads nothing, changes nothing and cannot frame the dashboard', async () => {
    await node.client.request('POST', '/api/v1/triples', { body: { triples: [{ subject: 'victim:a', predicate: 'p', object: 1 }, { subject: 'victim:b', predicate: 'p', object: 2 }] } })
    const before = (await node.client.status()).store.stats
    const page = await browser.open(evil)
    const results = (): Promise<Record<string, string | boolean>> => page.evaluate('window.results ?? {}')
    await eventually(async () => (await results()).done === true, async () => `the other site's attempts: ${JSON.stringify(await results())}`)
    const got = await results()
    for (const name of ['read triples', 'read status', 'read the live stream', 'read the events', 'add, JSON', 'delete a namespace', 'event source', 'read the framed page']) {
      assert.match(String(got[name]), /^blocked: /, `${name}: ${got[name]}`)
    }
    // "simple" requests leave the browser (their answers stay opaque): the node must refuse them itself
    for (const name of ['add, text/plain without cors', 'note, text/plain without cors', 'resolve, text/plain without cors']) {
      assert.match(String(got[name]), /^(got: opaque|blocked: )/, `${name}: ${got[name]}`)
    }

    const framed = page.frames().find(f => f.name() !== 'sink' && f !== page.mainFrame())
    assert.ok(framed !== undefined)
    assert.doesNotMatch(await framed.content(), /id="app"|engram dashboard/i, 'the dashboard did not render in the frame')

    // the form post went out too; give the node time to have answered it
    await new Promise(resolve => setTimeout(resolve, 1000))
    const { triples } = await node.client.queryTriples({})
    assert.deepEqual(triples.map(t => t.subject).sort(), ['victim:a', 'victim:b'], 'nothing added, nothing deleted')
    assert.deepEqual((await node.client.status()).store.stats, before, 'the store did not change')
    await assert.rejects(node.client.request('GET', '/api/v1/notes/victim%3Anote'), (e: Error & { code?: string }) => e.code === 'NOT_FOUND')
  })
})
