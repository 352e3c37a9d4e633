/**
 * Decoders against hostile input, timed: the speed half of the fuzz tests (which check only
 * what each input decodes to). For each decoder, 20,000 inputs drawn with a fixed seed — hostile
 * JSON, valid values with one field broken, arbitrary bytes — each decoded once; the figures are
 * the 99th percentile and the slowest, in microseconds (the slowest includes the machine's
 * pauses: read it next to the 99th percentile).
 */
import fc from 'fast-check'
import { checkRecord, recordToPlain } from '../src/core/records.ts'
import { decodeFrame, encodeMessage } from '../src/protocol/native/messages.ts'
import { parseDeltaRequest } from '../src/protocol/polled/messages.ts'
import { hostileJson, mutate, mutationArb } from '../test/hostile/fuzz.ts'
import { anyRecordArb } from '../test/unit/arbitraries.ts'

const N = 20_000
const SEED = 0xdec0de

/** Times `decode` on each input (a refusal is an answer too); [p99, max] in µs. */
function timed<T> (inputs: readonly T[], decode: (input: T) => unknown): [number, number] {
  const us: number[] = []
  for (const input of inputs) {
    const t0 = performance.now()
    try { decode(input) } catch { /* refused */ }
    us.push((performance.now() - t0) * 1000)
  }
  us.sort((a, b) => a - b)
  return [Math.round(us[Math.floor(us.length * 0.99)]!), Math.round(us[us.length - 1]!)]
}

export async function benchDecode (): Promise<Record<string, number>> {
  const sample = <T>(arb: fc.Arbitrary<T>): T[] => fc.sample(arb, { numRuns: N, seed: SEED })
  const records = sample(fc.oneof(
    hostileJson,
    fc.tuple(anyRecordArb.map(recordToPlain), fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([r, m]) => mutate(r, m))
  ))
  const deltas = sample(hostileJson)
  const frames = sample(fc.oneof(
    fc.uint8Array({ maxLength: 512 }).map(b => Uint8Array.from([1, ...b])),
    fc.array(anyRecordArb, { maxLength: 20 }).map(rs => {
      const f = encodeMessage({ t: 'changes', from: 0, to: rs.length, records: rs, more: false })
      const i = Math.floor(f.length / 2)
      f[i] = (f[i] ?? 0) ^ 0xff
      return f
    })
  ))
  const out: Record<string, number> = {}
  for (const [name, [p99, max]] of [
    ['checkRecord', timed(records, r => checkRecord(r))],
    ['parseDeltaRequest', timed(deltas, d => parseDeltaRequest(d))],
    ['decodeFrame', timed(frames, f => decodeFrame(f))]
  ] as const) {
    out[`${name} p99 (µs)`] = p99
    out[`${name} slowest (µs)`] = max
  }
  return out
}
