import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { RecordKind } from '../../src/core/model.ts'
import { ElementTable } from '../../src/protocol/native/ElementTable.ts'
import { hexKeyInto, hexKeyOf } from '../../src/protocol/native/hexKey.ts'

const KINDS: readonly RecordKind[] = ['triple', 'note', 'episode', 'trace']
const el = (i: number): Uint8Array => Uint8Array.from({ length: 16 }, (_, j) => (i * 131 + j * 7 + (i >>> 8) * 13) & 0xff)
const fine = (e: Uint8Array): number => (e[0]! << 4) | (e[1]! >>> 4)

/** A deterministic generator (xorshift32), so a failure replays. */
function rng (seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32 }
}

/** A hex key; `family` keys share their first 8 bytes, so they land on the same place of the hash table. */
function hexKey (family: number, i: number): string {
  const head = (family * 2_654_435_761 >>> 0).toString(16).padStart(8, '0') + '00000000'
  return head + (i * 40_503 >>> 0).toString(16).padStart(8, '0').repeat(6)
}

interface Model { kind: RecordKind, key: string, wall: number, seq: number, dead: boolean, element: Uint8Array }

function check (t: ElementTable, model: Map<string, Model>): void {
  assert.equal(t.size, model.size)
  for (const m of model.values()) {
    const s = t.find(m.kind, m.key)
    assert.ok(s >= 0, `${m.kind} ${m.key} found`)
    assert.deepEqual({ kind: t.kind(s), key: t.key(s), wall: t.wall(s), seq: t.seq(s), dead: t.dead(s), element: t.element(s) }, m)
  }
  // the bucket lists hold every element once, each in its own bucket
  let listed = 0
  for (let b = 0; b < 4_096; b++) {
    let n = 0
    for (let s = t.first(b); s >= 0; s = t.after(s)) { assert.equal(t.fine(s), b); n++ }
    assert.equal(n, t.countIn(b))
    listed += n
  }
  assert.equal(listed, model.size)
  assert.equal([...t.slots()].length, model.size)
}

test('hex keys are kept as their 32 bytes and read back; other keys are not taken for hex', () => {
  const key = hexKey(7, 3)
  const out = new Uint8Array(40)
  assert.equal(hexKeyInto(key, out, 4), true)
  assert.equal(hexKeyOf(out, 4), key)
  for (const k of ['k', key.toUpperCase(), `${key}0`, key.slice(1), `${key.slice(0, 63)}g`]) assert.equal(hexKeyInto(k, out, 0), false, k)
  // every character in the first, a middle and the last place: taken only when a lowercase hex digit; nothing written otherwise
  for (const at of [0, 31, 63]) {
    for (let c = 0; c < 0x1_0000; c += c < 0x200 ? 1 : 97) {
      const k = key.slice(0, at) + String.fromCharCode(c) + key.slice(at + 1)
      const before = out.slice()
      const digit = /^[0-9a-f]$/.test(String.fromCharCode(c))
      assert.equal(hexKeyInto(k, out, 4), digit, `${at}: ${c}`)
      if (digit) assert.equal(hexKeyOf(out, 4), k)
      else assert.deepEqual(out, before)
    }
  }
})

test('a table under random adds and removes agrees with a map of its elements (keys that collide in the hash table, note keys, reused slots)', () => {
  const seed = Number(process.env.ENGRAM_FC_SEED ?? 20_261_207)
  const rand = rng(seed)
  const t = new ElementTable()
  const model = new Map<string, Model>()
  let seq = 0
  try {
    for (let step = 0; step < 20_000; step++) {
      const kind = KINDS[Math.floor(rand() * 4)]!
      // few families: many hex keys share a home in the hash table; and a few notes named freely
      const key = kind === 'note' && rand() < 0.5 ? `note:${Math.floor(rand() * 300)}` : hexKey(Math.floor(rand() * 8), Math.floor(rand() * 600))
      const id = `${kind}/${key}`
      const at = t.find(kind, key)
      assert.equal(at >= 0, model.has(id))
      if (at >= 0 && rand() < 0.6) {
        t.remove(at)
        model.delete(id)
      } else if (at < 0) {
        const m: Model = { kind, key, wall: Math.floor(rand() * 1e12), seq: ++seq, dead: rand() < 0.2, element: el(seq) }
        t.add(m.kind, m.key, m.wall, m.seq, m.dead, m.element)
        model.set(id, m)
      }
      if (step % 2_500 === 0) check(t, model)
    }
    check(t, model)
    const frozen = t.frozen()
    const copied = Array.from({ length: frozen.length }, (_, i) => frozen.at(i)).map(e => ({ kind: e.kind, key: e.key, seq: e.seq, element: e.element.slice() }))
    for (const m of [...model.values()].slice(0, 500)) { t.remove(t.find(m.kind, m.key)); model.delete(`${m.kind}/${m.key}`) }
    for (let i = 0; i < 700; i++) t.add('triple', hexKey(99, i), 1, ++seq, false, el(seq))
    assert.deepEqual(Array.from({ length: frozen.length }, (_, i) => frozen.at(i)).map(e => ({ kind: e.kind, key: e.key, seq: e.seq, element: e.element.slice() })), copied, 'a frozen copy does not change with the table')
    t.clear()
    assert.equal(t.size, 0)
    assert.equal(t.find('triple', hexKey(99, 1)), -1)
    assert.equal(t.countIn(fine(el(seq))), 0)
  } catch (e) {
    process.stderr.write(`element table: seed ${seed} (ENGRAM_FC_SEED=${seed} replays it)\n`)
    throw e
  }
})
