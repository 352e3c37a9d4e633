/**
 * Multi-process: three engram daemons, each with its own data directory and port, paired in a
 * mesh, writing concurrently (triples, deletes, notes, episodes, traces) while they sync, end
 * with identical stores. Then the same with one node's clock ten minutes behind: nothing is lost.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { sandbox, type Sandbox } from '../cli/helpers.ts'
import { dumpDiff, dumpFile, pairMesh, startNode, syncRounds, type Node, type NodeOptions } from './daemons.ts'

interface Written {
  readonly triples: Set<string>
  readonly traces: Set<string>
  readonly episodes: Set<string>
  readonly notes: Set<string>
}

/** One node's share of the concurrent workload; syncs now and then while the others write. */
async function workload (n: Node, rounds: number, written: Written): Promise<void> {
  const mine: string[] = []
  for (let i = 0; i < rounds; i++) {
    const triples = [
      ...Array.from({ length: 15 }, (_, j) => ({ subject: `${n.name}:s${i}`, predicate: `p${j}`, object: `value ${i}.${j}` })),
      ...Array.from({ length: 5 }, (_, j) => ({ subject: `shared:s${i}`, predicate: 'p', object: j }))
    ]
    const added = await n.client.request<{ triples: { id: string }[] }>('POST', '/api/v1/triples', { body: { triples } })
    for (const t of added.triples) written.triples.add(t.id)
    mine.push(added.triples[0]!.id)
    if (i > 0) await n.client.deleteTriple(mine[i - 1]!)
    await n.client.setNote(`shared:note${i % 4}`, { from: n.name, i })
    await n.client.setNote(`${n.name}:note${i}`, i)
    written.notes.add(`${n.name}:note${i}`)
    if (i % 2 === 1) { await n.client.deleteNote(`${n.name}:note${i - 1}`); written.notes.delete(`${n.name}:note${i - 1}`) }
    const ep = await n.client.request<{ id: string }>('POST', '/api/v1/episodes', { body: { id: `${n.name}:ep${i}`, data: { summary: `round ${i}` } } })
    written.episodes.add(ep.id)
    await n.client.request('POST', '/api/v1/episodes', { body: { id: 'shared:ep', data: { last: n.name, i } } })
    const tr = await n.client.request<{ traces: { id: string }[] }>('POST', '/api/v1/traces', { body: { traces: [{ runId: `${n.name}:run`, type: 'step', data: { i } }, { runId: 'shared:run', type: 'step', data: { node: n.name, i } }] } })
    for (const t of tr.traces) written.traces.add(t.id)
    if (i % 3 === 2) {
      const r = await n.client.syncNow()
      for (const x of r.results) assert.ok(x.ok, `${n.name} ← ${x.peer}: ${x.error ?? ''}`)
    }
  }
}

const noneWritten = (): Written => ({ triples: new Set(), traces: new Set(), episodes: new Set(), notes: new Set() })

/**
 * Starts the nodes, lets each write `before` it has met any other, pairs them, runs the workload
 * on all at once, syncs, stops them; their dumps.
 */
async function run (box: Sandbox, names: readonly string[], rounds: number, written: Written, opts: (name: string) => NodeOptions = () => ({}),
  before: (n: Node) => Promise<void> = async () => {}): Promise<string[][]> {
  const nodes = await Promise.all(names.map(name => startNode(box, name, opts(name))))
  try {
    await Promise.all(nodes.map(before))
    await pairMesh(nodes)
    await Promise.all(nodes.map(n => workload(n, rounds, written)))
    await syncRounds(nodes, 3)
  } finally {
    await Promise.all(nodes.map(n => n.stop()))
  }
  return nodes.map(n => dumpFile(n.dataDir))
}

/** The stamp's wall time of the record whose canonical text contains `marker`. */
function wallOf (dump: readonly string[], marker: string): number {
  const r = dump.find(x => x.includes(marker))
  assert.ok(r !== undefined, marker)
  return (JSON.parse(r) as { hlc: { wall: number } }).hlc.wall
}

describe('multi-process sync: three nodes', () => {
  let box: Sandbox
  before(() => { box = sandbox() })
  after(() => box.remove())

  it('writing concurrently in a mesh, they end with identical stores', async () => {
    const dumps = await run(box, ['alpha', 'beta', 'gamma'], 12, noneWritten())
    const [first, ...rest] = dumps
    for (const d of rest) assert.deepEqual(d, first, dumpDiff(first!, d))
    const kinds = (k: string): number => first!.filter(r => r.includes(`"kind":"${k}"`)).length
    assert.ok(kinds('triple') >= 3 * 12 * 15, 'triples of every node')
    assert.ok(first!.some(r => r.includes('"deleted":true') && r.includes('"kind":"triple"')), 'triple tombstones')
    assert.ok(first!.some(r => r.includes('"deleted":true') && r.includes('"kind":"note"')), 'note tombstones')
    assert.equal(kinds('episode'), 3 * 12 + 1)
    assert.equal(kinds('trace'), 3 * 12 * 2)
  })

  it('one node\'s clock ten minutes behind: every write arrives everywhere', async () => {
    const written = noneWritten()
    // Ten minutes behind is beyond the drift guard's default (1 min): the nodes accept it here.
    const dumps = await run(box, ['east', 'west', 'late'], 9, written, (name): NodeOptions => ({
      config: { hlc: { maxDriftMs: 15 * 60_000 } },
      env: name === 'late' ? { ENGRAM_TEST_CLOCK_OFFSET_MS: String(-10 * 60_000) } : {} as Record<string, string>
    }), async n => {
      // written before the node has seen any other's stamps, so it carries its own clock's time
      const t = await n.client.addTriple(`${n.name}:first`, 'p', 'before pairing')
      written.triples.add(t.id)
    })
    assert.ok(wallOf(dumps[0]!, '"subject":"late:first"') < wallOf(dumps[0]!, '"subject":"east:first"') - 5 * 60_000, 'the late node stamped its first write ten minutes back')
    for (const d of dumps.slice(1)) assert.deepEqual(d, dumps[0], dumpDiff(dumps[0]!, d))
    const text = dumps[0]!.join('\n')
    for (const id of written.triples) assert.ok(text.includes(`"id":"${id}"`), `triple ${id} arrived`)
    for (const id of written.traces) assert.ok(text.includes(`"id":"${id}"`), `trace ${id} arrived`)
    for (const id of written.episodes) assert.ok(text.includes(`"id":${JSON.stringify(id)}`), `episode ${id} arrived`)
    for (const key of written.notes) assert.ok(dumps[0]!.some(r => r.includes(`"key":${JSON.stringify(key)}`) && r.includes('"deleted":false')), `note ${key} arrived`)
  })
})
