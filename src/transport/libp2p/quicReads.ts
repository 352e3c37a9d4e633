/**
 * Read sizes of QUIC streams, adapted to the traffic.
 *
 * `@chainsafe/libp2p-quic` reads every stream 4 KiB per call into native code, whatever is
 * waiting, and has no option for it: a 1 MiB page costs 256 calls, each a turn of the event loop.
 * The native side allocates the whole requested size for every pending read, so a large fixed
 * size would cost that much memory on every idle session. Instead each stream's read size adapts,
 * like a TCP receive window: it starts at `MIN_READ`, doubles (up to `MAX_READ`) while reads come
 * back full, and halves when a read comes back less than half full.
 *
 * Measured on loopback (bench/transport.ts, bench/native.ts): transfers of large frames several
 * times faster; an idle session holds about 20 KiB more than with 4 KiB reads (a fixed 256 KiB
 * read holds about 220 KiB more).
 *
 * The library's JavaScript calls `read(size)` on the native stream class it loads from its own
 * `napi.js`; the class is shared, so wrapping its `read` once here applies to every QUIC stream
 * of the process. When the library's layout no longer matches (an upgrade), nothing is changed
 * and `quicReadTuning()` says so; test/transport/quic-reads.test.ts fails then, so the change is
 * noticed rather than silently slower.
 */

/** Smallest read, bytes (what an idle stream asks for). */
export const MIN_READ = 64 * 1024
/** Largest read, bytes. */
export const MAX_READ = 256 * 1024

export type QuicReadTuning =
  | { readonly active: true, readonly largestRead: number }
  | { readonly active: false, readonly reason: string }

interface NativeStreamClass {
  prototype: { read: (size: number) => Promise<Uint8Array | null | undefined> }
}

let state: QuicReadTuning | undefined
let largestRead = 0

/** The read size after a read of `got` bytes when `asked` were asked for. */
export function nextReadSize (asked: number, got: number): number {
  if (got >= asked) return Math.min(MAX_READ, asked * 2)
  if (got < asked / 2) return Math.max(MIN_READ, Math.floor(asked / 2))
  return asked
}

function wrap (cls: NativeStreamClass): void {
  const read = cls.prototype.read
  const sizes = new WeakMap<object, number>()
  cls.prototype.read = async function (this: object, size: number): Promise<Uint8Array | null | undefined> {
    const asked = Math.max(size, sizes.get(this) ?? MIN_READ)
    const chunk = await read.call(this, asked)
    if (chunk !== null && chunk !== undefined) {
      sizes.set(this, nextReadSize(asked, chunk.byteLength))
      if (chunk.byteLength > largestRead) largestRead = chunk.byteLength
    }
    return chunk
  }
}

/**
 * Installs the adaptive read size (once per process; later calls return the first result).
 * Never throws: when the library's layout is not the expected one, QUIC works as shipped.
 */
export async function tuneQuicReads (): Promise<QuicReadTuning> {
  if (state !== undefined) return quicReadTuning()
  let reason: string
  try {
    const entry = import.meta.resolve('@chainsafe/libp2p-quic')
    const napi = await import(new URL('./napi.js', entry).href) as { Stream?: NativeStreamClass }
    const read = napi.Stream?.prototype?.read
    if (typeof read === 'function') {
      if (state === undefined) wrap(napi.Stream!)
      state = { active: true, largestRead: 0 }
      return quicReadTuning()
    }
    reason = 'the QUIC library has no native Stream.read(size)'
  } catch (e) {
    reason = `the QUIC library's native module could not be loaded here (${e instanceof Error ? e.message : String(e)})`
  }
  state ??= { active: false, reason }
  return quicReadTuning()
}

/** Whether reads are tuned, and the largest read so far (bytes). */
export function quicReadTuning (): QuicReadTuning {
  if (state === undefined) return { active: false, reason: 'not installed (no QUIC transport started)' }
  return state.active ? { active: true, largestRead } : state
}
