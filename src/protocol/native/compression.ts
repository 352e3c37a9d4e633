/**
 * Compressed frames of native sync (docs/PROTOCOL.md, "Compressed frames").
 *
 *   frame := 0x02 codec:u8 compressed(body)     ; body: the msgpack map of a version 0x01 frame
 *
 * A node lists the codecs it reads in its `hello` (`z`); a node sends a compressed frame only to a
 * peer that listed the codec, only after the handshake, and only when it pays (a frame of at least
 * MIN_COMPRESS_BYTES that shrinks), so peers of older versions keep receiving plain frames.
 * The codec is zstd at level 1 (`npm run bench -- --only codecs`: on real `changes` pages
 * 0.16× the bytes at about 80 MB/s of one core, against deflate's 0.21× at 30 MB/s and
 * brotli's 0.16× at 60 MB/s).
 *
 * Decompression is bounded: a frame whose body would decompress to more than the frame limit
 * is refused as soon as the output passes it (a decompression bomb costs at most that much),
 * with a PROTOCOL error, as is a corrupt stream or an unknown codec.
 */
import { constants, zstdCompressSync, zstdDecompressSync } from 'node:zlib'
import { PROTOCOL } from '../../core/errors.ts'

/** The version byte of a compressed frame. */
export const COMPRESSED_FRAME_VERSION = 0x02
/** Codec ids (`hello.z`): 1 = zstd. */
export const CODEC_ZSTD = 1
/** The codecs this node reads, as listed in its hello. */
export const READ_CODECS: readonly number[] = [CODEC_ZSTD]
/** Frames smaller than this go uncompressed (the saving would not pay for the work). */
export const MIN_COMPRESS_BYTES = 1024

const LEVEL = { params: { [constants.ZSTD_c_compressionLevel]: 1 } }

/**
 * The compressed form of a plain frame (version byte, then body) for a peer that reads `codec`,
 * or the frame itself when it is small, does not shrink, or the codec is not one this node writes.
 */
export function compressFrame (frame: Uint8Array, codec: number | undefined): Uint8Array {
  if (codec !== CODEC_ZSTD || frame.byteLength < MIN_COMPRESS_BYTES || frame[0] === COMPRESSED_FRAME_VERSION) return frame
  const packed = zstdCompressSync(frame.subarray(1), LEVEL)
  if (packed.byteLength + 2 >= frame.byteLength) return frame
  const out = new Uint8Array(2 + packed.byteLength)
  out[0] = COMPRESSED_FRAME_VERSION
  out[1] = codec
  out.set(packed, 2)
  return out
}

/** The first codec of `theirs` (a peer's hello.z) that this node writes, or undefined. */
export function codecFor (theirs: readonly number[] | undefined): number | undefined {
  return theirs?.includes(CODEC_ZSTD) === true ? CODEC_ZSTD : undefined
}

/**
 * The body (msgpack bytes) of a compressed frame, at most `maxBytes` long. Throws PROTOCOL for an
 * unknown codec, a corrupt stream, or a body over `maxBytes`.
 */
export function decompressBody (frame: Uint8Array, maxBytes: number): Uint8Array {
  const codec = frame[1]
  if (codec !== CODEC_ZSTD) throw PROTOCOL(`frame: unknown codec ${String(codec)} (this node reads ${READ_CODECS.join(', ')})`, { field: 'frame.codec' })
  try {
    return zstdDecompressSync(frame.subarray(2), { maxOutputLength: maxBytes })
  } catch (e) {
    const code = (e as { code?: unknown }).code
    if (code === 'ERR_BUFFER_TOO_LARGE') throw PROTOCOL(`frame: decompresses to more than the limit of ${maxBytes} bytes`, { field: 'frame' })
    throw PROTOCOL(`frame: not a valid zstd stream (${e instanceof Error ? e.message : String(e)})`, { field: 'frame' })
  }
}
