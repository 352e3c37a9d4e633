import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isEngramError } from '../../src/core/errors.ts'
import { blake3 } from '../../src/core/hash.ts'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import { recordKey, type MemoryRecord } from '../../src/core/model.ts'
import { canonicalRecord, makeTriple, recordToPlain } from '../../src/core/records.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import type { Store } from '../../src/store/Store.ts'
import { bucketOf, elementOf, FINE_BITS, windowStartFor } from '../../src/protocol/native/windowElement.ts'
import { WindowIndex } from '../../src/protocol/native/WindowIndex.ts'
import { assertProperty, seedFor } from '../unit/arbitraries.ts'
import { applyWindowOp, windowOp, windowTriple } from './windowOps.ts'

const A = asNodeId('node-a')
const B = asNodeId('node-b')
const HOUR = 3_600_000
const TTL = 24 * HOUR
const T0 = 1_763_631_000_000

interface Node { store: MemoryStore, engine: Engine, index: WindowIndex, clock: { now: number } }

function node (id: NodeId = A, start = T0, ttlMs = TTL): Node {
  const clock = { now: start }
  const store = new MemoryStore()
  const engine = new Engine({ store, node: id, maxDriftMs: 60_000, now: () => clock.now })
  const index = new WindowIndex({ store, ttlMs, now: () => clock.now })
  engine.on('change', e => index.observe(e.entries))
  return { store, engine, index, clock }
}

/** The digest computed from scratch: every stored record in the window, hashed and XORed. */
function expected (store: Store, ws: number): { n: number, x: Uint8Array } {
  const x = new Uint8Array(16)
  let n = 0
  for (const r of store.dump()) {
    if (r.hlc.wall < ws) continue
    n++
    const el = elementOf(r)
    for (let i = 0; i < 16; i++) x[i]! ^= el[i]!
  }
  return { n, x }
}

function assertMatchesScratch (nd: Node): void {
  const d = nd.index.digest()
  assert.equal(d.ws, windowStartFor(nd.clock.now, TTL))
  const want = expected(nd.store, d.ws)
  assert.equal(d.n, want.n, 'element count')
  assert.deepEqual(d.x, want.x, 'XOR of the elements')
  const fresh = new WindowIndex({ store: nd.store, ttlMs: TTL, now: () => nd.clock.now })
  assert.deepEqual(fresh.digest(), d, 'a rebuilt index agrees')
}

const triple = windowTriple
const opArb = windowOp(TTL)
const run = applyWindowOp

describe('WindowIndex', () => {
  test('the window start is quantized to TTL/8 and trails the clock by TTL/2 to 5·TTL/8', () => {
    const q = TTL / 8
    const ws = windowStartFor(T0, TTL)
    assert.equal(ws % q, 0)
    assert.ok(T0 - ws >= TTL / 2 && T0 - ws < TTL / 2 + q)
    assert.equal(windowStartFor(ws + TTL / 2, TTL), ws, 'constant within a quantum')
    assert.equal(windowStartFor(ws + TTL / 2 + q - 1, TTL), ws)
    assert.equal(windowStartFor(ws + TTL / 2 + q, TTL), ws + q, 'moves by one quantum')
    assert.equal(windowStartFor(1000, TTL), 0, 'never below 0')
    assert.equal(windowStartFor(10_000, 1000), 9_500 - (9_500 % 125), 'a one-second TTL: Q = 125 ms')
    const nd = node()
    assert.equal(nd.index.windowStart(), ws)
    assert.equal(nd.index.windowStart(T0 + q), ws + q)
  })

  test('an element is BLAKE3(kind ‖ 0x00 ‖ key ‖ 0x00 ‖ canonical record), first 16 bytes', () => {
    const nd = node()
    const [t] = nd.engine.addTriples([triple(1, 1)])
    const note = nd.engine.setNote('user:é', { a: [1, 2] })
    for (const r of [t!, note] as MemoryRecord[]) {
      const bytes = Buffer.concat([Buffer.from(r.kind), Buffer.from([0]), Buffer.from(recordKey(r), 'utf8'), Buffer.from([0]), Buffer.from(canonicalRecord(r), 'utf8')])
      assert.deepEqual(elementOf(r), blake3(bytes).subarray(0, 16))
    }
    const els = [...nd.index.elements()]
    assert.equal(els.length, 2)
    assert.deepEqual(els.find(e => e.kind === 'note')?.key, 'user:é')
    assert.deepEqual(nd.index.state('note', 'user:é')?.record, note)
  })

  test(`the digest always equals a recomputation from scratch (random changes, remote states, clock steps; property) (seed ${seedFor(0x3d0)})`, () => {
    const seed = seedFor(0x3d0)
    assertProperty(fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
      const nd = node()
      for (const o of ops) {
        run(nd, o)
        assertMatchesScratch(nd)
      }
    }), seed, 1_000)
  })

  test('a newer state replaces the old element; a state older than the window drops it', () => {
    const nd = node()
    const note = nd.engine.setNote('k', 1)
    const before = nd.index.digest()
    assert.equal(before.n, 1)
    assert.deepEqual(before.x, elementOf(note))
    const updated = nd.engine.setNote('k', 2)
    assert.deepEqual(nd.index.digest().x, elementOf(updated))
    assert.equal(nd.index.digest().n, 1)
    // A remote triple from before the window is stored but is not in the window set.
    const old = makeTriple({ subject: 's', predicate: 'p', object: { kind: 'string', value: 'o' } }, { wall: T0 - TTL, counter: 0, node: B })
    nd.engine.applyRemote([recordToPlain(old)], { via: B })
    assert.equal(nd.index.digest().n, 1)
    assertMatchesScratch(nd)
  })

  test('records changed again and again keep the digest exact while the elements\' slots are reused; a saved copy stays as it was', () => {
    const nd = node()
    for (let i = 0; i < 3_000; i++) nd.engine.setNote(`k:${i % 300}`, i)
    const saved = nd.index.saved('feed')!
    const before = Array.from({ length: saved.entries.length }, (_, i) => saved.entries.at(i)).map(e => ({ key: e.key, seq: e.seq, bytes: e.element.slice() }))
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 300; i++) nd.engine.setNote(`k:${i}`, 10_000 * (round + 1) + i)
      assertMatchesScratch(nd)
    }
    assert.equal(nd.index.digest().n, 300)
    assert.equal(saved.entries.length, 300)
    for (let i = 0; i < before.length; i++) {
      const e = saved.entries.at(i)
      assert.deepEqual({ key: e.key, seq: e.seq, bytes: e.element }, before[i], 'the saved copy keeps its entries')
    }
    for (const e of nd.index.elements()) assert.deepEqual(e.element, elementOf(nd.store.getNote(e.key)!))
  })

  test('entries the index already reflects are ignored (a replayed event)', () => {
    const nd = node()
    const events: Parameters<WindowIndex['observe']>[0][] = []
    nd.engine.on('change', e => events.push(e.entries))
    nd.engine.setNote('k', 1)
    nd.engine.setNote('k', 2)
    const d = nd.index.digest()
    nd.index.observe(events[0]!)
    assert.deepEqual(nd.index.digest(), d)
    const late = node()
    late.engine.setNote('k', 1)
    const idx = new WindowIndex({ store: late.store, ttlMs: TTL, now: () => late.clock.now })
    idx.rebuild()
    idx.observe([{ seq: 1 as never, record: late.store.getNote('k')! }])
    assert.equal(idx.digest().n, 1, 'entries up to the rebuild are not counted twice')
  })

  test('the window moving forward drops old elements without reading the store; moving back rebuilds', () => {
    const nd = node()
    nd.engine.setNote('old', 1)
    nd.clock.now += TTL / 4
    nd.engine.setNote('new', 1)
    assert.equal(nd.index.digest().n, 2)
    let scans = 0
    const changesSince = nd.store.changesSince.bind(nd.store)
    nd.store.changesSince = (after, opts) => { scans++; return changesSince(after, opts) }
    nd.clock.now += TTL / 2 // past the old note's window
    assert.equal(nd.index.digest().n, 1)
    assert.equal(scans, 0, 'forward: an in-memory pass')
    assertMatchesScratch(nd)
    nd.clock.now -= TTL / 2
    assert.equal(nd.index.digest().n, 2)
    assert.ok(scans > 0, 'back: rebuilt from the store')
    assertMatchesScratch(nd)
  })

  test('two indexes over stores holding the same records have equal digests and bucket fingerprints', () => {
    const src = node()
    for (let i = 0; i < 300; i++) src.engine.addTriples([triple(i, i % 7)])
    for (let i = 0; i < 40; i++) src.engine.deleteTriples({ subject: `user:s${i * 5}` })
    for (let i = 0; i < 50; i++) src.engine.setNote(`n:${i % 20}`, i)
    src.engine.putEpisode({ id: 'ep:1', data: { summary: 'x' } })
    src.engine.appendTraces([{ runId: 'r', type: 't', data: null }])
    const plain = src.store.dump().map(recordToPlain)
    const other = node(B)
    for (let i = plain.length; i > 0; i -= 37) other.engine.applyRemote(plain.slice(Math.max(0, i - 37), i), { via: A })
    assert.deepEqual(other.index.digest(), src.index.digest())
    for (const level of [1, 5, FINE_BITS]) {
      const idx = Array.from({ length: 2 ** level }, (_, j) => j)
      assert.deepEqual(other.index.bucketFingerprints(level, idx), src.index.bucketFingerprints(level, idx))
    }
  })

  test('an index over a SQLite store agrees with one over a memory store holding the same records', () => {
    const src = node()
    for (let i = 0; i < 25_000; i += 5_000) src.engine.addTriples(Array.from({ length: 5_000 }, (_, j) => triple(i + j, j % 3)))
    src.engine.deleteTriples({ subject: 'user:s7' })
    src.engine.setNote('n:1', { deep: [1, 'two', null] })
    src.engine.appendTraces([{ runId: 'r', type: 't', data: 0.5 }])
    const dir = mkdtempSync(join(tmpdir(), 'engram-window-'))
    const store = SqliteStore.open(join(dir, 'store.db'))
    try {
      const engine = new Engine({ store, node: B, maxDriftMs: 60_000, now: () => T0 })
      const plain = src.store.dump().map(recordToPlain)
      for (let i = 0; i < plain.length; i += 5_000) engine.applyRemote(plain.slice(i, i + 5_000), { via: A })
      const index = new WindowIndex({ store, ttlMs: TTL, now: () => T0 })
      assert.deepEqual(index.digest(), src.index.digest())
      assert.equal(index.size, 25_002)
    } finally {
      store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('buckets partition the set by the elements\' first bits', () => {
    const nd = node()
    for (let i = 0; i < 500; i++) nd.engine.setNote(`n:${i}`, i)
    const all = [...nd.index.elements()]
    for (const level of [0, 1, 4, FINE_BITS]) {
      const buckets = level === 0 ? [0] : [0, 2 ** level - 1]
      const inside = all.filter(e => buckets.includes(bucketOf(e.element, level)))
      assert.equal(nd.index.countIn(level, buckets), new Set(inside).size)
      assert.deepEqual(new Set(nd.index.elementsIn(level, buckets)), new Set(inside))
      const last = buckets[buckets.length - 1]!
      const fp = nd.index.bucketFingerprints(level, [last])
      const x = new Uint8Array(16)
      for (const e of all) if (bucketOf(e.element, level) === last) for (let i = 0; i < 16; i++) x[i]! ^= e.element[i]!
      assert.deepEqual(fp, x.subarray(0, 8))
    }
    assert.equal(nd.index.countIn(0, undefined), 500)
    assert.throws(() => nd.index.bucketFingerprints(13, [0]), (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT')
    assert.throws(() => nd.index.countIn(2, [4]), (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT')
  })

  test('refuses a TTL under 8 ms', () => {
    assert.throws(() => new WindowIndex({ store: new MemoryStore(), ttlMs: 4 }), (e: unknown) => isEngramError(e) && e.code === 'INVALID_INPUT')
  })
})
