/**
 * Compressed frames (protocol/native/compression.ts): a page read from its compressed frame is the
 * page read from its plain frame; small or incompressible frames go plain; a decompression bomb,
 * a corrupt stream, an unknown codec and a compressed frame before the handshake are refused with
 * PROTOCOL; the codecs a hello lists travel and are checked. Over sessions: two nodes that both
 * read zstd send compressed pages, and a node that does not (an older version) still syncs with
 * one that does, receiving plain frames only.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { constants, zstdCompressSync } from 'node:zlib'
import { isEngramError } from '../../src/core/errors.ts'
import { asNodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { CODEC_ZSTD, COMPRESSED_FRAME_VERSION, MIN_COMPRESS_BYTES, codecFor, compressFrame } from '../../src/protocol/native/compression.ts'
import { decodeFrame, encodeMessage, NATIVE_LIMITS, type HelloMessage } from '../../src/protocol/native/messages.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import { MemoryNetwork, type MemoryConnection } from '../../src/transport/memory/MemoryTransport.ts'
import { eventually, sameDumps, simNode, type SimNode } from './helpers.ts'

const protocolError = (field: string | RegExp) => (e: unknown): boolean =>
  isEngramError(e) && e.code === 'PROTOCOL' && (typeof field === 'string' ? e.message.includes(field) : field.test(e.message))

function page (n: number): Uint8Array {
  const engine = new Engine({ store: new MemoryStore(), node: asNodeId('node-a'), maxDriftMs: 60_000, now: () => 1_763_631_000_000 })
  const records = engine.addTriples(Array.from({ length: n }, (_, i) => ({ subject: `ns${i % 16}:entity${i >> 3}`, predicate: `rel${i % 8}`, object: `value ${i}` })))
  return encodeMessage({ t: 'changes', from: 0, to: n, records, more: false })
}

/** A compressed frame of arbitrary body bytes. */
const packed = (body: Uint8Array, codec = CODEC_ZSTD): Uint8Array =>
  Buffer.concat([Buffer.from([COMPRESSED_FRAME_VERSION, codec]), zstdCompressSync(body, { params: { [constants.ZSTD_c_compressionLevel]: 19 } })])

describe('compressed frames', () => {
  it('a compressed page decodes to the same page, much smaller; small frames and other peers get plain frames', () => {
    const plain = page(2_000)
    const z = compressFrame(plain, CODEC_ZSTD)
    assert.equal(z[0], COMPRESSED_FRAME_VERSION)
    assert.ok(z.byteLength < plain.byteLength / 3, `${z.byteLength} of ${plain.byteLength} bytes`)
    assert.deepEqual(decodeFrame(z), decodeFrame(plain))
    assert.equal(compressFrame(plain, undefined), plain, 'a peer that reads no codec')
    assert.equal(compressFrame(plain, 7), plain, 'a codec this node does not write')
    const small = encodeMessage({ t: 'ack', cursor: 5 })
    assert.ok(small.byteLength < MIN_COMPRESS_BYTES)
    assert.equal(compressFrame(small, CODEC_ZSTD), small)
    assert.equal(codecFor([9, CODEC_ZSTD]), CODEC_ZSTD)
    assert.equal(codecFor([9]), undefined)
    assert.equal(codecFor(undefined), undefined)
  })

  it('refuses a decompression bomb, a corrupt stream, an unknown codec, and a compressed frame during the handshake', () => {
    const bomb = packed(new Uint8Array(NATIVE_LIMITS.maxFrameBytes + 1))
    assert.ok(bomb.byteLength < 2_000, 'the bomb itself is small')
    assert.throws(() => decodeFrame(bomb), protocolError(`decompresses to more than the limit of ${NATIVE_LIMITS.maxFrameBytes} bytes`))
    assert.throws(() => decodeFrame(packed(new Uint8Array(2_000)), { maxFrameBytes: 1_000 }), protocolError('more than the limit of 1000 bytes'))
    const z = compressFrame(page(500), CODEC_ZSTD)
    const corrupt = z.slice(0, z.byteLength - 10)
    assert.throws(() => decodeFrame(corrupt), protocolError('not a valid zstd stream'))
    assert.throws(() => decodeFrame(packed(page(10).subarray(1), 3)), protocolError('unknown codec 3'))
    const hello = compressFrame(page(500), CODEC_ZSTD)
    assert.throws(() => decodeFrame(hello, { only: ['hello', 'proof'] }), protocolError('before the handshake'))
  })

  it('a hello lists the codecs its node reads; a malformed list is refused', () => {
    const hello: HelloMessage = { t: 'hello', v: [1, 2], nonce: new Uint8Array(32), feed: 'f'.repeat(32), z: [CODEC_ZSTD] }
    assert.deepEqual((decodeFrame(encodeMessage(hello)) as HelloMessage).z, [CODEC_ZSTD])
    const { z: _, ...older } = hello
    assert.equal((decodeFrame(encodeMessage(older)) as HelloMessage).z, undefined)
    assert.throws(() => decodeFrame(encodeMessage({ ...hello, z: Array.from({ length: 9 }, () => 1) })), protocolError('hello.z'))
    assert.throws(() => decodeFrame(encodeMessage({ ...hello, z: [256] })), protocolError('hello.z[0]'))
  })
})

/** The in-memory network, noting the version byte of every frame each node sends. */
class TappedNetwork extends MemoryNetwork {
  readonly versions = new Map<string, number[]>()
  override sendFrame (from: MemoryConnection, frame: Uint8Array): void {
    const key = String(from.localNode)
    this.versions.set(key, [...(this.versions.get(key) ?? []), frame[0]!])
    super.sendFrame(from, frame)
  }
}

describe('compressed frames between sessions', () => {
  const started: SimNode[] = []
  afterEach(async () => { await Promise.all(started.splice(0).map(n => n.sync.stop())) })

  for (const older of [false, true]) {
    it(older ? 'a node of an older version (no compressed frames) syncs both ways and receives plain frames only' : 'two nodes that read zstd send their pages compressed', async () => {
      const net = new TappedNetwork()
      const a = simNode(net, 'node-a')
      const b = simNode(net, 'node-b', older ? { compress: false } : {})
      a.engine.addTriples(Array.from({ length: 600 }, (_, i) => ({ subject: `user:u${i}`, predicate: 'rel:likes', object: { kind: 'string', value: `v${i}` } })))
      b.engine.addTriples(Array.from({ length: 300 }, (_, i) => ({ subject: `user:w${i}`, predicate: 'rel:likes', object: `w${i}` })))
      for (const n of [a, b]) { started.push(n); await n.sync.start() }
      b.sync.addPeer('mem:node-a')
      await eventually(() => a.store.stats().triples === 900 && b.store.stats().triples === 900, 'both nodes hold 900 triples')
      assert.ok(sameDumps([a, b]))
      const fromA = net.versions.get('node-a') ?? []
      const fromB = net.versions.get('node-b') ?? []
      if (older) {
        assert.ok(!fromA.includes(COMPRESSED_FRAME_VERSION), 'a sends the older node plain frames only')
        assert.ok(!fromB.includes(COMPRESSED_FRAME_VERSION), 'the older node sends plain frames')
      } else {
        for (const [name, sent] of [['a', fromA], ['b', fromB]] as const) {
          assert.ok(sent.includes(COMPRESSED_FRAME_VERSION), `${name} compresses its pages (versions sent: ${[...new Set(sent)].join(', ')})`)
        }
      }
    })
  }
})
