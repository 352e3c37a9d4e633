/**
 * A catch-up of 20,000 records (tens of pages; ENGRAM_TEST_CATCHUP_ROWS, a multiple of 10,000,
 * runs it at another size, e.g. 100,000) in a real browser: an empty node connects to one
 * holding them, and its sync view shows the catch-up as a progress bar that reaches 100 % with
 * every record there, saying the count, the total and the rate. Each state the page renders is
 * recorded by the page; the states in flight (how many there are depends on the machine's
 * speed) each show the count, the total and the rate. The time taken is printed, not asserted.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { daemonsFixture, freePorts, startP2pNode, type P2pNode } from '../native/daemons.ts'
import { launch, screenshot, textOf, type Browser } from './browser.ts'
import { eventually } from '../support/eventually.ts'

const { box, live } = daemonsFixture()
const ROWS = Number(process.env.ENGRAM_TEST_CATCHUP_ROWS ?? 20_000)
if (!Number.isInteger(ROWS) || ROWS <= 0 || ROWS % 10_000 !== 0) throw new Error(`ENGRAM_TEST_CATCHUP_ROWS must be a positive multiple of 10,000, not ${process.env.ENGRAM_TEST_CATCHUP_ROWS}`)
/** ROWS as the page writes it (20,000). */
const ROWS_TEXT = ROWS.toLocaleString('en-US')

describe('a catch-up in the dashboard', () => {
  let browser: Browser
  before(async () => { browser = await launch() })
  after(async () => { await browser?.close() })

  it('shows a progress bar with count, total, rate and time left that reaches 100 %', async () => {
    const [pa, pb] = await freePorts(2)
    const source = await startP2pNode(box(), 'catchup-source', { p2pPort: pb })
    live.add(source)
    for (let i = 0; i < ROWS; i += 10_000) {
      await source.client.request('POST', '/api/v1/triples', { body: { triples: Array.from({ length: 10_000 }, (_, j) => ({ subject: `bulk:${i + j}`, predicate: 'n', object: i + j })) } })
    }
    const target: P2pNode = await startP2pNode(box(), 'catchup-target', { p2pPort: pa })
    live.add(target)
    const page = await browser.open(`${target.url}/#/sync`)
    await eventually(async () => (await textOf(page, '[data-field="connection"]')) === 'live', () => 'the live stream')

    // Every state the page renders is recorded by the page itself, so none is missed between two polls.
    const selector = `.catchup[data-peer="${source.nodeId}"]`
    await page.evaluate(`(() => {
      window.seenBars = []
      new MutationObserver(() => {
        const bar = document.querySelector(${JSON.stringify(selector)})
        const text = bar === null ? undefined : bar.textContent
        if (text !== undefined && window.seenBars.at(-1) !== text) window.seenBars.push(text)
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true })
    })()`)
    const seenBars = async (): Promise<string[]> => await page.evaluate('window.seenBars') as string[]

    const t0 = Date.now()
    await target.client.request('POST', '/api/v1/p2p/peers', { body: { addr: `127.0.0.1:${pb}` } })
    const bar = page.locator(selector)
    let shot = false
    await eventually(async () => {
      if ((await bar.count()) === 0) return false
      if (!shot && (await bar.getAttribute('data-done')) === 'false') { shot = true; await screenshot(page, 'catchup') }
      return (await bar.getAttribute('data-done')) === 'true'
    }, async () => `the catch-up to finish on the page; seen: ${JSON.stringify((await seenBars()).slice(-3))}`, { ms: 180_000, everyMs: 100 })
    const seen = await seenBars()
    const took = Date.now() - t0
    const done = (await bar.textContent()) ?? ''
    assert.match(done, /100 %/)
    assert.match(done, new RegExp(`${ROWS_TEXT} of ${ROWS_TEXT} records`))
    assert.equal(await bar.locator('progress').getAttribute('value'), '100')
    assert.equal((await target.stats()).triples, ROWS)
    assert.match(done, /Caught up with .* [\d,]+\/s/)
    const during = seen.filter(t => /Catching up/.test(t))
    for (const t of during) assert.match(t, new RegExp(`[\\d,]+ of ${ROWS_TEXT} records · [\\d,]+/s`), 'count, total and rate in flight')
    process.stdout.write(`# catch-up of ${ROWS} records: ${took} ms; the page showed ${during.length} states in flight, e.g. ${JSON.stringify(during[Math.floor(during.length / 2)])}\n`)
    assert.deepEqual(browser.errors, [])
  })
})
