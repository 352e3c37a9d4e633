import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { isEngramError } from '../../src/core/errors.ts'
import { asNodeId } from '../../src/core/ids.ts'
import { LIMITS } from '../../src/core/limits.ts'
import { RECORD_KINDS, recordKey, recordNamespace, type Json, type MemoryRecord } from '../../src/core/model.ts'
import { canonicalRecord, checkRecord, makeTrace, makeTriple, recordToPlain } from '../../src/core/records.ts'
import { anyRecordArb, assertProperty, recordArb, seedFor } from './arbitraries.ts'

type Plain = Record<string, Json>

function assertRejects (input: unknown, code: 'INVALID_INPUT' | 'ID_MISMATCH', field?: string): void {
  assert.throws(() => checkRecord(input), (e: unknown) => {
    assert.ok(isEngramError(e), `expected an EngramError, got ${String(e)}`)
    assert.equal(e.code, code, e.message)
    if (field !== undefined) assert.ok(e.message.startsWith(`${field}:`), `message ${JSON.stringify(e.message)} should name ${field}`)
    return true
  })
}

const hlc = { wall: 1_763_631_000_000, counter: 0, node: asNodeId('node-a') }
const triple = makeTriple({ subject: 'user:alice', predicate: 'prefers:editor', object: { kind: 'string', value: 'vim' } }, hlc)
const trace = makeTrace('run-1', 'tool_call', { tool: 'grep' }, hlc)
const note: MemoryRecord = { kind: 'note', key: 'cfg:theme', value: { dark: true }, hlc, deleted: false }
const episode: MemoryRecord = { kind: 'episode', id: 'ep-1', data: { summary: 'fixed the build' }, hlc }
const plain = (r: MemoryRecord, change: Record<string, unknown> = {}): Record<string, unknown> => ({ ...recordToPlain(r), ...change })

describe('checkRecord accepts what recordToPlain writes', () => {
  for (const [k, kind] of RECORD_KINDS.entries()) {
    const seed = seedFor(0x2ec0 + k)
    test(`${kind} (seed ${seed})`, () => {
      assertProperty(fc.property(recordArb(kind), r => {
        const back = checkRecord(recordToPlain(r))
        assert.equal(canonicalRecord(back), canonicalRecord(r))
        assert.equal(recordKey(back), recordKey(r))
        assert.equal(recordNamespace(back), recordNamespace(r))
        // The wire carries JSON text.
        const wired = checkRecord(JSON.parse(JSON.stringify(recordToPlain(r))))
        assert.equal(canonicalRecord(wired), canonicalRecord(r))
        return true
      }), seed, 500)
    })
  }

  test('field names carry the caller\'s prefix', () => {
    assert.throws(() => checkRecord({ ...plain(note), key: '' }, 'records[3]'), /^EngramError: records\[3\]\.key:/)
  })
})

describe('checkRecord rejects tampered ids', () => {
  const seed = seedFor(0x7a3e)
  test(`changing any content of a triple or trace breaks its id (seed ${seed})`, () => {
    const tampered = anyRecordArb.filter(r => r.kind === 'triple' || r.kind === 'trace').chain(r =>
      fc.tuple(fc.constant(r), fc.constantFrom(...(r.kind === 'triple' ? ['subject', 'predicate', 'object'] : ['runId', 'type', 'data', 'hlc']))))
    assertProperty(fc.property(tampered, ([r, field]) => {
      const p = recordToPlain(r) as Plain
      const changed: Json = field === 'object'
        ? { kind: 'string', value: `${JSON.stringify(p.object)}!` }
        : field === 'hlc'
          ? { ...(p.hlc as Plain), counter: ((p.hlc as { counter: number }).counter + 1) % 65_536 }
          : field === 'data' ? { was: p.data ?? null } : `${p[field] as string}!`
      assertRejects({ ...p, [field]: changed }, 'ID_MISMATCH')
      return true
    }), seed, 500)
  })

  test('the error names both ids', () => {
    const other = makeTriple({ subject: 'user:alice', predicate: 'prefers:editor', object: { kind: 'string', value: 'emacs' } }, hlc)
    try {
      checkRecord(plain(triple, { id: other.id }))
      assert.fail('expected ID_MISMATCH')
    } catch (e) {
      assert.ok(isEngramError(e) && e.code === 'ID_MISMATCH')
      assert.deepEqual(e.details, { claimed: other.id, computed: triple.id })
    }
    assertRejects(plain(trace, { id: '0'.repeat(64) }), 'ID_MISMATCH')
    assertRejects(plain(trace, { id: undefined }), 'ID_MISMATCH')
  })

  test('a triple id that is not 64 lowercase hex digits is invalid input', () => {
    assertRejects(plain(triple, { id: triple.id.toUpperCase() }), 'INVALID_INPUT', 'record.id')
    assertRejects(plain(triple, { id: triple.id.slice(1) }), 'INVALID_INPUT', 'record.id')
    assertRejects(plain(triple, { id: 42 }), 'INVALID_INPUT', 'record.id')
  })
})

describe('checkRecord rejects bad stamps', () => {
  for (const r of [triple, note, episode, trace]) {
    test(r.kind, () => {
      assertRejects(plain(r, { hlc: undefined }), 'INVALID_INPUT', 'record.hlc')
      assertRejects(plain(r, { hlc: '0193a2b4c5d6.0000.node-a' }), 'INVALID_INPUT', 'record.hlc')
      assertRejects(plain(r, { hlc: { ...hlc, wall: -1 } }), 'INVALID_INPUT', 'record.hlc.wall')
      assertRejects(plain(r, { hlc: { ...hlc, wall: 2 ** 48 } }), 'INVALID_INPUT', 'record.hlc.wall')
      assertRejects(plain(r, { hlc: { ...hlc, counter: 65_536 } }), 'INVALID_INPUT', 'record.hlc.counter')
      assertRejects(plain(r, { hlc: { ...hlc, counter: 0.5 } }), 'INVALID_INPUT', 'record.hlc.counter')
      assertRejects(plain(r, { hlc: { ...hlc, node: 'node a' } }), 'INVALID_INPUT', 'record.hlc.node')
    })
  }
})

describe('checkRecord rejects wrong kinds and shapes', () => {
  test('kind', () => {
    assertRejects(plain(note, { kind: 'edge' }), 'INVALID_INPUT', 'record.kind')
    assertRejects(plain(note, { kind: undefined }), 'INVALID_INPUT', 'record.kind')
    assertRejects(plain(note, { kind: 'Note' }), 'INVALID_INPUT', 'record.kind')
  })

  test('not an object', () => {
    for (const bad of [null, 'record', 42, [plain(note)]]) assertRejects(bad, 'INVALID_INPUT', 'record')
  })

  test('a record of one kind in the shape of another', () => {
    assertRejects(plain(note, { kind: 'triple' }), 'INVALID_INPUT', 'record.subject')
    assertRejects(plain(triple, { kind: 'note' }), 'INVALID_INPUT', 'record.key')
    assertRejects(plain(note, { kind: 'episode' }), 'INVALID_INPUT', 'record.id')
    assertRejects(plain(episode, { kind: 'trace' }), 'INVALID_INPUT', 'record.runId')
  })

  test('missing or mistyped fields', () => {
    assertRejects(plain(triple, { deleted: 'no' }), 'INVALID_INPUT', 'record.deleted')
    assertRejects(plain(triple, { object: undefined }), 'INVALID_INPUT', 'record.object')
    assertRejects(plain(triple, { object: { kind: 'string', value: 7 } }), 'INVALID_INPUT', 'record.object.value')
    assertRejects(plain(note, { deleted: undefined }), 'INVALID_INPUT', 'record.deleted')
    assertRejects(plain(note, { value: undefined }), 'INVALID_INPUT', 'record.value')
    assertRejects(plain(note, { deleted: true }), 'INVALID_INPUT', 'record.value')
    assertRejects(plain(episode, { data: [1, 2] }), 'INVALID_INPUT', 'record.data')
    assertRejects(plain(episode, { data: null }), 'INVALID_INPUT', 'record.data')
    assertRejects(plain(trace, { data: undefined }), 'INVALID_INPUT', 'record.data')
    assertRejects(plain(note, { value: { a: [1, Number.NaN] } }), 'INVALID_INPUT', 'record.value.a[1]')
    assertRejects(plain(episode, { data: { when: new Date(0) } }), 'INVALID_INPUT', 'record.data.when')
  })

  test('a deleted note carries no value (null or absent)', () => {
    const tomb = { ...plain(note), value: null, deleted: true }
    assert.deepEqual(checkRecord(tomb), { kind: 'note', key: 'cfg:theme', value: null, hlc, deleted: true })
    assert.deepEqual(checkRecord({ ...tomb, value: undefined }), checkRecord(tomb))
  })
})

describe('checkRecord rejects oversize values, naming the field', () => {
  const big = (bytes: number): string => 'x'.repeat(bytes)
  const cases: [string, Record<string, unknown>, string][] = [
    ['triple subject', plain(triple, { subject: big(LIMITS.nameBytes + 1) }), 'record.subject'],
    ['triple predicate', plain(triple, { predicate: big(LIMITS.nameBytes + 1) }), 'record.predicate'],
    ['triple string object', plain(triple, { object: { kind: 'string', value: big(LIMITS.literalBytes + 1) } }), 'record.object'],
    ['triple json object', plain(triple, { object: { kind: 'json', value: [big(LIMITS.jsonLiteralBytes)] } }), 'record.object.json'],
    ['note key', plain(note, { key: big(LIMITS.noteKeyBytes + 1) }), 'record.key'],
    ['note value', plain(note, { value: { text: big(LIMITS.noteValueBytes) } }), 'record.value'],
    ['episode id', plain(episode, { id: big(LIMITS.episodeIdBytes + 1) }), 'record.id'],
    ['episode data', plain(episode, { data: { text: big(LIMITS.episodeBytes) } }), 'record.data'],
    ['trace run id', plain(trace, { runId: big(LIMITS.traceNameBytes + 1) }), 'record.runId'],
    ['trace type', plain(trace, { type: big(LIMITS.traceNameBytes + 1) }), 'record.type'],
    ['trace data', plain(trace, { data: big(LIMITS.traceDataBytes) }), 'record.data']
  ]
  for (const [name, input, field] of cases) {
    test(name, () => {
      assert.throws(() => checkRecord(input), (e: unknown) => {
        assert.ok(isEngramError(e) && e.code === 'INVALID_INPUT', String(e))
        assert.ok(e.message.startsWith(`${field}:`), e.message)
        assert.match(e.message, /at most \d+/)
        return true
      })
    })
  }

  test('values exactly at the limit are accepted', () => {
    const p = plain(note, { key: 'k'.repeat(LIMITS.noteKeyBytes) })
    assert.equal((checkRecord(p) as { key: string }).key.length, LIMITS.noteKeyBytes)
    const s = makeTriple({ subject: 's'.repeat(LIMITS.nameBytes), predicate: 'p', object: { kind: 'boolean', value: true } }, hlc)
    assert.equal(checkRecord(recordToPlain(s)).kind, 'triple')
  })
})

describe('object keys that codecs mangle', () => {
  // JSON.parse makes "__proto__" an own key, as a peer's JSON text would carry it.
  const mangled: Array<[Json, string]> = [[JSON.parse('{"__proto__": {"x": 1}}') as Json, '.__proto__'], [{ __proto_: 1 }, '.__proto_'],
    [JSON.parse('{"a": [{"b": {"__proto__": null}}]}') as Json, '.a[0].b.__proto__']]
  test('are refused in every record kind, naming the field', () => {
    for (const [value, at] of mangled) {
      assertRejects(plain(note, { value }), 'INVALID_INPUT', `record.value${at}`)
      assertRejects(plain(episode, { data: { summary: 'x', meta: value } }), 'INVALID_INPUT', `record.data.meta${at}`)
      assertRejects(plain(trace, { data: value, id: undefined }), 'INVALID_INPUT', `record.data${at}`)
      assertRejects(plain(triple, { object: { json: value }, id: undefined }), 'INVALID_INPUT', `record.object.json${at}`)
    }
    assert.throws(() => checkRecord(plain(note, { value: JSON.parse('{"__proto__": 1}') })), /the object key "__proto__" is not allowed/)
  })

  test('the same keys elsewhere (a string value, a note key) are data like any other', () => {
    assert.equal(checkRecord(plain(note, { value: '__proto__' })).kind, 'note')
    assert.equal(checkRecord(plain(note, { key: '__proto__' })).kind, 'note')
    assert.equal(checkRecord(plain(note, { value: { constructor: { prototype: 1 }, proto: 2 } })).kind, 'note')
  })
})
