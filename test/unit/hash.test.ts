import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createBLAKE3 } from 'hash-wasm'
import { blake3, blake3Hex, blake3Into, directBlake3 } from '../../src/core/hash.ts'

/** BLAKE3-256 through hash-wasm's own hasher: what core/hash.ts must give, whichever way it hashes. */
const reference = await (async () => {
  const h = await createBLAKE3(256)
  return (data: Uint8Array | string): string => {
    h.init()
    h.update(data)
    return Buffer.from(h.digest('binary')).toString('hex')
  }
})()

/** Bytes 0, 1, … n − 1 modulo 251 (the BLAKE3 test vectors' input pattern). */
const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i % 251)

// around the block (64), chunk (1,024) and buffer (16 KiB) sizes, and past the buffer (the hasher's way)
const LENGTHS = [0, 1, 63, 64, 65, 200, 1023, 1024, 1025, 2048, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 40_000]
const TEXTS = ['', 'engram', 'é'.repeat(700), '\u{1F600} and a lone surrogate \uD800 here', 'x'.repeat(5462), '€'.repeat(6000)]

describe('core/hash.ts', () => {
  test('the module\'s one-call hash is in use (hash-wasm hashes the checks the same)', () => {
    assert.equal(directBlake3, true)
  })

  test('the BLAKE3 test vectors', () => {
    assert.equal(blake3Hex(''), 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262')
    assert.equal(blake3Hex(pattern(1)), '2d3adedff11b61f14c886e35afa036736dcd87a74d27b5c1510225d0f592e213')
    assert.equal(blake3Hex(pattern(1024)), '42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7')
  })

  test('bytes of every length give hash-wasm\'s digest, as hex, bytes and a prefix written in place', () => {
    for (const n of LENGTHS) {
      const data = pattern(n)
      const want = reference(data)
      assert.equal(blake3Hex(data), want, `hex of ${n} bytes`)
      assert.equal(Buffer.from(blake3(data)).toString('hex'), want, `bytes of ${n} bytes`)
      const out = new Uint8Array(40).fill(0xaa)
      blake3Into(data, 16, out, 7)
      assert.equal(Buffer.from(out.subarray(7, 23)).toString('hex'), want.slice(0, 32), `prefix of ${n} bytes`)
      assert.ok(out.subarray(0, 7).every(b => b === 0xaa) && out.subarray(23).every(b => b === 0xaa), 'nothing written around the prefix')
    }
  })

  test('text is hashed as its UTF-8 (a lone surrogate as EF BF BD), short and past the buffer', () => {
    for (const s of TEXTS) {
      assert.equal(blake3Hex(s), reference(s), `${s.length} units`)
      assert.equal(blake3Hex(s), reference(Buffer.from(s, 'utf8')))
    }
  })

  test('a digest handed out is not changed by the next hash', () => {
    const a = blake3(pattern(10))
    const copy = Buffer.from(a).toString('hex')
    blake3(pattern(20))
    blake3Hex('other')
    assert.equal(Buffer.from(a).toString('hex'), copy)
  })
})
