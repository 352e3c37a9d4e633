/**
 * History between real daemons over QUIC (docs/DATA-MODEL.md, "History"): five nodes; one of them
 * changes other nodes' records and adds its own during a window; reads as of the window's start
 * give, on every node, exactly the state captured then; and a revert of everything that node
 * wrote in the window, run on another node, converges on all five to that state again — identical
 * dumps everywhere, and the live content equal to the one captured before the window.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Json } from '../../src/core/model.ts'
import { dumpFile } from '../sync/daemons.ts'
import { daemonsFixture, startMesh, stopAndCompare, waitConverged, type P2pNode } from './daemons.ts'

const { box, live } = daemonsFixture()

interface Content {
  readonly triples: string[]
  readonly notes: Array<[string, Json]>
}

/** The live content a node shows (as of `asOf`, when given): triples as text, notes by key. */
async function content (n: P2pNode, asOf?: number): Promise<Content> {
  const q = asOf === undefined ? '' : `&asOf=${asOf}`
  const t = await n.client.request<{ triples: Array<{ subject: string, predicate: string, object: Json }> }>('GET', `/api/v1/triples?limit=10000${q}`)
  const notes = await n.client.request<{ notes: Array<{ key: string, value: Json }> }>('GET', `/api/v1/notes?limit=10000${q}`)
  return {
    triples: t.triples.map(x => `${x.subject} ${x.predicate} ${JSON.stringify(x.object)}`).sort(),
    notes: notes.notes.map(x => [x.key, x.value] as [string, Json])
  }
}

/** The live content of a stopped node's store file. */
function contentOfDump (dataDir: string): Content {
  const live = dumpFile(dataDir).map(l => JSON.parse(l) as { kind: string, deleted?: boolean, subject?: string, predicate?: string, object?: { kind: string, value: Json }, key?: string, value?: Json })
    .filter(r => r.deleted !== true)
  return {
    triples: live.filter(r => r.kind === 'triple').map(r => `${r.subject!} ${r.predicate!} ${JSON.stringify(r.object!.value)}`).sort(),
    notes: live.filter(r => r.kind === 'note' && !r.key!.startsWith('_engram:')).map(r => [r.key!, r.value!] as [string, Json]).sort((x, y) => (x[0] < y[0] ? -1 : 1))
  }
}

const pause = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

describe('history across five daemons', () => {
  it('reads as of a past time match what was captured then; a revert of one node\'s window converges everywhere to the state before it', async () => {
    const nodes = await startMesh(box(), ['ha', 'hb', 'hc', 'hd', 'he'])
    for (const n of nodes) live.add(n)
    const [a, b, , , e] = nodes as [P2pNode, P2pNode, P2pNode, P2pNode, P2pNode]
    // Before the window: every node writes.
    const ids: Record<string, string> = {}
    for (const n of nodes) for (let i = 0; i < 4; i++) ids[`${n.name}${i}`] = (await n.client.addTriple(`user:${n.name}${i}`, 'likes', `tea ${i}`)).id
    for (let i = 0; i < 4; i++) await b.client.setNote(`cfg:k${i}`, { v: i })
    await e.client.setNote('cfg:e', 'mine')
    await waitConverged(nodes, 60_000)
    await pause(50)
    const start = Date.now()
    const captured = await content(a)
    await pause(50)

    // The window: e deletes others' triples and one of its own, changes and deletes notes, adds its own.
    for (const k of ['ha0', 'hb1', 'hc2', 'he3']) await e.client.deleteTriple(ids[k]!)
    for (let i = 0; i < 6; i++) await e.client.addTriple(`user:new${i}`, 'likes', 'coffee')
    await e.client.setNote('cfg:k0', { v: 'changed by e' })
    await e.client.setNote('cfg:e', 'changed')
    await e.client.deleteNote('cfg:k1')
    await e.client.setNote('cfg:new', 'e only')
    await waitConverged(nodes, 60_000)

    // As of the window's start, every node shows what was captured then.
    for (const n of nodes) assert.deepEqual(await content(n, start), captured, `${n.name} as of the window's start`)
    assert.notDeepEqual(await content(a), captured)

    // Revert everything e wrote since then, from another node.
    const r = await a.client.revert({ origin: e.nodeId, since: new Date(start).toISOString() })
    assert.equal(r.written.length, 4 + 6 + 4, JSON.stringify(r.written.map(w => w.key)))
    assert.deepEqual(r.skipped, [])
    await waitConverged(nodes, 60_000)
    for (const n of nodes) assert.deepEqual(await content(n), captured, `${n.name} after the revert`)
    // The revert is a write of a: signed by a, on every node.
    const shown = await e.client.showRecord('cfg:k0')
    assert.deepEqual([shown.state.provenance.origin, shown.state.provenance.signed], [a.nodeId, true])
    const dump = await stopAndCompare(nodes)
    assert.ok(dump.length > 0)
    for (const n of nodes) assert.deepEqual(contentOfDump(n.dataDir), captured, `${n.name}'s store file`)
  })
})
