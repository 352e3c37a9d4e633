import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { canonicalJson, canonicalTriple, jsonHash, traceId, tripleId } from '../../src/core/canonical.ts'
import { isEngramError } from '../../src/core/errors.ts'
import { blake3Hex, bytesToHex, hexToBytes } from '../../src/core/hash.ts'
import { formatHlc, validateHlc, type Hlc } from '../../src/core/hlc.ts'
import { LIMITS } from '../../src/core/limits.ts'
import type { Json, Term, TripleContent } from '../../src/core/model.ts'
import { parseTerm, termToJson, termToTagged, validateJson, validateString, validateTripleContent } from '../../src/core/validate.ts'
import { assertProperty, seedFor, termArb, tinyTextArb, tripleContentArb } from './arbitraries.ts'

interface Fixture {
  version: number
  triples: { name: string, input: string, object: Json, canonicalHex: string, id: string }[]
  traces: { name: string, runId: string, type: string, data: Json, hlc: unknown, id: string }[]
  canonicalJson: { name: string, input: string, expected: string }[]
  numbers: { bits: string, expected: string }[]
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/canonical-vectors.json', import.meta.url), 'utf8')) as Fixture

/**
 * A second encoder written from the grammar in docs/DATA-MODEL.md, sharing no code with
 * core/canonical.ts: if the spec and the implementation drift apart, the vectors say so.
 */
const reference = {
  uvarint (n: number): number[] {
    const out: number[] = []
    while (n >= 128) { out.push(128 + (n % 128)); n = Math.floor(n / 128) }
    out.push(n)
    return out
  },
  field (s: string): number[] {
    const utf8 = [...Buffer.from(s, 'utf8')]
    return [...reference.uvarint(utf8.length), ...utf8]
  },
  object (t: Term): number[] {
    switch (t.kind) {
      case 'node': return [0x01, ...reference.field(t.value)]
      case 'string': return [0x02, ...reference.field(t.value)]
      case 'number': {
        const b = Buffer.alloc(8)
        b.writeDoubleBE(t.value === 0 ? 0 : t.value)
        return [0x03, ...b]
      }
      case 'boolean': return [0x04, t.value ? 0x01 : 0x00]
      case 'datetime': return [0x05, ...reference.field(t.value)]
      case 'lang': return [0x06, ...reference.field(t.value), ...reference.field(t.lang)]
      case 'json': return [0x07, ...reference.field(canonicalJson(t.value))]
    }
  },
  triple (t: TripleContent): string {
    return Buffer.from([0x01, ...reference.field(t.subject), ...reference.field(t.predicate), ...reference.object(t.object)]).toString('hex')
  },
  trace (runId: string, type: string, data: Json, hlc: Hlc): string {
    return Buffer.from([0x01, ...reference.field(runId), ...reference.field(type), ...reference.field(canonicalJson(data)),
      ...reference.field(formatHlc(hlc))]).toString('hex')
  }
}

function assertInvalid (fn: () => unknown, field: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isEngramError(e), `expected an EngramError, got ${String(e)}`)
    assert.equal(e.code, 'INVALID_INPUT')
    assert.ok(e.message.startsWith(`${field}:`), `message ${JSON.stringify(e.message)} should name ${field}`)
    return true
  })
}

describe('golden vectors (test/fixtures/canonical-vectors.json)', () => {
  test('BLAKE3 is the standard function (empty input)', () => {
    assert.equal(blake3Hex(''), 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262')
  })

  test('the fixture covers every term kind', () => {
    assert.equal(fixture.version, 1)
    const kinds = new Set(fixture.triples.map(v => (v.object as { kind: string }).kind))
    assert.deepEqual([...kinds].sort(), ['boolean', 'datetime', 'json', 'lang', 'node', 'number', 'string'])
  })

  for (const v of fixture.triples) {
    test(`triple: ${v.name}`, () => {
      const content = validateTripleContent(JSON.parse(v.input))
      assert.deepEqual(JSON.parse(JSON.stringify(termToTagged(content.object))), v.object, 'normalized term')
      assert.equal(bytesToHex(canonicalTriple(content)), v.canonicalHex, 'canonical bytes')
      assert.equal(reference.triple(content), v.canonicalHex, 'canonical bytes by the spec')
      assert.equal(tripleId(content), v.id, 'id')
      assert.equal(blake3Hex(hexToBytes(v.canonicalHex)), v.id, 'id = BLAKE3(canonical bytes)')
    })
  }

  test('vectors that differ only in spelling share one id; all others differ', () => {
    const byId = new Map<string, string[]>()
    for (const v of fixture.triples) byId.set(v.id, [...(byId.get(v.id) ?? []), v.name])
    const shared = [...byId.values()].filter(names => names.length > 1).map(names => names.join(' = ')).sort()
    assert.deepEqual(shared, [
      'datetime, UTC = datetime, offset normalized to UTC = datetime, no seconds, negative offset across midnight',
      'json, nested object with unsorted keys = json, same value with keys in another order',
      'lang, lower case = lang, upper case input is lowered',
      'number, integer = number, tagged form',
      'number, zero = number, negative zero encodes as zero'
    ])
  })

  for (const v of fixture.traces) {
    test(`trace: ${v.name}`, () => {
      const hlc = validateHlc(v.hlc)
      assert.equal(traceId(v.runId, v.type, v.data, hlc), v.id)
      assert.equal(blake3Hex(hexToBytes(reference.trace(v.runId, v.type, v.data, hlc))), v.id, 'id by the spec')
    })
  }

  for (const v of fixture.canonicalJson) {
    test(`canonical JSON: ${v.name}`, () => {
      assert.equal(canonicalJson(JSON.parse(v.input) as Json), v.expected)
    })
  }

  test('canonical JSON numbers: RFC 8785 appendix B', () => {
    for (const { bits, expected } of fixture.numbers) {
      assert.equal(canonicalJson(Buffer.from(bits, 'hex').readDoubleBE(0)), expected, `0x${bits}`)
    }
  })
})

describe('canonicalJson', () => {
  test('rejects non-finite numbers and non-JSON values, naming the field', () => {
    assertInvalid(() => canonicalJson(Number.NaN), 'value')
    assertInvalid(() => canonicalJson({ a: [1, Number.POSITIVE_INFINITY] }, 'data'), 'data.a[1]')
    assertInvalid(() => canonicalJson({ f: (() => 1) as unknown as Json }), 'value.f')
    assertInvalid(() => canonicalJson(10n as unknown as Json), 'value')
  })

  test('jsonHash is the BLAKE3 of the canonical text', () => {
    assert.equal(jsonHash({ b: 1, a: -0 }), blake3Hex('{"a":0,"b":1}'))
  })

  const SEED = seedFor(0xc7a1)
  test(`canonical text parses back to an equal value and is a fixed point (seed ${SEED})`, () => {
    assertProperty(fc.property(fc.jsonValue(), v => {
      const text = canonicalJson(v as Json)
      assert.equal(canonicalJson(JSON.parse(text) as Json), text)
      assert.doesNotMatch(text.replace(/"(?:[^"\\]|\\.)*"/g, '""'), /\s/, 'no whitespace outside strings')
      return true
    }), SEED, 1_000)
  })
})

describe('terms', () => {
  const ROUND = seedFor(0x7e53)
  test(`parseTerm(termToJson(t)) == t and parseTerm(termToTagged(t)) == t (seed ${ROUND})`, () => {
    assertProperty(fc.property(termArb(), t => {
      assert.deepEqual(parseTerm(termToJson(t)), t)
      assert.deepEqual(parseTerm(termToTagged(t)), t)
      // And through the wire as JSON text (json terms compare by canonical text: -0 becomes 0).
      const wired = parseTerm(JSON.parse(JSON.stringify(termToTagged(t))))
      assert.equal(bytesToHex(canonicalTriple({ subject: 's', predicate: 'p', object: wired })),
        bytesToHex(canonicalTriple({ subject: 's', predicate: 'p', object: t })))
      return true
    }), ROUND, 2_000)
  })

  test('normalization: -0, language tags, datetimes', () => {
    assert.ok(Object.is((parseTerm(-0) as { value: number }).value, 0))
    assert.deepEqual(parseTerm({ text: 'Hallo', lang: 'DE-at' }), { kind: 'lang', value: 'Hallo', lang: 'de-at' })
    assert.deepEqual(parseTerm({ datetime: '2026-11-20T09:30:00.5+01:00' }), { kind: 'datetime', value: '2026-11-20T08:30:00.500Z' })
    assert.deepEqual(parseTerm({ datetime: '2024-02-29T00:00:00Z' }), { kind: 'datetime', value: '2024-02-29T00:00:00.000Z' })
    assert.deepEqual(parseTerm({ datetime: '0000-01-01T00:00:00Z' }), { kind: 'datetime', value: '0000-01-01T00:00:00.000Z' })
    assert.deepEqual(parseTerm({ datetime: '9999-12-31T23:59:59.999Z' }), { kind: 'datetime', value: '9999-12-31T23:59:59.999Z' })
  })

  test('datetimes that do not exist, or leave the years 0000-9999 in UTC, are rejected', () => {
    for (const bad of ['2026-02-30T00:00:00Z', '2025-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-13-01T00:00:00Z',
      '2026-00-10T00:00:00Z', '2026-11-20T24:00:00Z', '2026-11-20T09:60:00Z', '2026-11-20T09:30:60Z',
      '2026-11-20T09:30:00+24:00', '2026-11-20T09:30:00+01:60', '9999-12-31T23:30:00-01:00',
      '0000-01-01T00:30:00+01:00', '2026-11-20T09:30:00', '2026-11-20', '20261120T093000Z', ' 2026-11-20T09:30:00Z']) {
      assertInvalid(() => parseTerm({ datetime: bad }), 'object.datetime')
    }
  })

  test('every normalized datetime is accepted again unchanged', () => {
    for (const input of ['9999-12-31T22:30:00-01:00', '0000-01-01T01:30:00+01:00', '1970-01-01T00:00:00Z']) {
      const once = parseTerm({ datetime: input })
      assert.deepEqual(parseTerm(termToJson(once)), once)
    }
  })

  test('the tagged form checks that the value has the type its kind says', () => {
    assertInvalid(() => parseTerm({ kind: 'string', value: 42 }), 'object.value')
    assertInvalid(() => parseTerm({ kind: 'number', value: '42' }), 'object.value')
    assertInvalid(() => parseTerm({ kind: 'boolean', value: 'true' }), 'object.value')
    assertInvalid(() => parseTerm({ kind: 'string', value: { node: 'user:bob' } }), 'object.value')
    assertInvalid(() => parseTerm({ kind: 'triple', value: 'x' }), 'object.kind')
    assert.deepEqual(parseTerm({ kind: 'node', value: 'user:bob' }), { kind: 'node', value: 'user:bob' })
  })

  test('rejects shapes that are not terms', () => {
    for (const bad of [null, [], undefined, {}, { node: 'a', extra: 1 }, { text: 'x' }, { lang: 'en' }]) {
      assertInvalid(() => parseTerm(bad), 'object')
    }
    assertInvalid(() => parseTerm({ node: '' }), 'object.node')
    assertInvalid(() => parseTerm({ text: 'x', lang: 'not a tag' }), 'object.lang')
    assertInvalid(() => parseTerm({ text: 'x', lang: 'a'.repeat(9) }), 'object.lang')
  })
})

describe('canonical triple encoding', () => {
  const INJ = seedFor(0x1a7ec7)
  test(`distinct triples never share canonical bytes or an id (seed ${INJ})`, () => {
    // Half the triples come from a 3-letter alphabet, so that many differ only in where one
    // field ends and the next begins.
    const key = (t: TripleContent): string => canonicalJson([t.subject, t.predicate, termToTagged(t.object)])
    const arb = fc.uniqueArray(fc.oneof(tripleContentArb(tinyTextArb(0, 4)), tripleContentArb()), { minLength: 1_500, maxLength: 1_500, selector: key })
    assertProperty(fc.property(arb, triples => {
      const bytes = new Set(triples.map(t => bytesToHex(canonicalTriple(t))))
      const ids = new Set(triples.map(tripleId))
      assert.equal(bytes.size, triples.length, 'canonical bytes collide')
      assert.equal(ids.size, triples.length, 'ids collide')
      return true
    }), INJ, 3)
  })

  const LEN = seedFor(0xf1e1d)
  test(`fields of any length and alphabet encode as the spec says (seed ${LEN})`, () => {
    // Lengths around the encoder's shortcuts: ASCII up to 127 units, any text up to 42, then
    // strings whose UTF-8 length needs two bytes of uvarint.
    const part = fc.constantFrom('a', 'Z', '.', '-', '0', 'é', '€', '😀', '\u007f', '\u0080')
    const text = fc.integer({ min: 0, max: 200 }).chain(n => fc.oneof(
      fc.constant('x'.repeat(n)),
      fc.array(part, { minLength: n, maxLength: n }).map(a => a.join('')),
      fc.tuple(fc.constant('y'.repeat(n)), part).map(([a, b]) => a + b)))
    assertProperty(fc.property(text, text, text, (subject, predicate, value) => {
      const t: TripleContent = { subject, predicate, object: { kind: 'string', value } }
      assert.equal(bytesToHex(canonicalTriple(t)), reference.triple(t))
      return true
    }), LEN, 300)
  })

  test('field boundaries are part of the encoding', () => {
    const a = tripleId({ subject: 'ab', predicate: 'c', object: { kind: 'string', value: 'd' } })
    const b = tripleId({ subject: 'a', predicate: 'bc', object: { kind: 'string', value: 'd' } })
    const c = tripleId({ subject: 'a', predicate: 'b', object: { kind: 'string', value: 'cd' } })
    assert.equal(new Set([a, b, c]).size, 3)
    const asString = tripleId({ subject: 's', predicate: 'p', object: { kind: 'string', value: 'user:bob' } })
    const asNode = tripleId({ subject: 's', predicate: 'p', object: { kind: 'node', value: 'user:bob' } })
    const asJson = tripleId({ subject: 's', predicate: 'p', object: { kind: 'json', value: 'user:bob' } })
    assert.equal(new Set([asString, asNode, asJson]).size, 3)
  })
})

describe('validation', () => {
  const lone = 'a\ud800b'
  test('rejects lone surrogates wherever text goes, naming the field', () => {
    assertInvalid(() => validateTripleContent({ subject: lone, predicate: 'p', object: 'o' }), 'triple.subject')
    assertInvalid(() => validateTripleContent({ subject: 's', predicate: '\udfff', object: 'o' }), 'triple.predicate')
    assertInvalid(() => validateTripleContent({ subject: 's', predicate: 'p', object: lone }), 'triple.object')
    assertInvalid(() => validateTripleContent({ subject: 's', predicate: 'p', object: { node: lone } }), 'triple.object.node')
    assertInvalid(() => validateTripleContent({ subject: 's', predicate: 'p', object: { text: lone, lang: 'en' } }), 'triple.object.text')
    assertInvalid(() => validateTripleContent({ subject: 's', predicate: 'p', object: { json: { a: [lone] } } }), 'triple.object.json.a[0]')
    assertInvalid(() => validateTripleContent({ subject: 's', predicate: 'p', object: { json: { [lone]: 1 } } }), 'triple.object.json')
    assertInvalid(() => validateString('\ud83d', 'key', 100), 'key')
    // A surrogate pair is fine.
    assert.equal(validateString('\ud83d\ude00', 'key', 100), '😀')
  })

  test('rejects NaN and infinities, naming the field', () => {
    assertInvalid(() => validateTripleContent({ subject: 's', predicate: 'p', object: Number.NaN }), 'triple.object')
    assertInvalid(() => validateTripleContent({ subject: 's', predicate: 'p', object: Number.NEGATIVE_INFINITY }), 'triple.object')
    assertInvalid(() => validateTripleContent({ subject: 's', predicate: 'p', object: { kind: 'number', value: Number.NaN } }), 'triple.object')
    assertInvalid(() => validateTripleContent({ subject: 's', predicate: 'p', object: { json: { x: { y: Number.NaN } } } }), 'triple.object.json.x.y')
    assertInvalid(() => validateJson([Number.POSITIVE_INFINITY], 'value', 100), 'value[0]')
  })

  test('a string is within its limit exactly when its UTF-8 bytes are (short ones are not counted: up to 3 bytes a unit)', () => {
    const max = 12
    // around the limit: 1-, 2-, 3- and 4-byte characters (a 4-byte one is 2 units), mixed
    for (const ch of ['x', 'é', '€', '\u{1F600}']) {
      for (let n = 1; n <= 14; n++) {
        const s = ch.repeat(n)
        const ok = Buffer.byteLength(s, 'utf8') <= max
        if (ok) assert.equal(validateString(s, 's', max), s)
        else assertInvalid(() => validateString(s, 's', max), 's')
      }
    }
    fc.assert(fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 16 }), fc.integer({ min: 1, max: 40 }), (s, limit) => {
      if (!s.isWellFormed()) return
      const ok = Buffer.byteLength(s, 'utf8') <= limit
      let accepted = true
      try { validateString(s, 's', limit) } catch { accepted = false }
      assert.equal(accepted, ok, `${JSON.stringify(s)} at ${limit}`)
    }), { seed: seedFor(0x5717e), numRuns: 2000 })
  })

  test('rejects oversize strings by UTF-8 bytes, naming the field and the limit', () => {
    const euros = (bytes: number): string => '€'.repeat(Math.ceil(bytes / 3)) // 3 bytes each
    assert.equal(validateString('x'.repeat(LIMITS.nameBytes), 's', LIMITS.nameBytes).length, LIMITS.nameBytes)
    const cases: [unknown, string][] = [
      [{ subject: euros(LIMITS.nameBytes + 1), predicate: 'p', object: 'o' }, 'triple.subject'],
      [{ subject: 's', predicate: 'x'.repeat(LIMITS.nameBytes + 1), object: 'o' }, 'triple.predicate'],
      [{ subject: 's', predicate: 'p', object: 'x'.repeat(LIMITS.literalBytes + 1) }, 'triple.object'],
      [{ subject: 's', predicate: 'p', object: { node: euros(LIMITS.literalBytes + 1) } }, 'triple.object.node'],
      [{ subject: 's', predicate: 'p', object: { json: { big: 'x'.repeat(LIMITS.jsonLiteralBytes) } } }, 'triple.object.json']
    ]
    for (const [input, field] of cases) {
      assert.throws(() => validateTripleContent(input), (e: unknown) => {
        assert.ok(isEngramError(e) && e.code === 'INVALID_INPUT')
        assert.ok(e.message.startsWith(`${field}:`), e.message)
        assert.match(e.message, /at most \d+/)
        return true
      })
    }
  })

  test('rejects JSON nested deeper than the limit', () => {
    let deep: Json = 1
    for (let i = 0; i <= LIMITS.jsonDepth + 1; i++) deep = [deep]
    assert.throws(() => validateJson(deep, 'value', 1_000_000), /nests deeper than/)
  })

  test('requires subject, predicate and object', () => {
    assertInvalid(() => validateTripleContent({ predicate: 'p', object: 'o' }), 'triple.subject')
    assertInvalid(() => validateTripleContent({ subject: '', predicate: 'p', object: 'o' }), 'triple.subject')
    assertInvalid(() => validateTripleContent({ subject: 's', predicate: 'p' }), 'triple.object')
    assertInvalid(() => validateTripleContent('s p o'), 'triple')
  })
})
