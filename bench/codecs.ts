/**
 * Codecs for `changes` pages on the wire: for real pages (20 pages of 5,000 bench triples, made
 * by the engine and encoded as the feed sends them), each codec's size ÷ the raw frame and its
 * compress and decompress speed in MB of raw frame per second of one core. The codec the
 * protocol uses (docs/PROTOCOL.md, compressed frames) is chosen from these figures.
 */
import { brotliCompressSync, brotliDecompressSync, constants, deflateRawSync, inflateRawSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib'
import { asNodeId } from '../src/core/ids.ts'
import { Engine } from '../src/engine/Engine.ts'
import { encodeMessage } from '../src/protocol/native/messages.ts'
import { MemoryStore } from '../src/store/memory/MemoryStore.ts'
import { benchInput } from './store.ts'

const PAGES = 20
const PAGE = 5_000

type Codec = { readonly name: string, readonly pack: (b: Uint8Array) => Uint8Array, readonly unpack: (b: Uint8Array) => Uint8Array }

const CODECS: Codec[] = [
  { name: 'zstd1', pack: b => zstdCompressSync(b, { params: { [constants.ZSTD_c_compressionLevel]: 1 } }), unpack: b => zstdDecompressSync(b) },
  { name: 'zstd3', pack: b => zstdCompressSync(b, { params: { [constants.ZSTD_c_compressionLevel]: 3 } }), unpack: b => zstdDecompressSync(b) },
  { name: 'deflate1', pack: b => deflateRawSync(b, { level: 1 }), unpack: b => inflateRawSync(b) },
  { name: 'deflate6', pack: b => deflateRawSync(b, { level: 6 }), unpack: b => inflateRawSync(b) },
  { name: 'brotli1', pack: b => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } }), unpack: b => brotliDecompressSync(b) },
  { name: 'brotli4', pack: b => brotliCompressSync(b, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }), unpack: b => brotliDecompressSync(b) }
]

/** Real `changes` frames: the engine's records of PAGES × PAGE bench triples, one frame a page. */
export function realPages (): Uint8Array[] {
  const store = new MemoryStore()
  const engine = new Engine({ store, node: asNodeId('bench-source'), maxDriftMs: 60_000 })
  const frames: Uint8Array[] = []
  for (let p = 0; p < PAGES; p++) {
    const records = engine.addTriples(Array.from({ length: PAGE }, (_, i) => benchInput(p * PAGE + i)))
    frames.push(encodeMessage({ t: 'changes', from: p * PAGE, to: (p + 1) * PAGE, records, more: p < PAGES - 1 }))
  }
  return frames
}

export async function benchCodecs (): Promise<Record<string, number>> {
  const frames = realPages()
  const raw = frames.reduce((s, f) => s + f.byteLength, 0)
  const out: Record<string, number> = { codec_raw_bytes_per_record: Math.round(raw / (PAGES * PAGE) * 10) / 10 }
  for (const c of CODECS) {
    const t0 = performance.now()
    const packed = frames.map(f => c.pack(f))
    const t1 = performance.now()
    for (const p of packed) c.unpack(p)
    const t2 = performance.now()
    const size = packed.reduce((s, f) => s + f.byteLength, 0)
    out[`codec_${c.name}_size_ratio`] = Math.round(size / raw * 1000) / 1000
    out[`codec_${c.name}_compress_mb_per_s`] = Math.round(raw / 1e6 / ((t1 - t0) / 1000))
    out[`codec_${c.name}_decompress_mb_per_s`] = Math.round(raw / 1e6 / ((t2 - t1) / 1000))
  }
  return out
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const [k, v] of Object.entries(await benchCodecs())) process.stdout.write(`${k.padEnd(40)} ${v}\n`)
}
