/**
 * Signatures as a page of records carries them (docs/DATA-MODEL.md, "Signed records"; the wire
 * forms are in docs/PROTOCOL.md and docs/SYNC.md).
 *
 * A page lists each batch its records belong to once — signer, clock mark, size, signature and
 * the proof for the page's leaves of it — and each record names its batch (an index into that
 * list) and its leaf position. A record without one is **unsigned** (written before its origin
 * signed, or relayed by a node that does not keep signatures); what a receiver makes of that is
 * policy (engine/RecordGate.ts), not decided here.
 *
 * `sealPage` builds the list on the sending side from the batches in the store; `verifyPage` is
 * the receiving side: every batch's root is rebuilt from the page's records and the proof, and
 * its signature checked against the signer's key. A batch that fails takes all its records of
 * the page with it, and only them.
 */
import { PROTOCOL, type EngramError } from './errors.ts'
import { MAX_COUNTER, MAX_WALL, type HlcMark } from './hlc.ts'
import type { NodeId } from './ids.ts'
import { compareRecords } from './merge.ts'
import { HASH_BYTES, KnownHashes, MAX_BATCH_LEAVES, proveLeaves, rootFromProof } from './merkle.ts'
import type { MemoryRecord } from './model.ts'
import { batchMessage, leafHashInto, maySign, SIGNATURE_BYTES, type SignatureVerifier, type SignedBatch } from './signing.ts'
import { blake3Hex } from './hash.ts'

/** A batch as a page carries it. */
export interface BatchProof {
  readonly signer: NodeId
  readonly at: HlcMark
  readonly n: number
  readonly sig: Uint8Array
  /** The proof for the page's leaves of this batch (merkle.ts). */
  readonly proof: readonly Uint8Array[]
}

/** Where a record of a page sits: its batch (an index into the page's batches) and leaf. */
export interface SealRef {
  readonly batch: number
  readonly leaf: number
}

/** The signatures of a page: its batches, and per record (same order) its place or undefined. */
export interface PageSeals {
  readonly batches: readonly BatchProof[]
  readonly refs: readonly (SealRef | undefined)[]
}

/** The seals of `subset`, records of `page` (the same objects, in the same order) that a step kept. */
export function sealsOfSubset (seals: PageSeals | undefined, page: readonly MemoryRecord[], subset: readonly MemoryRecord[]): PageSeals | undefined {
  if (seals === undefined || subset.length === page.length) return seals
  const refs = new Map<MemoryRecord, SealRef | undefined>()
  page.forEach((r, i) => refs.set(r, seals.refs[i]))
  return { batches: seals.batches, refs: subset.map(r => refs.get(r)) }
}

/**
 * A signed page without the signatures it need not check again: a batch all of whose records in
 * the page `held` says are held here as they are (signed) is left out with them — nothing of it
 * would be written, and its records were verified when they were stored. A batch with one record
 * not held keeps all its records of the page: its root is rebuilt from every leaf the proof
 * covers, so it is verified in full as before. Unsigned records stay (the gate decides on them).
 * Returns `records` and `seals` themselves when nothing is left out.
 */
export function withoutHeldBatches (records: readonly MemoryRecord[], seals: PageSeals, held: (r: MemoryRecord) => boolean): { records: readonly MemoryRecord[], seals: PageSeals } {
  const needed: boolean[] = seals.batches.map(() => false)
  const signed: boolean[] = seals.batches.map(() => false)
  for (let i = 0; i < records.length; i++) {
    const ref = seals.refs[i]
    if (ref === undefined || ref.batch < 0 || ref.batch >= needed.length) continue
    signed[ref.batch] = true
    if (!needed[ref.batch]! && !held(records[i]!)) needed[ref.batch] = true
  }
  if (signed.every((s, b) => !s || needed[b])) return { records, seals }
  const kept = records.filter((_, i) => {
    const ref = seals.refs[i]
    return ref === undefined || ref.batch < 0 || ref.batch >= needed.length || needed[ref.batch]!
  })
  return { records: kept, seals: sealsOfSubset(seals, records, kept)! }
}

/**
 * Whether `held` (a record's current state here, with its seal: Store.getState) is `incoming`'s
 * very state, signed. A copy of it then changes nothing (store/decide.ts: the same state is
 * written again only to add a seal it lacks, and a conflict resolver is not consulted for it);
 * records checked by core/records.ts checkRecord are the same state exactly when they compare equal.
 */
export function holdsSigned (held: { readonly record: MemoryRecord, readonly seal?: StoredSeal } | undefined, incoming: MemoryRecord): boolean {
  return held?.seal !== undefined && held.record.kind === incoming.kind && compareRecords(held.record, incoming) === 0
}

/**
 * The seals of consecutive pages applied as one (their records concatenated in the same order):
 * each page's batches listed after the earlier pages' (a batch two pages share is listed twice,
 * each with its own proof), its refs shifted to match. Undefined when no page is signed.
 */
export function joinSeals (pages: ReadonlyArray<{ readonly records: readonly MemoryRecord[], readonly seals?: PageSeals }>): PageSeals | undefined {
  if (pages.every(p => p.seals === undefined)) return undefined
  const batches: BatchProof[] = []
  const refs: Array<SealRef | undefined> = []
  for (const p of pages) {
    const base = batches.length
    if (p.seals !== undefined) batches.push(...p.seals.batches)
    for (let i = 0; i < p.records.length; i++) {
      const ref = p.seals?.refs[i]
      refs.push(ref === undefined ? undefined : { batch: base + ref.batch, leaf: ref.leaf })
    }
  }
  return { batches, refs }
}

/** A stored state's place in a stored batch (the batch by its local number in the store). */
export interface StoredSeal {
  readonly batch: number
  readonly leaf: number
}

/** The identity of a batch everywhere: BLAKE3 of its signed message, hex. */
export function batchKey (b: SignedBatch): string {
  return blake3Hex(batchMessage(b.header))
}

/**
 * The seals of a page of stored states. `load` gives a stored batch by its local number (it may
 * answer from a cache); `reload`, when given, reads it again from the store when the loaded one
 * cannot prove the page's leaves (a cached copy from before more of the batch arrived). A state
 * whose batch cannot prove it even then (never the case for a store that kept what it received)
 * goes unsigned.
 */
export function sealPage (entries: ReadonlyArray<{ readonly seal?: StoredSeal }>, load: (batch: number) => SignedBatch | undefined,
  reload?: (batch: number) => SignedBatch | undefined): PageSeals {
  const index = new Map<number, number>()
  const groups: Array<{ id: number, leaves: number[] }> = []
  for (const e of entries) {
    if (e.seal === undefined) continue
    let i = index.get(e.seal.batch)
    if (i === undefined) {
      i = groups.length
      index.set(e.seal.batch, i)
      groups.push({ id: e.seal.batch, leaves: [] })
    }
    groups[i]!.leaves.push(e.seal.leaf)
  }
  const batches: BatchProof[] = []
  const slot = new Map<number, number>()
  for (const g of groups) {
    let b = load(g.id)
    if (b === undefined) continue
    const positions = ascendingDistinct(g.leaves)
    let proof: Uint8Array[] | undefined
    try {
      proof = proveLeaves(b.known, positions)
    } catch {
      b = reload?.(g.id)
      try {
        if (b !== undefined) proof = proveLeaves(b.known, positions)
      } catch { /* left unsigned */ }
    }
    if (b === undefined || proof === undefined) continue
    slot.set(g.id, batches.length)
    batches.push({ signer: b.header.signer, at: b.header.at, n: b.header.n, sig: b.sig, proof })
  }
  const refs = entries.map(e => {
    const i = e.seal === undefined ? undefined : slot.get(e.seal.batch)
    return i === undefined ? undefined : { batch: i, leaf: e.seal!.leaf }
  })
  return { batches, refs }
}

/** The distinct values of `xs`, ascending: `xs` itself when it is so already (a page's leaves of a batch, in feed order, usually are). */
function ascendingDistinct (xs: number[]): number[] {
  for (let i = 1; i < xs.length; i++) if (xs[i]! <= xs[i - 1]!) return [...new Set(xs)].sort((x, y) => x - y)
  return xs
}

/** Why a record's signature was not accepted. */
export type SealFailure =
  /** The batch's signature does not verify, or its proof does not give a root. */
  | 'bad-signature'
  /** The signer signed a live state stamped by another node (only deletions may be derived). */
  | 'not-signer'

export type SealCheck =
  | { readonly ok: true, readonly batch: number, readonly leaf: number }
  | { readonly ok: false, readonly why: SealFailure, readonly signer: NodeId, readonly batch: number }
  | undefined

export interface VerifiedPage {
  /** The batches that verified, as the receiver stores them (the page's leaves and proof known). */
  readonly batches: ReadonlyArray<SignedBatch | undefined>
  /** Per record: signed (index into `batches`), refused (why), or undefined (unsigned). */
  readonly checks: readonly SealCheck[]
}

/**
 * Checks the seals of a page against its records. Each batch: positions in range and distinct,
 * every state one its signer may sign, the root rebuilt from the records and the proof, the
 * signature valid for the signer's key.
 */
export function verifyPage (records: readonly MemoryRecord[], seals: PageSeals, verifier: SignatureVerifier): VerifiedPage {
  const steps = verifyPageSteps(records, seals, verifier)
  for (;;) {
    const step = steps.next()
    if (step.done === true) return step.value
  }
}

/**
 * verifyPage one batch at a time: the generator yields after each batch, so a caller may let
 * other work run between them (a page can hold thousands of single-record batches).
 */
export function * verifyPageSteps (records: readonly MemoryRecord[], seals: PageSeals, verifier: SignatureVerifier): Generator<void, VerifiedPage> {
  const members: number[][] = seals.batches.map(() => [])
  for (let i = 0; i < records.length; i++) {
    const ref = seals.refs[i]
    if (ref !== undefined && ref.batch >= 0 && ref.batch < members.length) members[ref.batch]!.push(i)
  }
  const batches: Array<SignedBatch | undefined> = []
  const failures: Array<SealFailure | undefined> = []
  for (let b = 0; b < seals.batches.length; b++) {
    const outcome = verifyBatch(seals.batches[b]!, members[b]!, records, seals.refs, verifier)
    batches.push(typeof outcome === 'string' ? undefined : outcome)
    failures.push(typeof outcome === 'string' ? outcome : undefined)
    yield
  }
  const checks: SealCheck[] = records.map((_, i) => {
    const ref = seals.refs[i]
    if (ref === undefined) return undefined
    const batch = seals.batches[ref.batch]
    if (batch === undefined) return { ok: false, why: 'bad-signature', signer: records[i]!.hlc.node, batch: ref.batch }
    const why = failures[ref.batch]
    return why === undefined ? { ok: true, batch: ref.batch, leaf: ref.leaf } : { ok: false, why, signer: batch.signer, batch: ref.batch }
  })
  return { batches, checks }
}

function verifyBatch (batch: BatchProof, members: readonly number[], records: readonly MemoryRecord[],
  refs: PageSeals['refs'], verifier: SignatureVerifier): SignedBatch | SealFailure {
  const { n } = batch
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_BATCH_LEAVES || batch.proof.length > n || batch.sig.byteLength !== SIGNATURE_BYTES) return 'bad-signature'
  if (members.length === 0) return 'bad-signature'
  // By leaf position (a page lists a batch's records in leaf order, so the sort is rarely needed)
  let order = members
  for (let j = 1; j < members.length; j++) {
    if (refs[members[j]!]!.leaf < refs[members[j - 1]!]!.leaf) { order = [...members].sort((a, b) => refs[a]!.leaf - refs[b]!.leaf); break }
  }
  const positions: number[] = new Array<number>(order.length)
  const leaves: Uint8Array[] = new Array<Uint8Array>(order.length)
  // the leaf hashes side by side in one array, each leaf a view of it
  const hashes = new Uint8Array(order.length * HASH_BYTES)
  for (let j = 0; j < order.length; j++) {
    const leaf = refs[order[j]!]!.leaf
    const record = records[order[j]!]!
    if (!Number.isSafeInteger(leaf) || leaf < 0 || leaf >= n) return 'bad-signature'
    if (j > 0 && positions[j - 1] === leaf) return 'bad-signature'
    if (!maySign(record, batch.signer)) return 'not-signer'
    positions[j] = leaf
    leafHashInto(record, hashes, j * HASH_BYTES)
    leaves[j] = hashes.subarray(j * HASH_BYTES, (j + 1) * HASH_BYTES)
  }
  const rebuilt = rootFromProof(n, positions, leaves, batch.proof)
  if (rebuilt === undefined) return 'bad-signature'
  const header = { signer: batch.signer, at: batch.at, n, root: rebuilt.root }
  if (!verifier.verify(batch.signer, batchMessage(header), batch.sig)) return 'bad-signature'
  const known = new KnownHashes(n, rebuilt.nodes)
  for (let i = 0; i < positions.length; i++) known.addLeaf(positions[i]!, leaves[i]!)
  return { header, sig: batch.sig, known }
}

// ---- batches in messages ----------------------------------------------------------------------

const isUint = (v: unknown, max: number): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max
const bad = (field: string, problem: string): EngramError => PROTOCOL(`${field}: ${problem}`, { field })

/**
 * A batch as a message carries it, `[signer, wall, counter, n, sig, proof]`, checked: `signer`
 * and the bytes of `sig` and `proof` are read by the message's own encoding (`signerOf`,
 * `bytesOf`: undefined when not readable). Any failure is a PROTOCOL error naming the field.
 */
export function batchFromTuple (t: unknown, field: string, signerOf: (v: unknown) => NodeId | undefined, bytesOf: (v: unknown) => Uint8Array | undefined): BatchProof {
  if (!Array.isArray(t) || t.length < 6) throw bad(field, 'must be a batch [signer, wall, counter, n, sig, proof]')
  const [s, wall, counter, n, sigValue, proofValue] = t as unknown[]
  const signer = signerOf(s)
  if (signer === undefined) throw bad(`${field}[0]`, 'must name the signer (a node id, or an index into the message\'s nodes)')
  if (!isUint(wall, MAX_WALL)) throw bad(`${field}[1]`, `must be an integer from 0 to ${MAX_WALL}`)
  if (!isUint(counter, MAX_COUNTER)) throw bad(`${field}[2]`, `must be an integer from 0 to ${MAX_COUNTER}`)
  if (!isUint(n, MAX_BATCH_LEAVES) || n < 1) throw bad(`${field}[3]`, `must be an integer from 1 to ${MAX_BATCH_LEAVES}`)
  const sig = bytesOf(sigValue)
  if (sig?.byteLength !== SIGNATURE_BYTES) throw bad(`${field}[4]`, `must be a ${SIGNATURE_BYTES}-byte signature`)
  const proof = bytesOf(proofValue)
  if (proof === undefined || proof.byteLength % HASH_BYTES !== 0 || proof.byteLength > n * HASH_BYTES) {
    throw bad(`${field}[5]`, `must be whole ${HASH_BYTES}-byte hashes, at most one per leaf`)
  }
  const hashes: Uint8Array[] = []
  for (let p = 0; p < proof.byteLength; p += HASH_BYTES) hashes.push(proof.slice(p, p + HASH_BYTES))
  return { signer, at: { wall, counter }, n, sig, proof: hashes }
}

/** Whether sealRefFrom takes `[batch, leaf]` in a message with `batches` batches. */
export function isSealRef (batch: unknown, leaf: unknown, batches: number): batch is number {
  return isUint(batch, batches - 1) && isUint(leaf, MAX_BATCH_LEAVES - 1)
}

/** The `[batch, leaf]` of a record in a message with `batches` batches, checked (PROTOCOL naming `field`). */
export function sealRefFrom (batch: unknown, leaf: unknown, batches: number, field: string): SealRef {
  if (!isUint(batch, batches - 1)) throw bad(`${field}[0]`, `must be an index into batches (0 to ${batches - 1})`)
  if (!isUint(leaf, MAX_BATCH_LEAVES - 1)) throw bad(`${field}[1]`, 'must be a leaf position')
  return { batch, leaf }
}
