/**
 * The TXT decoder and the mDNS response reader against hostile input: whatever comes in, they
 * return (never throw), stay within their limits, and take less than 100 ms per case. Valid
 * records round-trip. Seeded: a failure prints the seed (rerun with ENGRAM_FC_SEED=<seed>).
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import fc from 'fast-check'
import type { NodeId } from '../../src/core/ids.ts'
import { MDNS_LIMITS, parseResponse } from '../../src/discovery/mdnsPacket.ts'
import { decodeTxtAdvert, decodeTxtStrings, encodeTxt, encodeTxtStrings, TXT_LIMITS } from '../../src/discovery/txt.ts'
import { assertProperty, FUZZ_RUNS, seedFor } from '../unit/arbitraries.ts'

const RUNS = FUZZ_RUNS
const SERVICE = '_mayros-cortex._tcp.local'

const nodeIdArb = fc.string({ unit: fc.constantFrom(...'123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'.split('')), minLength: 1, maxLength: 60 })
const advertArb = fc.record({
  nodeId: nodeIdArb.map(s => s as NodeId),
  p2pPort: fc.integer({ min: 1, max: 65535 }),
  apiPort: fc.integer({ min: 1, max: 65535 }),
  protocol: fc.integer({ min: 1, max: 255 })
})

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/** TXT strings that look like engram's, with some bytes changed, cut or added, and raw bytes. */
const txtInputArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 40 }),
  fc.tuple(advertArb, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }), fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 })).map(([ad, flips, extra]) => {
    const strings = encodeTxtStrings(ad).map(b => b.slice())
    for (const [at, v] of flips) {
      const s = strings[at % strings.length] as Uint8Array
      if (s.length > 0) s[at % s.length] = v
    }
    return [...strings, ...extra.map(utf8)]
  }),
  fc.array(fc.oneof(fc.string({ maxLength: 80 }), fc.constant('id='), fc.constant('=x'), fc.constant('P2P=19091')), { maxLength: 12 }).map(a => a.map(utf8)),
  fc.anything({ maxDepth: 2 })
)

/** A decoded DNS packet as multicast-dns hands it over, possibly malformed. */
const recordArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ name: fc.constantFrom(SERVICE, '_other._tcp.local', 'x'), type: fc.constant('PTR'), ttl: fc.oneof(fc.constant(0), fc.nat(100_000), fc.double()), data: fc.constantFrom('a._mayros-cortex._tcp.local', 'b._mayros-cortex._tcp.local', 'a', '') }),
  fc.record({ name: fc.constantFrom('a._mayros-cortex._tcp.local', 'b._mayros-cortex._tcp.local'), type: fc.constant('TXT'), ttl: fc.nat(5000), data: txtInputArb }),
  fc.record({ name: fc.constantFrom('a._mayros-cortex._tcp.local', 'b._mayros-cortex._tcp.local'), type: fc.constant('SRV'), ttl: fc.nat(5000), data: fc.oneof(fc.record({ port: fc.nat(70000), target: fc.constantFrom('h.local', 'i.local') }), fc.anything({ maxDepth: 1 })) }),
  fc.record({ name: fc.constantFrom('h.local', 'i.local'), type: fc.constantFrom('A', 'AAAA'), ttl: fc.nat(5000), data: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 70 }), fc.anything({ maxDepth: 1 })) }),
  fc.anything({ maxDepth: 2 })
)
const packetArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ answers: fc.array(recordArb, { maxLength: 80 }), additionals: fc.array(recordArb, { maxLength: 20 }) }),
  fc.anything({ maxDepth: 3 })
)

/** Runs `f`, remembering the slowest case (reported, never asserted: speed is measured by npm run bench). */
const slowest = { ms: 0, what: '' }
function quick<T> (what: string, f: () => T): T {
  const t0 = performance.now()
  const r = f()
  const ms = performance.now() - t0
  if (ms > slowest.ms) { slowest.ms = ms; slowest.what = what }
  return r
}

describe('TXT records', () => {
  it('round-trip an advertisement', () => {
    assertProperty(fc.property(advertArb, ad => {
      const back = decodeTxtAdvert(encodeTxtStrings(ad))
      assert.deepEqual(back, { ok: true, value: { ...ad } })
      const m = encodeTxt(ad)
      assert.deepEqual(Object.keys(m).sort(), ['api', 'id', 'p2p', 'v'])
    }), seedFor(5101), 2_000)
  })

  it(`never throw and stay within the limits on hostile input (${RUNS} cases, seed 5102)`, () => {
    assertProperty(fc.property(txtInputArb, input => {
      const pairs = quick('decodeTxtStrings', () => decodeTxtStrings(input))
      if (pairs.ok) {
        assert.ok(pairs.value.size <= TXT_LIMITS.maxStrings)
        for (const [k, v] of pairs.value) {
          assert.ok(k.length >= 1 && k.length <= TXT_LIMITS.maxKeyBytes && k === k.toLowerCase())
          assert.ok(v.length <= TXT_LIMITS.maxValueBytes)
        }
      } else {
        assert.equal(typeof pairs.problem, 'string')
      }
      const ad = quick('decodeTxtAdvert', () => decodeTxtAdvert(input))
      if (ad.ok) {
        assert.ok(ad.value.p2pPort >= 1 && ad.value.p2pPort <= 65535)
        assert.ok(ad.value.apiPort >= 1 && ad.value.apiPort <= 65535)
        assert.ok(ad.value.protocol >= 1 && ad.value.protocol <= 255)
        assert.match(ad.value.nodeId, /^[A-Za-z0-9._-]{1,128}$/)
      }
    }), seedFor(5102), RUNS)
  })

  it(`the mDNS response reader never throws and stays within its limits (${RUNS} cases, seed 5103)`, () => {
    assertProperty(fc.property(packetArb, fc.oneof(fc.ipV4(), fc.constant(undefined), fc.string({ maxLength: 10 })), (packet, source) => {
      const r = quick('parseResponse', () => parseResponse(packet, SERVICE, source))
      assert.ok(r.announcements.length <= MDNS_LIMITS.maxInstances)
      for (const a of r.announcements) {
        assert.ok(a.addrs.length >= 1 && a.addrs.length <= MDNS_LIMITS.maxAddrs)
        assert.ok(a.ttlMs > 0 && a.ttlMs <= MDNS_LIMITS.maxTtlSeconds * 1000)
        for (const addr of a.addrs) assert.match(addr, /^(\d+\.\d+\.\d+\.\d+|\[[0-9a-fA-F:.]+\]):\d+$/)
      }
    }), seedFor(5103), RUNS)
  })

  it('refuses records over the limits and reads keys as RFC 6763 says', () => {
    assert.equal(decodeTxtStrings(Array.from({ length: 33 }, () => utf8('a=b'))).ok, false)
    assert.equal(decodeTxtStrings([new Uint8Array(256)]).ok, false)
    assert.equal(decodeTxtStrings(Array.from({ length: 6 }, () => new Uint8Array(250).fill(0x61))).ok, false)
    const m = decodeTxtStrings([utf8('ID=first'), utf8('id=second'), utf8('novalue'), utf8('=x'), utf8('bin=\u0001')])
    assert.ok(m.ok)
    assert.deepEqual([...m.value], [['id', 'first']])
    assert.deepEqual(decodeTxtAdvert([utf8('id=abc'), utf8('p2p=0'), utf8('api=1'), utf8('v=1')]), { ok: false, problem: 'P2P port 0 is outside 1-65535' })
    assert.deepEqual(decodeTxtAdvert([utf8('p2p=1')]), { ok: false, problem: 'no node id' })
  })

  it('reads an announcement, prefers the source address, and sees goodbyes', () => {
    const ad = { nodeId: '12D3KooWExample' as NodeId, p2pPort: 19091, apiPort: 19090, protocol: 1 }
    const inst = 'engram-12D3KooWExample._mayros-cortex._tcp.local'
    const packet = {
      answers: [{ name: SERVICE, type: 'PTR', ttl: 28800, data: inst }],
      additionals: [
        { name: inst, type: 'SRV', ttl: 120, data: { port: 19090, target: 'h.local' } },
        { name: inst, type: 'TXT', ttl: 4500, data: encodeTxtStrings(ad) },
        { name: 'h.local', type: 'A', ttl: 120, data: '192.168.1.7' },
        { name: 'h.local', type: 'AAAA', ttl: 120, data: 'fe80::1' },
        { name: 'h.local', type: 'AAAA', ttl: 120, data: 'fd00::7' }
      ]
    }
    const r = parseResponse(packet, SERVICE, '10.0.0.7')
    assert.equal(r.announcements.length, 1)
    assert.deepEqual(r.announcements[0]?.addrs, ['10.0.0.7:19091', '192.168.1.7:19091', '[fd00::7]:19091'])
    assert.equal(r.announcements[0]?.ttlMs, 120_000)
    const bye = parseResponse({ answers: [{ name: SERVICE, type: 'PTR', ttl: 0, data: inst }] }, SERVICE, '10.0.0.7')
    assert.deepEqual(bye.goodbyes, [inst])
    assert.equal(bye.announcements.length, 0)
  })
})

// a figure, not a limit: npm run bench measures speed
after(() => { process.stdout.write(`# slowest TXT and mDNS readers case: ${slowest.ms.toFixed(1)} ms (${slowest.what})\n`) })
