/**
 * The live status stream's changes (src/api/statusDelta.ts) and the page's applying of them
 * (web/lib/delta.js) as one contract: applying the changes from `a` to `b` onto `a` gives `b`
 * exactly (property, fixed seed), `a` is left as it was, untouched parts are shared, and a counter
 * that moved deep inside is sent alone.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { diffSnapshots, onlyUnder } from '../../src/api/statusDelta.ts'
import { applyChanges } from '../../web/lib/delta.js'
import { assertProperty, seedFor } from '../unit/arbitraries.ts'

/** Snapshot-like JSON values: nested objects with a few shared keys, arrays, nulls. */
const json = fc.letrec(tie => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, 1, 'a', 'b'),
    fc.integer(),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom('node', 'p2p', 'peers', 'round', 'x', 'y', '__proto__', 'constructor'), tie('value'), { maxKeys: 5 }))
})).value

describe('status deltas', () => {
  it('apply(a, diff(a, b)) is b, and a is left as it was', () => {
    assertProperty(fc.property(json, json, (a, b) => {
      const before = JSON.stringify(a)
      const changes = JSON.parse(JSON.stringify(diffSnapshots(a, b))) as Parameters<typeof applyChanges>[1]
      const got: unknown = applyChanges(a, changes)
      assert.deepEqual(JSON.parse(JSON.stringify(got)), JSON.parse(JSON.stringify(b)))
      assert.equal(JSON.stringify(a), before, 'the old snapshot is not changed')
      if (JSON.stringify(a) === JSON.stringify(b)) assert.deepEqual(changes, [], 'equal: no changes')
    }), seedFor(1818), 500)
  })

  it('sends a moved counter alone and shares what did not change', () => {
    const a = { node: { id: 'n', stats: { triples: 1 } }, p2p: { peers: [{ id: 'p', bytes_sent: 10 }, { id: 'q', bytes_sent: 5 }] }, log: [] }
    const b = { node: { id: 'n', stats: { triples: 1 } }, p2p: { peers: [{ id: 'p', bytes_sent: 12 }, { id: 'q', bytes_sent: 5 }] }, log: [] }
    const changes = diffSnapshots(a, b)
    assert.deepEqual(changes, [[['p2p', 'peers', 0, 'bytes_sent'], 12]])
    assert.equal(onlyUnder(changes, new Set(['bytes_sent'])), true)
    assert.equal(onlyUnder(changes, new Set(['round'])), false)
    const got = applyChanges(a, changes as Parameters<typeof applyChanges>[1])
    assert.equal(got.node, a.node, 'an untouched part is the same object')
    assert.notEqual(got.p2p, a.p2p, 'a changed part is a new object')
    assert.equal(got.p2p.peers[1], a.p2p.peers[1])
  })

  it('removes a member that is gone and replaces an array whose length changed', () => {
    const changes = diffSnapshots({ sync: { error: 'x', peers: [1, 2] } }, { sync: { peers: [1, 2, 3] } })
    assert.deepEqual(changes, [[['sync', 'error']], [['sync', 'peers'], [1, 2, 3]]])
  })
})
