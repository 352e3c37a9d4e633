/**
 * The dashboard in a real browser (Debian's chromium) against two real daemons syncing natively
 * over QUIC: each page shows the other node connected; a write through the CLI on one node
 * shows on the other's page without a reload (the latency is printed, not asserted); an edit, an
 * observation and a namespace delete made in a page reach the other node; the header's search
 * box finds records by their words (a synced one too), marked; every view is written to
 * docs/screenshots/. Waits are conditions polled with generous deadlines.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Page } from 'playwright-core'
import { daemonsFixture, startMesh, type P2pNode } from '../native/daemons.ts'
import { launch, screenshot, textOf, type Browser } from './browser.ts'
import { eventually } from '../support/eventually.ts'

const { box, live } = daemonsFixture()

/** Clicks the confirmation dialog's action button once it is open, after checking what it says. */
async function confirm (page: Page, says: RegExp): Promise<void> {
  const dialog = page.locator('dialog.confirm[open]')
  await dialog.waitFor({ state: 'visible' })
  const text = (await dialog.textContent()) ?? ''
  assert.match(text, says)
  assert.match(text, /syncs to every machine/)
  await dialog.locator('button.primary, button.danger').click()
  await dialog.waitFor({ state: 'hidden' })
}

describe('the dashboard, with two nodes syncing', () => {
  let a: P2pNode
  let b: P2pNode
  let browser: Browser
  let pageA: Page

  before(async () => {
    [a, b] = await startMesh(box(), ['ui-a', 'ui-b']) as [P2pNode, P2pNode]
    live.add(a); live.add(b)
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
  })

  it('shows each node the other one connected, live', async () => {
    pageA = await browser.open(`${a.url}/`)
    const pageB = await browser.open(`${b.url}/`)
    const connected = (page: Page, peer: P2pNode) => async () =>
      (await textOf(page, `tr[data-peer="${peer.nodeId}"] [data-field="state"]`)) === 'connected'
    await eventually(connected(pageA, b), async () => `b connected on a's page: ${await textOf(pageA, 'table.peers')}`)
    await eventually(connected(pageB, a), async () => `a connected on b's page: ${await textOf(pageB, 'table.peers')}`)
    assert.equal(await textOf(pageA, '[data-field="node-id"]'), a.nodeId)
    assert.equal(await textOf(pageA, '[data-field="mode"]'), 'native')
    assert.equal(await textOf(pageA, '[data-field="connection"]'), 'live')
    const row = await textOf(pageA, `tr[data-peer="${b.nodeId}"]`)
    assert.match(row, /native/)
    assert.match(row, /direct, (QUIC|TCP)/)
    await pageB.close()
  })

  it('shows a write made through the CLI on the other node without a reload', async () => {
    await pageA.goto(`${a.url}/#/memory?subject=live%3Acarol`)
    await pageA.locator('[data-field="total"]').waitFor()
    assert.equal(await textOf(pageA, '[data-field="total"]'), '0 triples')
    const reloads: string[] = []
    pageA.on('framenavigated', f => { if (f === pageA.mainFrame()) reloads.push(f.url()) })
    const add = await b.cli(['add', 'live:carol', 'likes', 'tea'])
    assert.equal(add.code, 0, add.stderr)
    const t0 = Date.now()
    await eventually(async () => (await textOf(pageA, '[data-field="total"]')) === '1 triple',
      async () => `the triple on a's page: ${await textOf(pageA, 'main')}`)
    const latency = Date.now() - t0
    assert.deepEqual(reloads, [], 'the page was not reloaded')
    assert.match(await textOf(pageA, 'table.triples tbody'), /live:carol\s*likes\s*tea/)
    process.stdout.write(`# a write on b (CLI) appeared on a's page ${latency} ms after the CLI returned\n`)
    await screenshot(pageA, 'memory')
  })

  it('sends an edit made in the page to the other node', async () => {
    const row = pageA.locator('table.triples tbody tr', { hasText: 'live:carol' })
    await row.getByRole('button', { name: 'Edit' }).click()
    const form = pageA.locator('form[aria-label="edit triple"]')
    await form.locator('input[name="object"]').fill('coffee')
    await form.getByRole('button', { name: 'Save' }).click()
    await confirm(pageA, /likes\s+"tea"\s+→\s+live:carol\s+likes\s+"coffee"/)
    await eventually(async () => {
      const { triples } = await b.client.queryTriples({ subject: 'live:carol' })
      return triples.length === 1 && triples[0]!.object === 'coffee'
    }, async () => `the edit on b: ${JSON.stringify(await b.client.queryTriples({ subject: 'live:carol' }))}`)
    await eventually(async () => /coffee/.test(await textOf(pageA, 'table.triples tbody')), () => 'the edited row on a\'s page')
  })

  it('adds an observation on an entity page and deletes a namespace after saying its count', async () => {
    await a.client.request('POST', '/api/v1/triples', { body: { triples: [
      { subject: 'kg:Alice', predicate: 'kg:entityType', object: 'person' },
      { subject: 'kg:Alice', predicate: 'kg:observation', object: 'prefers tea in the morning' },
      { subject: 'kg:Alice', predicate: 'works_at', object: { node: 'kg:Acme' } },
      { subject: 'kg:Bob', predicate: 'knows', object: { node: 'kg:Alice' } },
      { subject: 'kg:Alice', predicate: 'age', object: 42 },
      { subject: 'tmp:1', predicate: 'p', object: 1 }, { subject: 'tmp:2', predicate: 'p', object: 2 }, { subject: 'tmp:3', predicate: 'p', object: 3 }
    ] } })
    await pageA.goto(`${a.url}/#/entity/kg%3AAlice`)
    const observations = pageA.locator('section[aria-label="observations"]')
    await eventually(async () => /prefers tea/.test((await observations.textContent()) ?? ''), () => 'the observations')
    await observations.locator('input[name="observation"]').fill('reads on the train')
    await observations.getByRole('button', { name: 'Add observation' }).click()
    await confirm(pageA, /kg:Alice: reads on the train/)
    await eventually(async () => (await b.client.queryTriples({ subject: 'kg:Alice', predicate: 'kg:observation' })).total === 2,
      () => 'the observation on b')
    await eventually(async () => /reads on the train/.test((await observations.textContent()) ?? ''), () => 'the observation on a\'s page')
    assert.match(await textOf(pageA, 'section[aria-label="relations in"]'), /kg:Bob/)
    await screenshot(pageA, 'entity')

    await eventually(async () => (await b.client.queryTriples({ namespace: 'tmp' })).total === 3, () => 'the tmp namespace on b')
    await pageA.goto(`${a.url}/#/memory?namespace=tmp`)
    await pageA.getByRole('button', { name: 'Delete namespace tmp…' }).click()
    await confirm(pageA, /deletes 3 triples/)
    await eventually(async () => (await b.client.queryTriples({ namespace: 'tmp' })).total === 0, () => 'the namespace deleted on b')
  })

  it('finds records by their words from the header\'s search box, one synced from the other node too', async () => {
    const add = await b.cli(['add', 'kg:Carol', 'kg:observation', 'grows green tea on the balcony'])
    assert.equal(add.code, 0, add.stderr)
    await a.client.request('PUT', '/api/v1/notes/garden%2Fplan', { body: { value: { text: 'plant green beans in May' } } })
    await a.client.request('POST', '/api/v1/episodes', { body: { id: 'gardener:day-1', data: { summary: 'watered the green house' } } })
    await a.client.request('POST', '/api/v1/traces', { body: { traces: [{ runId: 'run-green', type: 'tool_call', data: { tool: 'water', plant: 'green beans' } }] } })
    await eventually(async () => (await a.client.queryTriples({ subject: 'kg:Carol' })).total === 1, () => 'kg:Carol synced to a')
    await pageA.goto(`${a.url}/#/sync`)
    const box = pageA.locator('form[role="search"] input[name="q"]')
    await box.fill('green')
    await box.press('Enter')
    await eventually(() => pageA.url().endsWith('#/search?q=green'), () => `the search view's address: ${pageA.url()}`)
    const results = pageA.locator('ol.results')
    await results.waitFor()
    await eventually(async () => (await textOf(pageA, '[data-field="results"]')).startsWith('4 results'),
      async () => `four results: ${await textOf(pageA, 'main')}`)
    const carol = results.locator('li.result.entity', { hasText: 'kg:Carol' })
    assert.equal(await carol.locator('mark').first().textContent(), 'green', 'the matching word is marked')
    for (const kind of ['note', 'episode', 'trace']) {
      assert.equal(await results.locator(`li.result.${kind} mark`).first().textContent(), 'green', `the ${kind} found, its word marked`)
    }
    assert.equal(await results.locator('li.result.trace a').getAttribute('href'), '#/traces?runId=run-green')
    await screenshot(pageA, 'search')
    // A query the language refuses says why, in the page.
    await box.fill('"unclosed')
    await box.press('Enter')
    await eventually(async () => /INVALID_INPUT/.test(await textOf(pageA, '.problem')), async () => `the refusal: ${await textOf(pageA, 'main')}`)
    // the browser logs the refused request (400) as an error of the page: that one is expected,
    // as often as the view asks again (it does when the feed moves: records still arriving from b)
    const isRefusal = (e: string): boolean => /#\/search\?q=%22unclosed: .* 400 /.test(e)
    await eventually(() => browser.errors.some(isRefusal), () => `the refused search among the page's errors: ${JSON.stringify(browser.errors)}`)
    // the last refusal, once the query box has moved on, cannot be asked again
    await box.fill('balcony')
    await box.press('Enter')
    await eventually(async () => !/INVALID_INPUT/.test(await textOf(pageA, 'main')), () => 'the refusal gone')
    // A result opens the entity it is about.
    await pageA.locator('li.result.entity a.node', { hasText: 'kg:Carol' }).click()
    await eventually(async () => /grows green tea/.test(await textOf(pageA, 'section[aria-label="observations"]')), () => 'kg:Carol\'s entity page')
    for (let i = browser.errors.length - 1; i >= 0; i--) if (isRefusal(browser.errors[i]!)) browser.errors.splice(i, 1)
  })

  it('writes every other view to docs/screenshots', async () => {
    await a.client.request('PUT', '/api/v1/notes/project%3Aengram%2Fgoal', { body: { value: { text: 'replicate agent memory', owner: 'alice' } } })
    await a.client.request('POST', '/api/v1/episodes', { body: { id: 'coder:session-42', data: { agent: 'coder', summary: 'fixed the build', tags: ['ci'] } } })
    await a.client.request('POST', '/api/v1/traces', { body: { traces: [
      { runId: 'run-1', type: 'tool_call', data: { tool: 'grep', args: ['TODO'] } },
      { runId: 'run-1', type: 'tool_result', data: { matches: 3 } }
    ] } })
    for (const [view, ready] of [['notes', 'table.notes tbody tr'], ['episodes', 'ul.episodes li'], ['traces', 'table.traces tbody tr']] as const) {
      await pageA.goto(`${a.url}/#/${view}`)
      await pageA.locator(ready).first().waitFor()
      await screenshot(pageA, view)
    }
    await pageA.goto(`${a.url}/#/sync`)
    await eventually(async () => (await textOf(pageA, `tr[data-peer="${b.nodeId}"] [data-field="state"]`)) === 'connected', () => 'the sync view')
    await screenshot(pageA, 'sync')
    assert.deepEqual(browser.errors, [], 'no errors in the pages')
  })
})
