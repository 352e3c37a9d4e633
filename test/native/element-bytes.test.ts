/**
 * The window element and the canonical record are written as bytes into a reused buffer
 * (windowElement.ts, records.ts, canonical.ts). Elements are compared between peers, so their
 * bytes must be those of the text definition: the old code is kept here as the oracle.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { Bytes, canonicalJson, writeCanonicalJson } from '../../src/core/canonical.ts'
import { blake3 } from '../../src/core/hash.ts'
import { asNodeId, type TripleId } from '../../src/core/ids.ts'
import { recordKey, type Json, type MemoryRecord, type Term } from '../../src/core/model.ts'
import { canonicalRecord, recordToPlain, writeCanonicalRecord } from '../../src/core/records.ts'
import { ELEMENT_BYTES, elementOf } from '../../src/protocol/native/windowElement.ts'
import { assertProperty, seedFor } from '../unit/arbitraries.ts'

/** The canonical record text as it was written before the byte writer (the triple fast path, else JCS of the plain form). */
function oldCanonicalRecord (r: MemoryRecord): string {
  if (r.kind !== 'triple') return canonicalJson(recordToPlain(r))
  const o = r.object
  const value = o.kind === 'json' || o.kind === 'number' ? canonicalJson(o.value, 'object.value') : JSON.stringify(o.value)
  const object = o.kind === 'lang'
    ? `{"kind":"lang","lang":${JSON.stringify(o.lang)},"value":${value}}`
    : `{"kind":"${o.kind}","value":${value}}`
  const h = r.hlc
  return `{"deleted":${r.deleted},"hlc":{"counter":${canonicalJson(h.counter)},"node":${JSON.stringify(h.node)},"wall":${canonicalJson(h.wall)}},` +
    `"id":${JSON.stringify(r.id)},"kind":"triple","object":${object},"predicate":${JSON.stringify(r.predicate)},"subject":${JSON.stringify(r.subject)}}`
}

/** The element as it was defined before: BLAKE3 of the text, hashed as hash-wasm encodes a string. */
function oldElementOf (r: MemoryRecord): Uint8Array {
  return blake3(`${r.kind}\u0000${recordKey(r)}\u0000${oldCanonicalRecord(r)}`).slice(0, ELEMENT_BYTES)
}

/**
 * One UTF-16 unit or code point of every class the writer treats apart: ASCII, the characters
 * JSON escapes, 2-, 3- and 4-byte UTF-8, surrogate pairs and lone surrogates (the model refuses
 * these, but the bytes must still agree).
 */
const unitArb: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map(c => String.fromCharCode(c)),
  fc.constantFrom('"', '\\', '\b', '\t', '\n', '\f', '\r', '\u0000', '\u001f', '\u007f', '/', '\u2028'),
  fc.integer({ min: 0, max: 0x1f }).map(c => String.fromCharCode(c)),
  fc.integer({ min: 0x80, max: 0x7ff }).map(c => String.fromCharCode(c)),
  fc.integer({ min: 0x800, max: 0xffff }).map(c => String.fromCharCode(c)),
  fc.integer({ min: 0x10000, max: 0x10ffff }).map(c => String.fromCodePoint(c)),
  fc.integer({ min: 0xd800, max: 0xdfff }).map(c => String.fromCharCode(c))
)
const textArb = (minLength = 0, maxLength = 20): fc.Arbitrary<string> => fc.string({ unit: unitArb, minLength, maxLength })

const numberArb: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.constantFrom(0, -0, 1, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 64, 1e21, 1e-7, 5e-324, 1.5, -0.1, 123456789.125),
  fc.maxSafeInteger(),
  fc.double({ noNaN: true, noDefaultInfinity: true })
)

const jsonArb: fc.Arbitrary<Json> = fc.letrec<{ json: Json }>(tie => ({
  json: fc.oneof({ depthSize: 'small', maxDepth: 4 },
    textArb(), numberArb, fc.boolean(), fc.constant(null),
    fc.array(tie('json'), { maxLength: 5 }),
    fc.dictionary(textArb(0, 6), tie('json'), { maxKeys: 5, noNullPrototype: true })
  )
})).json

const hlcArb = fc.record({
  wall: fc.oneof(fc.integer({ min: 0, max: 2 ** 48 - 1 }), numberArb),
  counter: fc.oneof(fc.integer({ min: 0, max: 0xffff }), numberArb),
  node: fc.oneof(textArb(1, 60), fc.constant('12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN')).map(asNodeId)
})

const termArb: fc.Arbitrary<Term> = fc.oneof(
  textArb().map(value => ({ kind: 'node', value }) as const),
  textArb().map(value => ({ kind: 'string', value }) as const),
  fc.tuple(textArb(), textArb(0, 8)).map(([value, lang]) => ({ kind: 'lang', value, lang }) as const),
  numberArb.map(value => ({ kind: 'number', value }) as const),
  fc.boolean().map(value => ({ kind: 'boolean', value }) as const),
  textArb().map(value => ({ kind: 'datetime', value }) as const),
  jsonArb.map(value => ({ kind: 'json', value }) as const)
)

const idArb = fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), textArb(1))

/** Records of every kind and state, built directly (no validation): any text, any number. */
const recordArb: fc.Arbitrary<MemoryRecord> = fc.oneof(
  fc.record({ id: idArb, subject: textArb(), predicate: textArb(), object: termArb, hlc: hlcArb, deleted: fc.boolean() })
    .map(t => ({ kind: 'triple', ...t, id: t.id as TripleId })),
  fc.record({ key: textArb(1), value: jsonArb, hlc: hlcArb }).map(n => ({ kind: 'note', ...n, deleted: false })),
  fc.record({ key: textArb(1), hlc: hlcArb }).map(n => ({ kind: 'note', ...n, value: null, deleted: true })),
  fc.record({ id: textArb(1), data: fc.dictionary(textArb(0, 6), jsonArb, { maxKeys: 5, noNullPrototype: true }), hlc: hlcArb })
    .map(e => ({ kind: 'episode', ...e })),
  fc.record({ id: idArb, runId: textArb(1), type: textArb(1), data: jsonArb, hlc: hlcArb }).map(t => ({ kind: 'trace', ...t }))
) as fc.Arbitrary<MemoryRecord>

const out = new Bytes()
const bytesOf = (write: (b: Bytes) => void): Buffer => { write(out.reset()); return Buffer.from(out.result()) }

describe('window element bytes', () => {
  const seed = seedFor(0xe1e)
  test(`an element is the old text definition's, for records of every kind (property, seed ${seed})`, () => {
    assertProperty(fc.property(recordArb, r => {
      assert.deepEqual(bytesOf(b => writeCanonicalRecord(b, r)), Buffer.from(oldCanonicalRecord(r), 'utf8'), 'canonical record bytes')
      assert.equal(canonicalRecord(r), oldCanonicalRecord(r), 'canonical record text')
      assert.deepEqual(Buffer.from(elementOf(r)), Buffer.from(oldElementOf(r)), 'element')
    }), seed, 5_000)
  })

  const seed2 = seedFor(0xe1f)
  test(`canonical JSON written as bytes is the UTF-8 of canonicalJson (property, seed ${seed2})`, () => {
    assertProperty(fc.property(jsonArb, v => {
      assert.deepEqual(bytesOf(b => writeCanonicalJson(b, v)), Buffer.from(canonicalJson(v), 'utf8'))
    }), seed2, 5_000)
  })

  test('strings, numbers and a hole as JSON.stringify writes them; non-JSON values refused as canonicalJson refuses them', () => {
    const samples: Json[] = ['', 'a"b\\c', '\u0000\u0008\u0009\u000a\u000b\u000c\u000d\u001f\u007f', 'é€😀', '\ud800', 'x\udc00y', '\ud83d', '😀\ud83d',
      0, -0, 7, -12, 2 ** 53 - 1, 2 ** 53, 1e21, -1e-7, 0.1, 5e-324, Number.MAX_VALUE, [1, 2], { b: 1, a: [null, true, { '': 'é' }] }]
    for (const v of samples) assert.equal(bytesOf(b => writeCanonicalJson(b, v)).toString('latin1'), Buffer.from(canonicalJson(v), 'utf8').toString('latin1'), JSON.stringify(v))
    // eslint-disable-next-line no-sparse-arrays
    const holey = [1, , 3] as unknown as Json
    assert.equal(bytesOf(b => writeCanonicalJson(b, holey)).toString(), canonicalJson(holey))
    for (const bad of [NaN, Infinity, { a: [1, -Infinity] }, [undefined], { f: () => 1 }] as unknown as Json[]) {
      let want: unknown
      try { canonicalJson(bad, 'note') } catch (e) { want = e }
      assert.ok(want instanceof Error)
      assert.throws(() => writeCanonicalJson(out.reset(), bad, 'note'), (e: Error) => e.message === (want as Error).message)
    }
  })

  test('the key is hashed as UTF-8, a lone surrogate as U+FFFD (as the text was)', () => {
    const hlc = { wall: 1_763_631_000_000, counter: 3, node: asNodeId('n') }
    for (const key of ['k', 'ké', 'k😀', 'k\ud800', '\udfff', 'a'.repeat(300) + '\ud800']) {
      const note: MemoryRecord = { kind: 'note', key, value: { key }, hlc, deleted: false }
      assert.deepEqual(Buffer.from(elementOf(note)), Buffer.from(oldElementOf(note)), JSON.stringify(key))
    }
  })
})

describe('Bytes views', () => {
  const seed = seedFor(0xe20)
  test(`a view is exactly the bytes written, whatever lengths came before and across growth (property, seed ${seed})`, () => {
    const b = new Bytes()
    assertProperty(fc.property(fc.array(fc.uint8Array({ maxLength: 3_000 }), { maxLength: 12 }), chunks => {
      for (const c of chunks) {
        b.reset().raw(c)
        assert.deepEqual(Buffer.from(b.view()), Buffer.from(c))
        assert.deepEqual(Buffer.from(b.result()), Buffer.from(c))
      }
    }), seed, 300)
  })

  test('a view after the buffer grew is of the new buffer', () => {
    const b = new Bytes()
    b.reset().raw(Uint8Array.of(1, 2, 3))
    assert.deepEqual([...b.view()], [1, 2, 3])
    b.reset().raw(new Uint8Array(5_000))
    b.reset().raw(Uint8Array.of(4, 5, 6))
    assert.deepEqual([...b.view()], [4, 5, 6])
  })
})
