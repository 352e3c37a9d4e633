import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { isEngramError } from '../../src/core/errors.ts'
import {
  FrameDecoder, KIND_DATA, decodeAccept, decodeHello, encodeAccept, encodeHello, encodeMessage, encodeReason,
  decodeReason, MAX_REASON_BYTES, type WireMessage
} from '../../src/transport/libp2p/framing.ts'
import { mulberry32 } from '../../src/transport/memory/MemoryTransport.ts'

const protocolError = (re: RegExp) => (e: unknown): boolean => isEngramError(e) && e.code === 'PROTOCOL' && re.test(e.message)

function decodeAll (bytes: Uint8Array, cuts: number[], max = 1 << 20): WireMessage[] {
  const dec = new FrameDecoder(max)
  const out: WireMessage[] = []
  let prev = 0
  for (const c of [...cuts, bytes.byteLength]) {
    dec.push(bytes.subarray(prev, c), m => out.push(m))
    prev = c
  }
  return out
}

describe('engram stream framing', () => {
  const frames = [new Uint8Array(0), Uint8Array.of(1), randomBytes(127), randomBytes(128), randomBytes(300), randomBytes(70_000)]
  const wire = Buffer.concat(frames.map(f => encodeMessage(KIND_DATA, f)))

  it('round-trips frames of every length class in one chunk', () => {
    const got = decodeAll(wire, [])
    assert.equal(got.length, frames.length)
    got.forEach((m, i) => { assert.equal(m.kind, KIND_DATA); assert.deepEqual(Buffer.from(m.body), Buffer.from(frames[i] as Uint8Array)) })
  })

  it('keeps frame boundaries whatever the chunking: byte by byte, and random cuts', () => {
    const byteByByte = decodeAll(wire, Array.from({ length: wire.byteLength - 1 }, (_, i) => i + 1))
    assert.deepEqual(byteByByte.map(m => Buffer.from(m.body)), frames.map(f => Buffer.from(f)))
    const random = mulberry32(99)
    for (let run = 0; run < 50; run++) {
      const cuts = Array.from({ length: 1 + Math.floor(random() * 20) }, () => Math.floor(random() * wire.byteLength)).sort((a, b) => a - b)
      const got = decodeAll(wire, cuts)
      assert.deepEqual(got.map(m => Buffer.from(m.body)), frames.map(f => Buffer.from(f)), `cuts ${cuts.join(',')}`)
    }
  })

  it('hands out frames the receiver owns (not views of the chunk)', () => {
    const chunk = encodeMessage(KIND_DATA, Uint8Array.of(1, 2, 3))
    const got = decodeAll(chunk, [])
    chunk.fill(0)
    assert.deepEqual([...(got[0] as WireMessage).body], [1, 2, 3])
  })

  it('refuses an oversized announced length from the length prefix alone, before any body byte', () => {
    const dec = new FrameDecoder(4096)
    // 4098 = 0x82 0x20: kind + 4097 bytes, one over the limit
    assert.throws(() => { dec.push(Uint8Array.of(0x82, 0x20), () => {}) }, protocolError(/4097 bytes, over the limit of 4096/))
    // a huge length is refused as soon as its first bytes show it is too big
    const dec2 = new FrameDecoder(4096)
    assert.throws(() => { dec2.push(Uint8Array.of(0xff, 0xff), () => {}) }, protocolError(/over the limit/))
    assert.equal(dec2.bufferedBytes, 0)
    // exactly at the limit is fine
    const dec3 = new FrameDecoder(4096)
    const out: WireMessage[] = []
    dec3.push(encodeMessage(KIND_DATA, new Uint8Array(4096)), m => out.push(m))
    assert.equal(out[0]?.body.byteLength, 4096)
  })

  it('refuses a malformed prefix: too long, or an empty message', () => {
    assert.throws(() => { new FrameDecoder(2 ** 40).push(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80), () => {}) }, protocolError(/too long/))
    assert.throws(() => { new FrameDecoder(100).push(Uint8Array.of(0), () => {}) }, protocolError(/empty/))
  })

  it('stays failed after an error', () => {
    const dec = new FrameDecoder(10)
    assert.throws(() => { dec.push(Uint8Array.of(100), () => {}) })
    assert.throws(() => { dec.push(Uint8Array.of(1, 0), () => {}) }, protocolError(/already failed/))
  })

  it('encodes and checks the handshake messages', () => {
    const nonce = randomBytes(16)
    const hello = decodeAll(encodeHello(nonce), [])[0] as WireMessage
    assert.deepEqual(Buffer.from(decodeHello(hello.body)), nonce)
    assert.throws(() => decodeHello(Uint8Array.of(2, ...nonce)), protocolError(/version 2/))
    assert.throws(() => decodeHello(Uint8Array.of(1, 2, 3)), protocolError(/HELLO has 3 bytes/))
    const voided = [randomBytes(16), randomBytes(16)]
    const accept = decodeAll(encodeAccept(voided), [])[0] as WireMessage
    assert.deepEqual(decodeAccept(accept.body).map(b => Buffer.from(b)), voided)
    assert.throws(() => decodeAccept(Uint8Array.of(1, 2)), protocolError(/malformed ACCEPT/))
  })

  it('cuts long reasons on a character boundary', () => {
    const reason = 'é'.repeat(200)
    const enc = encodeReason(reason)
    assert.ok(enc.byteLength <= MAX_REASON_BYTES)
    assert.equal(decodeReason(enc), 'é'.repeat(enc.byteLength / 2))
  })
})
