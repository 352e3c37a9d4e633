import { test } from 'node:test'
import assert from 'node:assert/strict'
import { asNodeId } from '../../src/core/ids.ts'
import { recordKey, type RecordKind } from '../../src/core/model.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import type { FeedEntry } from '../../src/store/Store.ts'
import { PendingElements } from '../../src/protocol/native/PendingElements.ts'
import { elementOf } from '../../src/protocol/native/windowElement.ts'

const T0 = 1_763_631_000_000

test('queued changes are told back in order with their keys (hex ids kept as bytes, note keys as strings), stamps and elements', () => {
  const store = new MemoryStore()
  const engine = new Engine({ store, node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => T0 })
  const entries: FeedEntry[] = []
  engine.on('change', e => entries.push(...e.entries))
  for (let i = 0; i < 5_000; i++) {
    if (i % 3 === 0) engine.setNote(`note:${i}`, i)
    else engine.addTriples([{ subject: `s${i}`, predicate: 'p', object: { kind: 'string', value: `o${i}` } }])
  }
  const pending = new PendingElements()
  pending.push(entries.slice(0, 3_000), 0)
  pending.push(entries.slice(3_000), T0 + 1) // stamped before this start: no element
  assert.equal(pending.length, entries.length)
  const told: Array<{ kind: RecordKind, key: string, wall: number, seq: number, dead: boolean, element: number[] | undefined }> = []
  pending.take(4_321, (kind, key, wall, seq, dead, element) => told.push({ kind, key, wall, seq, dead, element: element === undefined ? undefined : [...element] }))
  pending.take(Infinity, (kind, key, wall, seq, dead, element) => told.push({ kind, key, wall, seq, dead, element: element === undefined ? undefined : [...element] }))
  assert.equal(pending.length, 0)
  assert.deepEqual(told, entries.map((e, i) => ({
    kind: e.record.kind,
    key: recordKey(e.record),
    wall: e.record.hlc.wall,
    seq: e.seq,
    dead: false,
    element: i < 3_000 ? [...elementOf(e.record)] : undefined
  })))
  // the queue is used again after it emptied
  pending.push(entries.slice(0, 2), 0)
  const again: string[] = []
  pending.take(2, (_k, key) => again.push(key))
  assert.deepEqual(again, entries.slice(0, 2).map(e => recordKey(e.record)))
})
