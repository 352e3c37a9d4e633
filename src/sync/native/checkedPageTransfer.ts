/**
 * A page's check result (protocol/native/pageCheck.ts) in the form that crosses from a worker
 * thread to the session's (structured clone), and back.
 *
 * Taking a structured clone costs the receiving thread about as much per object as checking it
 * did (V8 reads every object field by field, its keys by name), so what crosses is mostly flat:
 * a page's triples as columns (their ids, subjects, predicates and objects' values as arrays of
 * strings or values, stamps and flags as typed arrays, node ids once each in a table), the seals'
 * places as one Int32Array, and what each signed batch came to instead of every record's check.
 * The session's thread then builds the records, seal refs and checks itself — plain object
 * literals, the same fields in the same order as the checks built them — which is a small part of
 * the cost of reading them from a clone. Records of other kinds (notes, episodes, traces: few in a
 * catch-up) cross as they are. A verified batch's tree hashes (core/merkle.ts KnownHashes, a
 * class) cross as their encoding and are read back as views of it, no hash computed again. An
 * error crosses as its code, message and details and is built again with the same factory.
 */
import { INTERNAL, PROTOCOL, type EngramError } from '../../core/errors.ts'
import type { NodeId, TripleId } from '../../core/ids.ts'
import { KnownHashes } from '../../core/merkle.ts'
import { TERM_KINDS, type Json, type MemoryRecord, type Term, type TripleRecord } from '../../core/model.ts'
import { sealChecks, type PageSeals, type SealFailure, type SealRef, type VerifiedPage } from '../../core/seals.ts'
import type { BatchHeader } from '../../core/signing.ts'
import type { ChangesMessage } from '../../protocol/native/messages.ts'
import type { PageCheck } from '../../protocol/native/pageCheck.ts'

/** A page's records: triples in columns, the others as they are. */
interface SentRecords {
  readonly count: number
  /** Per record: 1 a triple (the next in the columns), 0 the next of `others`. */
  readonly triple: Uint8Array
  readonly ids: string[]
  readonly subjects: string[]
  readonly predicates: string[]
  /** The object's kind, an index into TERM_KINDS. */
  readonly termKinds: Uint8Array
  readonly termValues: unknown[]
  /** The languages of `lang` objects, in order. */
  readonly langs: string[]
  readonly walls: Float64Array
  readonly counters: Uint16Array
  /** Index into `nodes`. */
  readonly nodeOf: Uint32Array
  readonly nodes: string[]
  readonly deleted: Uint8Array
  readonly others: MemoryRecord[]
}

interface SentBatch {
  readonly header: BatchHeader
  readonly sig: Uint8Array
  /** KnownHashes.encode */
  readonly known: Uint8Array
}

interface SentSeals {
  readonly batches: PageSeals['batches']
  /** Per record [batch, leaf], or [-1, -1] unsigned. */
  readonly refs: Int32Array
}

export type SentCheck =
  | {
    readonly ok: true
    readonly envelope: Omit<ChangesMessage, 'records' | 'seals'>
    readonly records: SentRecords
    readonly seals?: SentSeals
    readonly verified?: { readonly batches: ReadonlyArray<SentBatch | undefined>, readonly failures: ReadonlyArray<SealFailure | undefined> }
  }
  | { readonly ok: false, readonly during: 'decode' | 'changes', readonly code: string, readonly message: string, readonly details?: Record<string, unknown> }

const TERM_INDEX = new Map(TERM_KINDS.map((k, i) => [k, i]))

/** The form of `check` that crosses threads. */
export function sendCheck (check: PageCheck): SentCheck {
  if (!check.ok) {
    const e = check.error
    return { ok: false, during: check.during, code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) }
  }
  const { msg, verified } = check.page
  const { records, seals, ...envelope } = msg
  const out = { ok: true as const, envelope, records: sendRecords(records), ...(seals !== undefined ? { seals: sendSeals(seals) } : {}) }
  if (verified === undefined) return out
  const failures: Array<SealFailure | undefined> = verified.batches.map(() => undefined)
  for (const c of verified.checks) if (c !== undefined && !c.ok) failures[c.batch] = c.why
  const batches = verified.batches.map(b => b === undefined ? undefined : { header: b.header, sig: b.sig, known: b.known.encode() })
  return { ...out, verified: { batches, failures } }
}

/** The check result `sent` describes. */
export function takeCheck (sent: SentCheck): PageCheck {
  if (!sent.ok) return { ok: false, during: sent.during, error: errorOf(sent) }
  const records = takeRecords(sent.records)
  const seals = sent.seals === undefined ? undefined : takeSeals(sent.seals)
  const msg: ChangesMessage = { ...sent.envelope, records, ...(seals !== undefined ? { seals } : {}) }
  if (sent.verified === undefined || seals === undefined) return { ok: true, page: { msg } }
  const verified: VerifiedPage = {
    batches: sent.verified.batches.map(b => b === undefined ? undefined : { header: b.header, sig: b.sig, known: KnownHashes.lazy(b.header.n, b.known) }),
    checks: sealChecks(records, seals, sent.verified.failures)
  }
  return { ok: true, page: { msg, verified } }
}

function sendRecords (records: readonly MemoryRecord[]): SentRecords {
  const count = records.length
  const triples = records.reduce((n, r) => (r.kind === 'triple' ? n + 1 : n), 0)
  const out = {
    count,
    triple: new Uint8Array(count),
    ids: new Array<string>(triples),
    subjects: new Array<string>(triples),
    predicates: new Array<string>(triples),
    termKinds: new Uint8Array(triples),
    termValues: new Array<unknown>(triples),
    langs: [] as string[],
    walls: new Float64Array(triples),
    counters: new Uint16Array(triples),
    nodeOf: new Uint32Array(triples),
    nodes: [] as string[],
    deleted: new Uint8Array(triples),
    others: [] as MemoryRecord[]
  }
  const nodeIndex = new Map<string, number>()
  let t = 0
  for (let i = 0; i < count; i++) {
    const r = records[i]!
    if (r.kind !== 'triple') { out.others.push(r); continue }
    out.triple[i] = 1
    out.ids[t] = r.id
    out.subjects[t] = r.subject
    out.predicates[t] = r.predicate
    out.termKinds[t] = TERM_INDEX.get(r.object.kind)!
    out.termValues[t] = r.object.value
    if (r.object.kind === 'lang') out.langs.push(r.object.lang)
    out.walls[t] = r.hlc.wall
    out.counters[t] = r.hlc.counter
    let n = nodeIndex.get(r.hlc.node)
    if (n === undefined) {
      n = out.nodes.length
      out.nodes.push(r.hlc.node)
      nodeIndex.set(r.hlc.node, n)
    }
    out.nodeOf[t] = n
    out.deleted[t] = r.deleted ? 1 : 0
    t++
  }
  return out
}

function takeRecords (s: SentRecords): MemoryRecord[] {
  const out = new Array<MemoryRecord>(s.count)
  let t = 0
  let o = 0
  let l = 0
  for (let i = 0; i < s.count; i++) {
    if (s.triple[i] !== 1) { out[i] = s.others[o++]!; continue }
    const kind = TERM_KINDS[s.termKinds[t]!]!
    const object = (kind === 'lang' ? { kind, value: s.termValues[t], lang: s.langs[l++] } : { kind, value: s.termValues[t] as Json }) as Term
    const record: TripleRecord = {
      kind: 'triple',
      id: s.ids[t] as TripleId,
      subject: s.subjects[t]!,
      predicate: s.predicates[t]!,
      object,
      hlc: { wall: s.walls[t]!, counter: s.counters[t]!, node: s.nodes[s.nodeOf[t]!] as NodeId },
      deleted: s.deleted[t] === 1
    }
    out[i] = record
    t++
  }
  return out
}

function sendSeals (seals: PageSeals): SentSeals {
  const refs = new Int32Array(seals.refs.length * 2).fill(-1)
  seals.refs.forEach((ref, i) => {
    if (ref === undefined) return
    refs[2 * i] = ref.batch
    refs[2 * i + 1] = ref.leaf
  })
  return { batches: seals.batches, refs }
}

function takeSeals (s: SentSeals): PageSeals {
  const refs = new Array<SealRef | undefined>(s.refs.length / 2)
  for (let i = 0; i < refs.length; i++) {
    const batch = s.refs[2 * i]!
    refs[i] = batch < 0 ? undefined : { batch, leaf: s.refs[2 * i + 1]! }
  }
  return { batches: s.batches, refs }
}

function errorOf (sent: { readonly code: string, readonly message: string, readonly details?: Record<string, unknown> }): EngramError {
  // the checks refuse a page with PROTOCOL errors only; anything else is the checker's own failure
  return sent.code === 'PROTOCOL' ? PROTOCOL(sent.message, sent.details) : INTERNAL(`checking a page failed: ${sent.message}`, sent.details)
}
