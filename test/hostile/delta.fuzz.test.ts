/**
 * The decoders of REST delta sync against hostile input (docs/SYNC.md):
 * - the server's: parseDeltaRequest, and the whole of the delta endpoint (sync/polled/DeltaEndpoint.ts) (signature headers,
 *   raw body bytes, JSON, the request, the page served) — answered with one of the documented
 *   statuses and the error shape, never a 500;
 * - the client's: checkDeltaResponse, then checkRecord on each record of an answer it accepts,
 *   then the signatures it carries (sealsFromJson: `batches` and each record's `seal`).
 * Each input is decoded within 100 ms; nothing throws beyond the documented codes. Seeded: a
 * failure prints the seed (rerun with ENGRAM_FC_SEED=<seed>).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import fc from 'fast-check'
import type { ErrorCode } from '../../src/core/errors.ts'
import { asNodeId } from '../../src/core/ids.ts'
import { checkRecord, recordToPlain } from '../../src/core/records.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { deriveRestKey, signRequest } from '../../src/sync/polled/auth.ts'
import { DELTA_PATH, checkDeltaResponse, parseDeltaRequest } from '../../src/protocol/polled/messages.ts'
import { sealsFromJson } from '../../src/protocol/polled/jsonSeals.ts'
import { newSigningIdentity } from '../../src/node/keys.ts'
import { statusForCode } from '../../src/api/errors.ts'
import { SyncService } from '../../src/sync/SyncService.ts'
import { silentLogger } from '../../src/util/log.ts'
import { DEFAULT_SETTINGS } from '../sync/helpers.ts'
import { anyRecordArb, assertProperty, seedFor } from '../unit/arbitraries.ts'
import { RUNS, decodes, hostileJson, mutate, mutationArb } from './fuzz.ts'

const hex = (n: number): fc.Arbitrary<string> => fc.uint8Array({ minLength: n / 2, maxLength: n / 2 }).map(b => Buffer.from(b).toString('hex'))
const names = fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('user', 'a:b', 'x'.repeat(300))), { maxLength: 5 })

const validRequest = fc.oneof(
  fc.record({ cursor: fc.nat(), feedId: hex(32), namespaces: names, limit: fc.integer({ min: 1, max: 100_000 }), snapshot: fc.boolean() }, { requiredKeys: [] }),
  fc.record({ since: fc.date({ noInvalidDate: true }).map(d => d.toISOString()), namespaces: names, nodeId: fc.string({ maxLength: 20 }), cursor: fc.nat() }, { requiredKeys: ['since'] })
)
const requestArb = fc.oneof(
  { weight: 2, arbitrary: validRequest },
  { weight: 5, arbitrary: fc.tuple(validRequest, fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([r, m]) => mutate(r, m)) },
  { weight: 2, arbitrary: hostileJson }
)

/** The raw body: the request's JSON, that JSON cut or with bytes changed, or any bytes. */
const bodyArb = fc.oneof(
  { weight: 6, arbitrary: requestArb.map(r => Buffer.from(JSON.stringify(r) ?? 'null')) },
  { weight: 1, arbitrary: fc.tuple(requestArb, fc.nat(), fc.nat(255)).map(([r, at, b]) => { const x = Buffer.from(JSON.stringify(r) ?? 'null'); if (x.length > 0) x[at % x.length] = b; return x }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map(b => Buffer.from(b)) }
)
const headerValue = fc.oneof(fc.string({ maxLength: 40 }), hex(32), hex(64), fc.nat().map(String), fc.constant(String(Date.now())))
/** Headers: none (unsigned), hostile signature headers, or a correct signature (then the body is read). */
type HeaderChoice = { readonly kind: 'none' } | { readonly kind: 'signed' } | { readonly kind: 'hostile', readonly h: Record<string, string> }
const headersArb: fc.Arbitrary<HeaderChoice> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'signed' as const }) },
  { weight: 1, arbitrary: fc.record({ 'x-engram-node': fc.oneof(headerValue, fc.constant('node-peer')), 'x-engram-ts': headerValue, 'x-engram-nonce': headerValue, 'x-engram-sig': headerValue }, { requiredKeys: [] }).map(h => ({ kind: 'hostile' as const, h })) }
)
const KEY = deriveRestKey('fuzz-secret')
function headersFor (c: HeaderChoice, body: Uint8Array): Record<string, string> {
  if (c.kind === 'none') return { 'content-type': 'application/json' }
  if (c.kind === 'hostile') return { 'content-type': 'application/json', ...c.h }
  return { 'content-type': 'application/json', ...signRequest(KEY, 'node-peer', 'POST', DELTA_PATH, body) }
}

/** Signatures as a signing server sends them: batches [signer, wall, counter, n, sig, proof] (base64) and `seal` on records. */
const SIGNER = (await newSigningIdentity()).node
const base64 = (bytes: number): fc.Arbitrary<string> => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map(b => Buffer.from(b).toString('base64'))
const batchArb = fc.tuple(fc.constant(SIGNER), fc.nat({ max: 2 ** 40 }), fc.nat({ max: 65_535 }), fc.integer({ min: 1, max: 8 }), base64(64),
  fc.integer({ min: 0, max: 3 }).chain(k => base64(32 * k)))
const sealedRecord = fc.tuple(anyRecordArb.map(recordToPlain), fc.option(fc.tuple(fc.nat({ max: 1 }), fc.nat({ max: 7 })), { nil: undefined }))
  .map(([r, seal]) => (seal === undefined ? r : { ...r, seal }))

const validResponse = fc.record({
  nodeId: fc.constantFrom('node-b', '12D3KooWabc'),
  feedId: hex(32),
  syncedAt: fc.date({ noInvalidDate: true }).map(d => d.toISOString()),
  cursor: fc.nat(),
  hasMore: fc.boolean(),
  snapshot: fc.boolean(),
  peerCursor: fc.nat(),
  peerNamespaces: fc.option(names, { nil: null }),
  records: fc.array(sealedRecord, { maxLength: 4 }),
  batches: fc.option(fc.array(batchArb, { minLength: 1, maxLength: 2 }), { nil: undefined }),
  signs: fc.boolean()
})
const responseArb = fc.oneof(
  { weight: 2, arbitrary: validResponse },
  { weight: 5, arbitrary: fc.tuple(validResponse, fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([r, m]) => mutate(r, m)) },
  { weight: 2, arbitrary: hostileJson }
).map(v => JSON.parse(JSON.stringify(v) ?? 'null') as unknown) // as the client gets it: parsed JSON

let store: MemoryStore
let sync: SyncService

before(() => {
  store = new MemoryStore()
  const engine = new Engine({ store, node: asNodeId('node-fuzz'), maxDriftMs: 60_000 })
  engine.addTriples([{ subject: 'user:a', predicate: 'p', object: 1 }, { subject: 'ns:b', predicate: 'p', object: 'x' }])
  engine.setNote('user:note', { n: 1 })
  sync = new SyncService({ engine, secret: () => 'fuzz-secret', settings: () => DEFAULT_SETTINGS, log: silentLogger })
})
after(async () => { await sync.stop() })

const show = (v: unknown): string => { try { return JSON.stringify(v)?.slice(0, 400) ?? String(v) } catch { return String(v) } }

describe('delta sync decoders under fuzzing', () => {
  it(`parseDeltaRequest accepts or refuses with INVALID_INPUT (${RUNS} cases, seed ${seedFor(0xa9301)})`, () => {
    const allowed = new Set<ErrorCode>(['INVALID_INPUT'])
    assertProperty(fc.property(requestArb, req => { decodes(() => parseDeltaRequest(req), allowed, () => show(req)) }), seedFor(0xa9301), RUNS)
  })

  it(`the delta endpoint answers every hostile request with a documented status (${RUNS} cases, seed ${seedFor(0xa9302)})`, (t) => {
    const statuses = new Map<number, number>()
    assertProperty(fc.property(bodyArb, headersArb, fc.boolean(), (body, choice, loopback) => {
      const headers = headersFor(choice, body)
      let reply: ReturnType<SyncService['delta']['handle']> | undefined
      decodes(() => { reply = sync.delta.handle(headers, body, loopback) }, new Set(), () => `${show(headers)} ${body.toString('utf8').slice(0, 300)}`)
      const r = { ...reply!, status: reply!.code === undefined ? 200 : statusForCode(reply!.code) }
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
      assert.ok([200, 400, 401, 409, 429].includes(r.status), `status ${r.status}: ${r.body.slice(0, 300)}`)
      const parsed = JSON.parse(r.body) as Record<string, unknown>
      if (r.status !== 200) {
        assert.deepEqual(Object.keys(parsed).sort(), ['code', 'details', 'error'], r.body)
        assert.notEqual(parsed.code, 'INTERNAL', r.body)
      }
    }), seedFor(0xa9302), RUNS)
    t.diagnostic(`statuses: ${[...statuses].map(([s, n]) => `${s}×${n}`).join(' ')}`)
    assert.ok((statuses.get(200) ?? 0) > RUNS / 20, 'too few requests reached the page server')
  })

  it(`the client's check of an answer accepts or refuses with PROTOCOL, then each record with INVALID_INPUT / ID_MISMATCH (${RUNS} cases, seed ${seedFor(0xa9303)})`, (t) => {
    const allowed = new Set<ErrorCode>(['PROTOCOL', 'INVALID_INPUT', 'ID_MISMATCH'])
    let accepted = 0
    let signed = 0
    assertProperty(fc.property(responseArb, res => {
      let sealed = false
      const { ok } = decodes(() => {
        const checked = checkDeltaResponse(res)
        checked.records.forEach((r, i) => checkRecord(r, `records[${i}]`))
        sealed = sealsFromJson(checked.batches, checked.records) !== undefined
      }, allowed, () => show(res))
      if (ok) accepted++
      if (ok && sealed) signed++
    }), seedFor(0xa9303), RUNS)
    t.diagnostic(`${accepted} answers accepted whole, ${signed} of them with signatures`)
    assert.ok(accepted > RUNS / 20, 'too few answers were valid: the generators miss the valid shapes')
    assert.ok(signed > RUNS / 100, 'too few answers with signatures were valid: the generators miss the signed shapes')
  })
})
