/**
 * applyPeerPage (replication/applyPage.ts): what a page from a peer changed here, per origin.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import type { MemoryRecord } from '../../src/core/model.ts'
import { makeTriple } from '../../src/core/records.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { applyPeerPage } from '../../src/replication/applyPage.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'

const HERE = asNodeId('node-here')
const PEER = asNodeId('node-peer')
const [A, B, C] = ['node-a', 'node-b', 'node-c'].map(asNodeId) as [NodeId, NodeId, NodeId]

describe('applyPeerPage', () => {
  it('counts the records that changed something per origin, in runs of one origin or interleaved', () => {
    const engine = new Engine({ store: new MemoryStore(), node: HERE, maxDriftMs: 60_000 })
    const wall = Date.now() - 1_000
    const origins = [A, A, A, B, A, C, C, B, B, A]
    const records: MemoryRecord[] = origins.map((node, i) =>
      makeTriple({ subject: `ex:s${i}`, predicate: 'ex:p', object: { kind: 'string', value: `v${i}` } }, { wall: wall + i, counter: 0, node }))
    const view = { node: PEER, cursor: 0, namespaces: null }
    const first = applyPeerPage(engine, { peer: PEER, records, view })
    assert.equal(first.applied, 10)
    assert.deepEqual([...first.origins].sort(), [[A, 5], [B, 3], [C, 2]])
    // the same page again changes nothing: no origin is counted
    const again = applyPeerPage(engine, { peer: PEER, records, view })
    assert.equal(again.applied, 0)
    assert.equal(again.origins.size, 0)
  })
})
