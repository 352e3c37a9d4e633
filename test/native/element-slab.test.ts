import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ElementSlab, slabView, slabXorInto, type SlabHolder } from '../../src/protocol/native/ElementSlab.ts'

const el = (i: number): Uint8Array => Uint8Array.from({ length: 16 }, (_, j) => (i * 31 + j * 7) & 0xff)
const holder = (): SlabHolder => ({ buf: new Uint8Array(0), slot: 0 })

test('elements are kept side by side, read back as views and XORed in place', () => {
  const slab = new ElementSlab()
  const hs = [0, 1, 2].map(i => { const h = holder(); slab.put(h, el(i), () => []); return h })
  assert.deepEqual(hs.map(h => h.slot), [0, 1, 2])
  assert.equal(hs[0]!.buf, hs[2]!.buf, 'one buffer')
  for (const i of [0, 1, 2]) assert.deepEqual(slabView(hs[i]!), el(i))
  const x = new Uint8Array(32)
  slabXorInto(x, 16, hs[1]!)
  slabXorInto(x, 16, hs[2]!)
  assert.deepEqual(x.subarray(16), el(1).map((b, j) => b ^ el(2)[j]!))
  assert.deepEqual(x.subarray(0, 16), new Uint8Array(16))
})

test('a full buffer moves the live elements to a new one; what a removed holder reads never changes', () => {
  const slab = new ElementSlab()
  const live = new Map<number, SlabHolder>()
  const put = (i: number): SlabHolder => {
    const h = holder()
    slab.put(h, el(i), () => live.values())
    live.set(i, h)
    return h
  }
  for (let i = 0; i < 1_024; i++) put(i)
  const firstBuf = live.get(0)!.buf
  put(1_024) // full, every slot in use: all move to a buffer twice as large
  assert.notEqual(live.get(0)!.buf, firstBuf)
  for (const [i, h] of live) assert.deepEqual(slabView(h), el(i))
  // remove most, holding on to some removed ones and reading them later
  const removed: Array<[number, SlabHolder]> = []
  for (let i = 0; i < 1_025; i++) {
    if (i % 4 === 0) continue
    removed.push([i, live.get(i)!])
    live.delete(i)
    slab.free()
  }
  for (let i = 2_000; i < 4_000; i++) put(i) // fills the buffer again: the live ones move, renumbered
  for (const [i, h] of live) assert.deepEqual(slabView(h), el(i))
  for (const [i, h] of removed) assert.deepEqual(slabView(h), el(i), 'a removed holder keeps its bytes')
  assert.ok(new Set([...live.values()].map(h => h.slot)).size === live.size, 'distinct slots')
  slab.clear()
  const h = holder()
  slab.put(h, el(5), () => [])
  assert.equal(h.slot, 0)
})
