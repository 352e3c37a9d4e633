/**
 * Re-add means present, with real daemons in network namespaces: a triple and a note exist
 * everywhere; a is cut off; b deletes them; later (in real time) a, which has not seen the
 * deletes, adds the triple and sets the note again — both acknowledged. After the heal both are
 * present on every node: an acknowledged add after an acknowledged delete wins.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { until } from '../native/daemons.ts'
import { chaosSkip, clusterFixture } from './fixture.ts'

const SKIP = chaosSkip('test/chaos/readd.test.ts')

describe('an acknowledged re-add after an acknowledged delete, across a partition', { skip: SKIP }, () => {
  const { cluster, node: n, tripleOn, noteValue } = clusterFixture('readd', { nodes: 3, tombstoneTtlHours: 24, maxDriftMs: 60_000, gossipIntervalMs: 500 })

  it('is present on every node after the heal', { timeout: 180_000 }, async () => {
    const t = await cluster().request<{ id: string, hlc: string }>(n('a'), 'POST', '/api/v1/triples', { subject: 'user:x', predicate: 'likes', object: 'tea' })
    await cluster().request(n('a'), 'PUT', '/api/v1/notes/cfg:theme', { value: 'dark' })
    await until(async () => (await Promise.all(cluster().nodes.map(x => tripleOn(x, t.id)))).every(Boolean) && (await noteValue(n('b'), 'cfg:theme')) === 'dark',
      () => 'the triple and the note everywhere', 60_000, 250)
    const others = ['b', 'c']
    await cluster().partition(new Map([['a', { from: others, to: others }], ['b', { from: ['a'], to: ['a'] }], ['c', { from: ['a'], to: ['a'] }]]))
    const del = await cluster().request<{ hlc: string }>(n('b'), 'DELETE', `/api/v1/triples/${t.id}`)
    await cluster().request(n('b'), 'DELETE', '/api/v1/notes/cfg:theme')
    await new Promise(resolve => setTimeout(resolve, 200))
    const readd = await cluster().request<{ hlc: string, created: boolean }>(n('a'), 'POST', '/api/v1/triples', { subject: 'user:x', predicate: 'likes', object: 'tea' })
    assert.equal(readd.created, false, 'a had not seen the delete: the triple was present there')
    assert.ok(readd.hlc > del.hlc, `the re-add is stamped after the delete (${readd.hlc} > ${del.hlc})`)
    await cluster().request(n('a'), 'PUT', '/api/v1/notes/cfg:theme', { value: 'light' })
    await cluster().partition(new Map())
    await until(async () => {
      const present = await Promise.all(cluster().nodes.map(x => tripleOn(x, t.id)))
      const notes = await Promise.all(cluster().nodes.map(x => noteValue(x, 'cfg:theme')))
      return present.every(Boolean) && notes.every(v => v === 'light')
    }, async () => `the re-added triple and the note set again on every node: ${JSON.stringify(await Promise.all(cluster().nodes.map(x => tripleOn(x, t.id))))}`, 60_000, 250)
    // and it stays: a little later, still present everywhere
    await new Promise(resolve => setTimeout(resolve, 3_000))
    assert.deepEqual(await Promise.all(cluster().nodes.map(x => tripleOn(x, t.id))), [true, true, true])
  })
})
