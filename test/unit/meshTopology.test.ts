/**
 * The dials of the mesh benchmark (bench/meshTopology.ts): a full mesh links every pair once; a
 * partial mesh of degree k is connected (its ring), never dials a pair twice nor a node itself,
 * gives each node at least its ring's two sessions and each node at most k dials of its own, and
 * is the same on every run. Seeded: a failure prints the seed (rerun with ENGRAM_FC_SEED=<seed>).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { diameter, meshDials, sessionsPerNode } from '../../bench/meshTopology.ts'
import { assertProperty, seedFor } from './arbitraries.ts'

const pairs = (dials: ReturnType<typeof meshDials>): string[] => dials.map(d => d.from < d.to ? `${d.from}-${d.to}` : `${d.to}-${d.from}`)

describe('mesh benchmark topology', () => {
  it('a full mesh dials every pair exactly once', () => {
    for (const n of [2, 3, 10, 50]) {
      const dials = meshDials(n)
      assert.equal(dials.length, n * (n - 1) / 2)
      assert.equal(new Set(pairs(dials)).size, dials.length)
      assert.deepEqual(sessionsPerNode(n, dials), new Array(n).fill(n - 1))
      assert.equal(diameter(n, dials), 1)
      // a degree of n − 1 or more is a full mesh too
      assert.deepEqual(meshDials(n, n - 1), dials)
    }
  })

  it('a partial mesh is connected, has no duplicate or self dial, and bounds each node\'s own dials', () => {
    assertProperty(fc.property(fc.integer({ min: 3, max: 64 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 1000 }), (n, k, seed) => {
      const dials = meshDials(n, k, seed)
      const p = pairs(dials)
      assert.equal(new Set(p).size, p.length, 'a pair dialled twice')
      assert.ok(dials.every(d => d.from !== d.to), 'a node dials itself')
      assert.ok(Number.isFinite(diameter(n, dials)), 'the mesh is not connected')
      const own = new Array<number>(n).fill(0)
      for (const d of dials) own[d.from]!++
      assert.ok(own.every(x => x <= Math.min(k, n - 1)), `a node dials more than ${k}`)
      assert.ok(sessionsPerNode(n, dials).every(s => s >= Math.min(2, n - 1)))
      assert.deepEqual(meshDials(n, k, seed), dials, 'not repeatable')
    }), seedFor(20261206), 200)
  })

  it('refuses a mesh of one node and a degree below 1', () => {
    assert.throws(() => meshDials(1), RangeError)
    assert.throws(() => meshDials(5, 0), RangeError)
  })
})
