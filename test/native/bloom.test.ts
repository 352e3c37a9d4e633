import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isEngramError } from '../../src/core/errors.ts'
import { BLOOM_LIMITS, BloomFilter, bloomParams } from '../../src/protocol/native/bloom.ts'
import { assertProperty, seedFor } from '../unit/arbitraries.ts'

/** A seeded generator of 16-byte elements (xorshift128), so every measurement is reproducible. */
function elements (seed: number): () => Uint8Array {
  let a = seed | 1; let b = 0x9e3779b9; let c = 0x85ebca6b; let d = 0xc2b2ae35
  const next = (): number => {
    const t = a ^ (a << 11)
    a = b; b = c; c = d
    d = (d ^ (d >>> 19) ^ (t ^ (t >>> 8))) >>> 0
    return d
  }
  return () => {
    const el = new Uint8Array(16)
    const v = new DataView(el.buffer)
    for (let i = 0; i < 4; i++) v.setUint32(i * 4, next(), true)
    return el
  }
}

function assertCode (fn: () => unknown, code: string, mentions: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isEngramError(e), `expected an EngramError, got ${String(e)}`)
    assert.equal(e.code, code, e.message)
    assert.ok(e.message.includes(mentions), `message ${JSON.stringify(e.message)} should mention ${mentions}`)
    return true
  })
}

/** The hashing rule of docs/PROTOCOL.md §3, written again from the text (an independent implementation). */
function referencePositions (el: Uint8Array, salt: number, m: number, k: number): number[] {
  const fmix = (h: number): number => {
    h = (h ^ (h >>> 16)) >>> 0
    h = Number((BigInt(h) * 0x85ebca6bn) & 0xffffffffn)
    h = (h ^ (h >>> 13)) >>> 0
    h = Number((BigInt(h) * 0xc2b2ae35n) & 0xffffffffn)
    return (h ^ (h >>> 16)) >>> 0
  }
  const w = [0, 4, 8, 12].map(o => new DataView(el.buffer, el.byteOffset).getUint32(o, true))
  const s = fmix(salt)
  const h1 = fmix((w[0]! ^ fmix((w[1]! ^ s) >>> 0)) >>> 0)
  const h2 = (fmix((w[2]! ^ fmix((w[3]! ^ s ^ 0x9e3779b9) >>> 0)) >>> 0) | 1) >>> 0
  return Array.from({ length: k }, (_, i) => Number((BigInt(h1) + BigInt(i) * BigInt(h2)) % 2n ** 32n) % m)
}

describe('bloomParams', () => {
  test('optimal sizes, rounded up to whole bytes', () => {
    assert.deepEqual(bloomParams(1000, 0.01), { m: 9592, k: 7 })
    assert.deepEqual(bloomParams(100_000, 0.01), { m: 958_512, k: 7 })
    assert.deepEqual(bloomParams(1000, 0.1), { m: 4800, k: 3 })
    assert.deepEqual(bloomParams(0, 0.01), { m: 64, k: 1 })
    assert.deepEqual(bloomParams(1, 0.5), { m: 64, k: 16 })
    assert.deepEqual(bloomParams(100_000_000, 0.01), { m: BLOOM_LIMITS.maxBits, k: 1 })
    assert.deepEqual(bloomParams(100_000, 0.01, 100_003), { m: 100_000, k: 1 }, 'capped by maxBits, rounded down to bytes')
    assert.deepEqual(bloomParams(10_000, 0.01, 2 ** 20), { m: 95_856, k: 7 }, 'a cap above the optimum changes nothing')
  })

  test(`m ≥ 64, a multiple of 8, at most 2^26; k from 1 to 16 (property) (seed ${seedFor(0xb100)})`, () => {
    const seed = seedFor(0xb100)
    assertProperty(fc.property(fc.integer({ min: 0, max: 50_000_000 }), fc.double({ min: 1e-9, max: 0.999, noNaN: true }), (n, fpr) => {
      const { m, k } = bloomParams(n, fpr)
      assert.ok(m >= 64 && m <= BLOOM_LIMITS.maxBits && m % 8 === 0, `m = ${m}`)
      assert.ok(Number.isInteger(k) && k >= 1 && k <= 16, `k = ${k}`)
      const ideal = -n * Math.log(fpr) / Math.LN2 ** 2
      if (ideal <= BLOOM_LIMITS.maxBits - 8) assert.ok(m >= ideal && m <= Math.max(64, Math.ceil(ideal) + 7), `m = ${m}, ideal ${ideal}`)
    }), seed, 2_000)
  })

  test('refuses a bad n or fpr', () => {
    for (const n of [-1, 1.5, NaN, Infinity]) assertCode(() => bloomParams(n, 0.01), 'INVALID_INPUT', 'n:')
    for (const fpr of [0, 1, -0.1, 2, NaN]) assertCode(() => bloomParams(10, fpr), 'INVALID_INPUT', 'fpr:')
    for (const maxBits of [63, 2 ** 26 + 1, 1.5]) assertCode(() => bloomParams(10, 0.01, maxBits), 'INVALID_INPUT', 'maxBits:')
  })
})

describe('BloomFilter', () => {
  test(`positions follow the documented hashing rule (golden vectors and an independent implementation; seed ${seedFor(0xb101)})`, () => {
    const el = Uint8Array.from({ length: 16 }, (_, i) => i)
    assert.deepEqual(BloomFilter.create({ m: 1024, k: 4 }, 0x12345678).positions(el), [212, 411, 610, 809])
    assert.deepEqual(BloomFilter.create({ m: 72, k: 5 }, 0).positions(el), [3, 60, 5, 62, 7])
    assert.deepEqual(BloomFilter.create({ m: 9592, k: 7 }, 0xffffffff).positions(el), [3181, 4590, 5999, 7408, 8817, 6050, 7459])
    const seed = seedFor(0xb101)
    assertProperty(fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.integer({ min: 8, max: 2 ** 17 }).map(x => x * 8), fc.integer({ min: 1, max: 16 }),
      (el, salt, m, k) => {
        const f = BloomFilter.create({ m, k }, salt)
        assert.deepEqual(f.positions(el), referencePositions(el, salt, m, k))
        f.add(el)
        for (const p of f.positions(el)) assert.ok((f.bits[p >>> 3]! & (1 << (p & 7))) !== 0, `bit ${p} is set (least significant first)`)
      }), seed, 2_000)
  })

  test(`no false negatives (property) (seed ${seedFor(0xb102)})`, () => {
    const seed = seedFor(0xb102)
    assertProperty(fc.property(
      fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { maxLength: 200 }),
      fc.double({ min: 0.0001, max: 0.5, noNaN: true }), fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      (els, fpr, salt) => {
        const f = BloomFilter.create(bloomParams(els.length, fpr), salt)
        for (const el of els) f.add(el)
        for (const el of els) assert.ok(f.has(el))
        assert.equal(f.count, els.length)
      }), seed, 1_000)
  })

  for (const fpr of [0.01, 0.1]) {
    for (const n of [100, 10_000, 100_000]) {
      test(`measured false-positive rate near ${fpr} with ${n.toLocaleString('en')} elements`, (t) => {
        const next = elements(n * 31 + Math.round(fpr * 1000))
        const probesPerFilter = 100_000
        const filters = n === 100 ? 8 : 1 // small filters vary more from one to the next: average a few
        let fp = 0
        let estimated = 0
        for (let s = 0; s < filters; s++) {
          const f = BloomFilter.create(bloomParams(n, fpr), s * 0x1000193)
          for (let i = 0; i < n; i++) f.add(next())
          for (let i = 0; i < probesPerFilter; i++) if (f.has(next())) fp++
          estimated += f.estimatedFpr()
        }
        const measured = fp / (probesPerFilter * filters)
        estimated /= filters
        t.diagnostic(`n ${n}, target ${fpr}: measured ${measured.toFixed(4)}, estimated ${estimated.toFixed(4)}`)
        assert.ok(measured > fpr * 0.6 && measured < fpr * 1.4, `measured ${measured} for a target of ${fpr}`)
        assert.ok(Math.abs(measured - estimated) < fpr * 0.25, `measured ${measured}, estimated ${estimated}`)
      })
    }
  }

  test('another salt maps an element to independent positions: a false positive recurs at about the configured rate', (t) => {
    const fpr = 0.05
    const n = 2_000
    const next = elements(7)
    const members = Array.from({ length: n }, next)
    const filterFor = (salt: number): BloomFilter => {
      const f = BloomFilter.create(bloomParams(n, fpr), salt)
      for (const el of members) f.add(el)
      return f
    }
    const first = filterFor(1)
    const hidden: Uint8Array[] = []
    while (hidden.length < 50) {
      const el = next()
      if (first.has(el)) hidden.push(el)
    }
    const salts = 400
    let again = 0
    for (let s = 2; s < salts + 2; s++) {
      const f = filterFor(s * 2654435761 >>> 0)
      for (const el of hidden) if (f.has(el)) again++
    }
    const rate = again / (salts * hidden.length)
    t.diagnostic(`false positives of salt 1 recur under other salts at ${rate.toFixed(4)} (target ${fpr})`)
    assert.ok(rate > fpr * 0.7 && rate < fpr * 1.3, `a false positive under salt 1 recurs at ${rate} under other salts (target ${fpr})`)
  })

  test('decode reads the announced filter in place, with the same members', () => {
    const next = elements(3)
    const els = Array.from({ length: 500 }, next)
    const f = BloomFilter.create(bloomParams(500, 0.01), 99)
    for (const el of els) f.add(el)
    const g = BloomFilter.decode({ m: f.m, k: f.k, salt: f.salt, bits: Buffer.from(f.bits), n: 500 })
    assert.equal(g.count, 500)
    assert.deepEqual([g.m, g.k, g.salt], [f.m, f.k, f.salt])
    for (const el of els) assert.ok(g.has(el))
    for (let i = 0; i < 2_000; i++) { const el = next(); assert.equal(g.has(el), f.has(el)) }
    assert.equal(g.estimatedFpr(), f.estimatedFpr())
  })

  test('decode refuses every bad field with a PROTOCOL error naming it', () => {
    const ok = { m: 64, k: 3, salt: 5, bits: new Uint8Array(8) }
    const cases: [Record<string, unknown>, string][] = [
      [{ m: 2 ** 35 }, 'bloom.m'], // a 4 GiB filter
      [{ m: 2 ** 26 + 8 }, 'bloom.m'],
      [{ m: 60 }, 'bloom.m'],
      [{ m: 68 }, 'bloom.m'],
      [{ m: '64' }, 'bloom.m'],
      [{ m: 2n ** 40n }, 'bloom.m'],
      [{ m: undefined }, 'bloom.m'],
      [{ k: 0 }, 'bloom.k'], // zero hashes
      [{ k: 1_000_000 }, 'bloom.k'], // a million hashes
      [{ k: 17 }, 'bloom.k'],
      [{ k: 2.5 }, 'bloom.k'],
      [{ salt: -1 }, 'bloom.salt'],
      [{ salt: 2 ** 32 }, 'bloom.salt'],
      [{ salt: 0.5 }, 'bloom.salt'],
      [{ bits: [0, 0, 0, 0, 0, 0, 0, 0] }, 'bloom.bits'],
      [{ bits: new Uint8Array(9) }, 'bloom.bits'],
      [{ bits: 'AAAAAAAAAAA=' }, 'bloom.bits'],
      [{ n: -1 }, 'bloom.n']
    ]
    for (const [patch, field] of cases) assertCode(() => BloomFilter.decode({ ...ok, ...patch }), 'PROTOCOL', field)
    assertCode(() => BloomFilter.decode({ ...ok, m: 128, bits: new Uint8Array(16) }, { maxBits: 64 }), 'PROTOCOL', 'bloom.m')
    assertCode(() => BloomFilter.decode(null as never), 'PROTOCOL', 'bloom')
  })

  test('a 4 GiB, a zero-hash and a million-hash announcement are refused before anything is allocated', () => {
    const before = process.memoryUsage().arrayBuffers
    for (let i = 0; i < 1_000; i++) {
      for (const wire of [
        { m: 2 ** 35, k: 7, salt: 1, bits: new Uint8Array(0) },
        { m: 2 ** 35, k: 7, salt: 1, bits: new Uint8Array(2 ** 32 / 2 ** 24) },
        { m: 1024, k: 0, salt: 1, bits: new Uint8Array(128) },
        { m: 1024, k: 1_000_000, salt: 1, bits: new Uint8Array(128) }
      ]) assert.throws(() => BloomFilter.decode(wire), (e: unknown) => isEngramError(e) && e.code === 'PROTOCOL')
    }
    assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024, 'no filter-sized buffer was allocated')
  })

  test('create refuses out-of-range sizes and salts', () => {
    assertCode(() => BloomFilter.create({ m: 63, k: 1 }, 0), 'INVALID_INPUT', 'm:')
    assertCode(() => BloomFilter.create({ m: 2 ** 27, k: 1 }, 0), 'INVALID_INPUT', 'm:')
    assertCode(() => BloomFilter.create({ m: 64, k: 0 }, 0), 'INVALID_INPUT', 'k:')
    assertCode(() => BloomFilter.create({ m: 64, k: 1 }, -1), 'INVALID_INPUT', 'salt:')
    assertCode(() => BloomFilter.create({ m: 64, k: 1 }, 0).add(new Uint8Array(15)), 'INVALID_INPUT', 'element:')
  })

  test('an empty filter has no members and an estimated rate of 0', () => {
    const f = BloomFilter.create(bloomParams(0, 0.01), 0)
    assert.equal(f.estimatedFpr(), 0)
    assert.equal(f.has(new Uint8Array(16)), false)
    assert.equal(f.bits.byteLength, 8)
  })
})
