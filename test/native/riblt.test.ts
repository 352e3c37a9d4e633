import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isEngramError } from '../../src/core/errors.ts'
import { CodedSummary } from '../../src/protocol/native/codedSummary.ts'
import { estimateDifference, SKETCH_BYTES, sketchOf } from '../../src/protocol/native/diffEstimate.ts'
import { compareSymbolZero, idsOf, RIBLT_LIMITS, RibltDecoder, RibltEncoder, SYMBOL_BYTES } from '../../src/protocol/native/riblt.ts'
import { mulberry32 as seeded } from '../../src/util/random.ts'
import { assertProperty, seedFor } from '../unit/arbitraries.ts'

/** `count` distinct random 16-byte elements from a seeded generator. */
function elements (count: number, rnd: () => number): Uint8Array[] {
  const seen = new Set<string>()
  const out: Uint8Array[] = []
  while (out.length < count) {
    const e = Uint8Array.from({ length: 16 }, () => Math.floor(rnd() * 256))
    const key = Buffer.from(e.subarray(0, 8)).toString('hex')
    if (seen.has(key)) continue
    seen.add(key)
    out.push(e)
  }
  return out
}

const ids = (els: Uint8Array[]): Uint32Array => idsOf(els, els.length)

/** Ids (pairs) as sorted strings, to compare sets. */
function idSet (pairs: Uint32Array): string[] {
  const out: string[] = []
  for (let i = 0; i < pairs.length; i += 2) out.push(`${pairs[i]!.toString(16)}:${pairs[i + 1]!.toString(16)}`)
  return out.sort()
}

/** Streams the encoder's symbols to the decoder in batches of `batch` until it is done (or the limit). */
function reconcile (remote: Uint8Array[], local: Uint8Array[], batch: number): RibltDecoder {
  const enc = new RibltEncoder(ids(remote))
  const dec = new RibltDecoder(ids(local))
  while (!dec.done && dec.received < RIBLT_LIMITS.maxSymbols) dec.add(enc.next(dec.received + batch))
  return dec
}

function assertCode (fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => isEngramError(e) && e.code === code, `expected ${code}`)
}

describe('riblt', () => {
  test('property: two sets with d differences (0 … 10,000) always decode to exactly the symmetric difference', () => {
    const seed = seedFor(17_001)
    const arb = fc.record({
      shared: fc.integer({ min: 0, max: 3_000 }),
      d: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 10_000 })),
      split: fc.double({ min: 0, max: 1, noNaN: true }),
      batch: fc.integer({ min: 1, max: 3_000 }),
      data: fc.integer({ min: 0, max: 2 ** 31 - 1 })
    })
    assertProperty(fc.property(arb, ({ shared, d, split, batch, data }) => {
      const all = elements(shared + d, seeded(data))
      const onlyRemote = all.slice(shared, shared + Math.round(d * split))
      const onlyLocal = all.slice(shared + Math.round(d * split))
      const base = all.slice(0, shared)
      const dec = reconcile([...base, ...onlyRemote], [...base, ...onlyLocal], batch)
      assert.ok(dec.done, `not decoded after ${dec.received} symbols`)
      const diff = dec.difference()
      assert.deepEqual(idSet(diff.remote), idSet(ids(onlyRemote)))
      assert.deepEqual(idSet(diff.local), idSet(ids(onlyLocal)))
      // a few more symbols change nothing once done
      const count = dec.decoded
      dec.add(new RibltEncoder(ids(base)).next(3))
      assert.equal(dec.decoded, count)
    }), seed, 40)
  })

  test('decoding costs about 1.35–2 symbols a difference (measured over 20 sets each)', () => {
    const rnd = seeded(5)
    for (const [d, most] of [[10, 2.6], [100, 1.8], [1_000, 1.5]] as const) {
      let symbols = 0
      for (let run = 0; run < 20; run++) {
        const all = elements(1_000 + d, rnd)
        const dec = reconcile(all.slice(0, 1_000 + Math.floor(d / 2)), [...all.slice(0, 1_000), ...all.slice(1_000 + Math.floor(d / 2))], Math.max(1, d / 20))
        assert.ok(dec.done)
        symbols += dec.received
      }
      assert.ok(symbols / 20 / d <= most, `d = ${d}: ${symbols / 20 / d} symbols a difference`)
    }
  })

  test('symbol 0 alone tells equal sets and a single difference, with its side', () => {
    const [x, y, z, ...rest] = elements(50, seeded(9))
    const zero = (els: Uint8Array[]): Uint8Array => new RibltEncoder(ids(els)).next(1)
    assert.deepEqual(compareSymbolZero(zero(rest), zero(rest)), { kind: 'equal' })
    const one = compareSymbolZero(zero([...rest, x!]), zero(rest))
    assert.equal(one.kind, 'one')
    assert.deepEqual(one.kind === 'one' ? idSet(Uint32Array.of(one.hi, one.lo)) : [], idSet(ids([x!])))
    assert.equal(one.kind === 'one' && one.sign, 1)
    const theirs = compareSymbolZero(zero(rest), zero([...rest, y!]))
    assert.equal(theirs.kind === 'one' && theirs.sign, -1)
    assert.deepEqual(compareSymbolZero(zero([...rest, x!, y!]), zero(rest)), { kind: 'more' })
    assert.deepEqual(compareSymbolZero(zero([...rest, x!]), zero([...rest, z!])), { kind: 'more' })
  })

  test('property: the running summary equals symbol 0 and the sketch of the set, through adds and removes', () => {
    const seed = seedFor(17_002)
    assertProperty(fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.array(fc.boolean(), { maxLength: 600 }), (data, ops) => {
      const pool = elements(300, seeded(data))
      const live = new Set<number>()
      const summary = new CodedSummary()
      ops.forEach((add, i) => {
        const j = (i * 7919 + data) % pool.length
        if (add && !live.has(j)) { live.add(j); summary.add(pool[j]!) }
        if (!add && live.has(j)) { live.delete(j); summary.remove(pool[j]!) }
      })
      const set = [...live].map(j => pool[j]!)
      assert.deepEqual(summary.symbolZero(), new RibltEncoder(ids(set)).next(1))
      assert.deepEqual(summary.sketch(), sketchOf(ids(set)))
    }), seed, 200)
  })

  test('the sketch estimates the difference within a factor of 3', () => {
    const rnd = seeded(11)
    for (const d of [4, 30, 300, 3_000]) {
      const all = elements(2_000 + d, rnd)
      const a = sketchOf(ids(all.slice(0, 2_000 + Math.floor(d / 2))))
      const b = sketchOf(ids([...all.slice(0, 2_000), ...all.slice(2_000 + Math.floor(d / 2))]))
      const est = estimateDifference(a, b)
      assert.ok(est >= d / 3 && est <= d * 3, `d = ${d}: estimated ${est}`)
    }
    assert.equal(estimateDifference(new Uint8Array(SKETCH_BYTES), new Uint8Array(SKETCH_BYTES)), 0)
    assertCode(() => estimateDifference(new Uint8Array(3), new Uint8Array(SKETCH_BYTES)), 'PROTOCOL')
  })

  test('hostile symbols: a partial symbol is refused, too many symbols exceed the limit, garbage ends within it', () => {
    const local = ids(elements(200, seeded(3)))
    assertCode(() => new RibltDecoder(local).add(new Uint8Array(SYMBOL_BYTES + 1)), 'PROTOCOL')
    const big = new RibltDecoder(local)
    big.add(new Uint8Array(SYMBOL_BYTES * (RIBLT_LIMITS.maxSymbols - 1)))
    assertCode(() => big.add(new Uint8Array(SYMBOL_BYTES * 2)), 'LIMIT_EXCEEDED')
    const seed = seedFor(17_003)
    assertProperty(fc.property(fc.uint8Array({ minLength: 0, maxLength: 60 * SYMBOL_BYTES }), fc.boolean(), (junk, whole) => {
      const dec = new RibltDecoder(local)
      const bytes = whole ? junk.subarray(0, junk.byteLength - (junk.byteLength % SYMBOL_BYTES)) : junk
      try {
        dec.add(bytes)
      } catch (e) {
        assert.ok(isEngramError(e) && (e.code === 'PROTOCOL' || e.code === 'LIMIT_EXCEEDED'), String(e))
        return
      }
      assert.ok(dec.decoded <= RIBLT_LIMITS.maxDecoded)
    }), seed, 2_000)
  })

  test('a forged symbol 0 that peels one id never decodes more than it may', () => {
    // the peer claims count 1 with a consistent check for an id we do not hold: one id, its side +1
    const [x] = elements(1, seeded(21))
    const s0 = new RibltEncoder(ids([x!])).next(1)
    const dec = new RibltDecoder(new Uint32Array(0))
    dec.add(s0)
    assert.ok(dec.done)
    assert.deepEqual(idSet(dec.difference().remote), idSet(ids([x!])))
  })
})
