/**
 * Records found missing by a gossip round, cut into `records` messages (docs/PROTOCOL.md §3):
 * in the order of their batches' leaves (so the proofs of a message's records stay short), at
 * most `maxPerMessage` records and about `maxBytes` bytes a message (one larger record still goes
 * alone), each message with the signatures of its records. Pure: reads the window index only.
 */
import { sealPage } from '../../core/seals.ts'
import type { SignedBatch } from '../../core/signing.ts'
import type { StoredState } from '../../store/Store.ts'
import type { RecordsMessage } from './gossipMessages.ts'

export interface RecordBatchLimits {
  /** Most records in one message. */
  readonly maxPerMessage: number
  /** Approximate most bytes of one message. */
  readonly maxBytes: number
}

/** `states` (sorted here) as `records` messages of round `round`; `batch` reads a stored signed batch. */
export function recordsMessages (round: number, states: StoredState[], batch: (id: number) => SignedBatch | undefined, limits: RecordBatchLimits): RecordsMessage[] {
  states.sort(bySeal)
  const out: RecordsMessage[] = []
  const loaded = new Map<number, SignedBatch | undefined>()
  const load = (id: number): SignedBatch | undefined => {
    if (!loaded.has(id)) loaded.set(id, batch(id))
    return loaded.get(id)
  }
  const message = (part: StoredState[]): RecordsMessage => {
    const seals = sealPage(part, load)
    const records = part.map(s => s.record)
    return seals.batches.length > 0 ? { t: 'records', round, records, seals } : { t: 'records', round, records }
  }
  let part: StoredState[] = []
  let bytes = 0
  for (const s of states) {
    // the record's JSON: an upper bound on its row's size
    const size = Buffer.byteLength(JSON.stringify(s.record))
    if (part.length > 0 && (part.length >= limits.maxPerMessage || bytes + size > limits.maxBytes)) {
      out.push(message(part))
      part = []
      bytes = 0
    }
    part.push(s)
    bytes += size
  }
  if (part.length > 0) out.push(message(part))
  return out
}

/** Signed states by batch and leaf, unsigned ones last. */
function bySeal (a: StoredState, b: StoredState): number {
  if (a.seal === undefined || b.seal === undefined) return a.seal === undefined ? (b.seal === undefined ? 0 : 1) : -1
  return a.seal.batch - b.seal.batch || a.seal.leaf - b.seal.leaf
}
