/**
 * Replays stay refused across restarts: 100 signed delta requests recorded while a real daemon
 * runs are all refused after it restarts (its nonce memory is gone, its epoch is new), while an
 * honest peer keeps syncing with it.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { deriveRestKey, signRequest } from '../../src/sync/polled/auth.ts'
import { DELTA_PATH } from '../../src/protocol/polled/messages.ts'
import { sandbox, type Sandbox } from '../cli/helpers.ts'
import { PASSPHRASE, startNode, type Node } from '../sync/daemons.ts'

const REPLAYS = 100

describe('replays after a restart', () => {
  let box: Sandbox
  const nodes: Node[] = []
  before(() => { box = sandbox() })
  after(async () => {
    for (const n of nodes) await n.stop().catch(() => n.kill())
    box.remove()
  })

  const post = async (url: string, body: string, headers: Record<string, string>): Promise<number> => {
    const res = await fetch(url + DELTA_PATH, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
    await res.text()
    return res.status
  }

  it(`0 of ${REPLAYS} recorded requests are accepted after the node restarts; an honest peer keeps syncing`, async () => {
    const b = await startNode(box, 'b')
    await b.client.addTriple('user:b', 'wrote', 'before the restart')
    // What an eavesdropper records: signed requests and their bodies, each accepted once.
    const body = JSON.stringify({ cursor: 0 })
    const recorded = Array.from({ length: REPLAYS }, () => signRequest(deriveRestKey(PASSPHRASE), 'node-recorded', 'POST', DELTA_PATH, body))
    for (const h of recorded) assert.equal(await post(b.url, body, { ...h }), 200)
    // Within the same run they are refused as replays.
    assert.equal(await post(b.url, body, { ...recorded[0]! }), 401)
    await b.stop()

    const again = await startNode(box, 'b')
    nodes.push(again)
    let accepted = 0
    for (const h of recorded) if (await post(again.url, body, { ...h }) === 200) accepted++
    process.stdout.write(`# replays after a restart: ${accepted} of ${REPLAYS} accepted\n`)
    assert.equal(accepted, 0)

    // An honest peer pulls from the restarted node as before.
    const a = await startNode(box, 'a')
    nodes.push(a)
    await a.client.pairPeer('b', again.url)
    const r = await a.client.syncNow('b')
    assert.ok(r.results.every(x => x.ok), JSON.stringify(r.results))
    assert.equal((await a.client.queryTriples({ subject: 'user:b' })).total, 1)
  })
})
