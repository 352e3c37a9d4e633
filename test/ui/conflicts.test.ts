/**
 * Conflicts in a real browser, against two real daemons in polled mode with the keep-both
 * strategy: a note written on both machines before they sync is listed on the node that pulls
 * the other's value first, both values side by side on the page; one click keeps one of them,
 * and once the nodes sync again both hold that value and neither lists a conflict.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sandbox, type Sandbox } from '../support/daemon.ts'
import { startNode, pairMesh, syncRounds, type Node } from '../sync/daemons.ts'
import { launch, screenshot, textOf, type Browser } from './browser.ts'
import { eventually } from '../support/eventually.ts'

interface Conflict { id: string, key: string, kept: { value: unknown }, other: { value: unknown } }
const conflictsOf = async (n: Node): Promise<Conflict[]> => (await n.client.request<{ conflicts: Conflict[] }>('GET', '/api/v1/conflicts')).conflicts
const noteOf = async (n: Node, key: string): Promise<unknown> => (await n.client.request<{ value: unknown }>('GET', `/api/v1/notes/${encodeURIComponent(key)}`)).value

describe('conflicts in the dashboard', () => {
  let box: Sandbox
  let a: Node
  let b: Node
  let browser: Browser
  before(async () => {
    box = sandbox()
    const config = { sync: { conflictStrategy: 'keep-both' } }
    ;[a, b] = await Promise.all([startNode(box, 'conf-a', { config }), startNode(box, 'conf-b', { config })])
    browser = await launch()
  })
  after(async () => {
    await browser?.close()
    await Promise.allSettled([a?.kill(), b?.kill()])
    box.remove()
  })

  it('shows both values side by side and resolves with one click, on both nodes', async () => {
    // paired first, and the first pulls (which pairing starts) over, so that which node sees the
    // conflict does not depend on their timing: a pulls b's value before b pulls a's
    await pairMesh([a, b])
    await syncRounds([a, b], 1)
    await a.client.request('PUT', '/api/v1/notes/cfg%3Atheme', { body: { value: 'light' } })
    await b.client.request('PUT', '/api/v1/notes/cfg%3Atheme', { body: { value: 'dark' } })
    await a.client.syncNow()
    const listed = await conflictsOf(a)
    assert.equal(listed.length, 1, JSON.stringify(listed))

    const page = await browser.open(`${a.url}/#/conflicts`)
    const card = page.locator(`article.conflict[data-id="${listed[0]!.id}"]`)
    await card.waitFor()
    const text = (await card.textContent()) ?? ''
    assert.match(text, /cfg:theme/)
    assert.match(text, /"light"/)
    assert.match(text, /"dark"/)
    await eventually(async () => (await textOf(page, '[data-field="conflicts"]')) === '1', async () => `the conflict count in the header: ${await textOf(page, 'header')}`)
    await screenshot(page, 'conflicts')

    // keep the value that is not current here (whichever side that is)
    const current = await noteOf(a, 'cfg:theme')
    const side = JSON.stringify(listed[0]!.kept.value) === JSON.stringify(current) ? 'other' : 'kept'
    const chosen = listed[0]![side].value
    await card.locator(`section.side.${side}`).getByRole('button', { name: 'Keep this' }).click()
    await eventually(async () => (await conflictsOf(a)).length === 0, () => 'the conflict resolved on a')
    assert.deepEqual(await noteOf(a, 'cfg:theme'), chosen)
    await eventually(async () => /No conflicts/.test(await textOf(page, 'main')), async () => `the page emptied: ${await textOf(page, 'main')}`)

    await syncRounds([a, b], 1)
    assert.deepEqual(await noteOf(b, 'cfg:theme'), chosen, 'the choice reached b')
    assert.deepEqual(await conflictsOf(b), [], 'b no longer lists the conflict')
    assert.deepEqual(browser.errors, [])
  })
})
