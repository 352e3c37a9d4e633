/**
 * CPace (src/sync/cpace.ts) against the test vectors of draft-irtf-cfrg-cpace (appendix: string
 * utilities, and "CPace using group ristretto255 and hash SHA-512"), then its properties: both
 * sides agree exactly when their secrets, CI and sid agree; invalid shares abort; confirmation
 * tags bind the sender's message.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import {
  calculateGenerator, confirmationTag, cpaceKey, cpaceShare, generatorString, intermediateKey, lvCat, oCat, prependLen,
  scalarFromBytes, scalarMult, scalarMultVfy, transcriptIr, transcriptOc, verifyConfirmation, type CpaceSide
} from '../../src/protocol/cpace.ts'

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'))
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const le = (b: Uint8Array): bigint => { let y = 0n; for (let i = b.length - 1; i >= 0; i--) y = (y << 8n) | BigInt(b[i]!); return y }

describe('string utilities (draft appendix vectors)', () => {
  test('prepend_len, lv_cat, o_cat, transcripts', () => {
    assert.equal(toHex(prependLen(new Uint8Array())), '00')
    assert.equal(toHex(prependLen('1234')), '0431323334')
    const r127 = Uint8Array.from({ length: 127 }, (_, i) => i)
    const r128 = Uint8Array.from({ length: 128 }, (_, i) => i)
    assert.equal(toHex(prependLen(r127)), '7f' + toHex(r127))
    assert.equal(toHex(prependLen(r128)), '8001' + toHex(r128))
    assert.equal(toHex(lvCat('1234', '5', '', '678')), '043132333401350003363738')
    assert.equal(toHex(oCat(utf8('ABCD'), utf8('BCD'))), '6f6342434441424344')
    assert.equal(toHex(oCat(utf8('BCD'), utf8('ABCDE'))), '6f634243444142434445')
    assert.equal(toHex(transcriptIr(utf8('123'), utf8('PartyA'), utf8('234'), utf8('PartyB'))), '03313233065061727479410332333406506172747942')
    assert.equal(toHex(transcriptIr(utf8('3456'), utf8('PartyA'), utf8('2345'), utf8('PartyB'))), '043334353606506172747941043233343506506172747942')
    assert.equal(toHex(transcriptOc(utf8('123'), utf8('PartyA'), utf8('234'), utf8('PartyB'))), '6f6303323334065061727479420331323306506172747941')
    assert.equal(toHex(transcriptOc(utf8('3456'), utf8('PartyA'), utf8('2345'), utf8('PartyB'))), '6f63043334353606506172747941043233343506506172747942')
  })
})

describe('CPace ristretto255 SHA-512 (draft test vectors)', () => {
  const PRS = utf8('Password')
  const CI = hex('0b415f696e69746961746f720b425f726573706f6e646572')
  const SID = hex('7e4b4791d6a8ef019b936c79fb7f2c57')
  const ya = le(hex('da3d23700a9e5699258aef94dc060dfda5ebb61f02a5ea77fad53f4ff0976d08'))
  const yb = le(hex('d2316b454718c35362d83d69df6320f38578ed5984651435e2949762d900b80d'))
  const ADa = utf8('ADa')
  const ADb = utf8('ADb')
  const Ya = hex('d6bac480f2c386c394efc7c47adb9925dcd2630b64f240c50f8d0eec482b9157')
  const Yb = hex('3ea7e0b19560d7c0b0f5734f63b955286dfa8232b5ebe63324e2d9e7433f7258')
  const K = '80b69a8a76457ab6a4d7f887a4bf6b55a2f80ac19c333f917a05fc9887c8b40f'

  test('generator string and generator', () => {
    assert.equal(toHex(generatorString(PRS, CI, SID)),
      '11435061636552697374726574746f3235350850617373776f726464' + '00'.repeat(100) +
      '180b415f696e69746961746f720b425f726573706f6e646572107e4b4791d6a8ef019b936c79fb7f2c57')
    assert.equal(toHex(calculateGenerator(PRS, CI, SID).toBytes()), '222b6b195fe84b1652badb6f6a3ae3d24341e7306967f0b8115b40d5698c7e56')
  })

  test('shares, K, and ISK in both transcript orders', () => {
    const g = calculateGenerator(PRS, CI, SID)
    assert.deepEqual(scalarMult(ya, g), Ya)
    assert.deepEqual(scalarMult(yb, g), Yb)
    assert.equal(toHex(scalarMultVfy(ya, Yb)!), K)
    assert.equal(toHex(scalarMultVfy(yb, Ya)!), K)
    assert.equal(toHex(intermediateKey(SID, hex(K), transcriptIr(Ya, ADa, Yb, ADb))),
      'b69effbf61b51d56401c0f65601abe428de8206feaaf0e32198896dcae7b35cd2b38950a39dfd5d4a79164614c2984f7daa460b588c1e80c3fa2068af7900447')
    assert.equal(toHex(intermediateKey(SID, hex(K), transcriptOc(Ya, ADa, Yb, ADb))),
      '544199d71f62f8d9a1fee55727e24fe4a45844593c2b6013c4fa3969d0e5debb2244675c0b43397cbb68d342b01fc0f98fc961469a25134de9f0f813c1a57476')
    // The same through the run API, from each side.
    const a: CpaceSide = { scalar: ya, share: Ya }
    const b: CpaceSide = { scalar: yb, share: Yb }
    const ir = { sid: SID, order: 'ir' as const }
    assert.deepEqual(cpaceKey({ ...ir, side: a, ad: ADa, peerShare: Yb, peerAd: ADb, role: 'a' }), cpaceKey({ ...ir, side: b, ad: ADb, peerShare: Ya, peerAd: ADa, role: 'b' }))
    const oc = { sid: SID, order: 'oc' as const }
    assert.equal(toHex(cpaceKey({ ...oc, side: b, ad: ADb, peerShare: Ya, peerAd: ADa })!),
      '544199d71f62f8d9a1fee55727e24fe4a45844593c2b6013c4fa3969d0e5debb2244675c0b43397cbb68d342b01fc0f98fc961469a25134de9f0f813c1a57476')
  })

  test('scalar_mult_vfy: a valid input, and invalid encodings and the identity abort', () => {
    const s = le(hex('7cd0e075fa7955ba52c02759a6c90dbbfc10e6d40aea8d283e407d88cf538a05'))
    assert.equal(toHex(scalarMultVfy(s, hex('2c3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c'))!),
      '7c13645fe790a468f62c39beb7388e541d8405d1ade69d1778c5fe3e7f6b600e')
    assert.equal(scalarMultVfy(s, hex('2b3c6b8c4f3800e7aef6864025b4ed79bd599117e427c41bd47d93d654b4a51c')), undefined)
    assert.equal(scalarMultVfy(s, new Uint8Array(32)), undefined)
    assert.equal(scalarMultVfy(s, new Uint8Array(31)), undefined)
    assert.equal(scalarMultVfy(s, new Uint8Array(33).fill(1)), undefined)
    assert.equal(scalarMultVfy(s, new Uint8Array(32).fill(0xff)), undefined)
  })
})

describe('CPace runs', () => {
  const run = (prsA: string, prsB: string, ciB = 'ci', sidB = 'sid'): [Uint8Array | undefined, Uint8Array | undefined] => {
    const a = cpaceShare(utf8(prsA), utf8('ci'), utf8('sid'), () => randomBytes(32))
    const b = cpaceShare(utf8(prsB), utf8(ciB), utf8(sidB), () => randomBytes(32))
    return [
      cpaceKey({ side: a, sid: utf8('sid'), ad: utf8('A'), peerShare: b.share, peerAd: utf8('B'), order: 'oc' }),
      cpaceKey({ side: b, sid: utf8(sidB), ad: utf8('B'), peerShare: a.share, peerAd: utf8('A'), order: 'oc' })
    ]
  }

  test('the same secret, CI and sid give the same key; any difference gives unrelated keys', () => {
    for (let i = 0; i < 5; i++) {
      const [ka, kb] = run('correct horse battery', 'correct horse battery')
      assert.ok(ka !== undefined && kb !== undefined)
      assert.deepEqual(ka, kb)
    }
    for (const [b, ci, sid] of [['correct horse batterz', 'ci', 'sid'], ['correct horse battery', 'cj', 'sid'], ['correct horse battery', 'ci', 'sie']]) {
      const [ka, kb] = run('correct horse battery', b!, ci, sid)
      assert.notDeepEqual(ka, kb)
    }
  })

  test('confirmation tags verify only for the right key and message', () => {
    const sid = utf8('sid')
    const isk = randomBytes(64)
    const share = randomBytes(32)
    const tag = confirmationTag(isk, sid, share, utf8('A'))
    assert.equal(verifyConfirmation(isk, sid, share, utf8('A'), tag), true)
    assert.equal(verifyConfirmation(isk, sid, share, utf8('B'), tag), false)
    assert.equal(verifyConfirmation(randomBytes(64), sid, share, utf8('A'), tag), false)
    assert.equal(verifyConfirmation(isk, sid, share, utf8('A'), tag.slice(1)), false)
  })

  test('scalars: 252 bits, never zero', () => {
    assert.equal(scalarFromBytes(new Uint8Array(32)), undefined)
    assert.equal(scalarFromBytes(new Uint8Array(32).fill(0xff)), (1n << 252n) - 1n)
    assert.throws(() => scalarFromBytes(new Uint8Array(31)), RangeError)
    let calls = 0
    const side = cpaceShare(utf8('x'), utf8(''), utf8(''), () => { calls++; return calls === 1 ? new Uint8Array(32) : randomBytes(32) })
    assert.equal(calls, 2, 'a zero scalar is drawn again')
    assert.equal(side.share.byteLength, 32)
  })
})
