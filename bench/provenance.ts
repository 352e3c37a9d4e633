/**
 * Provenance benchmark: what signing, verification and history cost. In one run, on files in a
 * fresh temporary directory, with real Ed25519 keys:
 *
 * - sign_us_per_record_single / verify_us_per_record_single: a live write (a batch of one
 *   record): sealing it (leaf, root, signature) and checking it on a receiver (verifyPage).
 * - sign_us_per_record_10k / verify_us_per_record_5k: a bulk write sealed as one batch of
 *   10,000, and a page of 5,000 of its records (half the batch, with its proof) verified.
 * - insert_*: Engine.addTriples of `rows` triples in batches of 10,000 into a fresh SqliteStore,
 *   signed and unsigned (best of two each, in the order unsigned, signed, signed, unsigned); insert_signed_ratio = signed / unsigned
 *   (goal ≥ 0.7).
 * - apply_*: a receiver's side of a catch-up at the engine: the source's feed in pages of 5,000
 *   applied with Engine.applyChecked into a fresh store, with the pages' signatures verified
 *   and kept, and without (best of two each, in the same order; the source reading a page and proving it is not
 *   timed, as it is the sender's work); apply_verified_ratio = verified / unverified
 *   (goal ≥ 0.6; the end-to-end bootstrap ratio over QUIC is in the native benchmark).
 * - history_bytes_per_superseded_note / _triple: store file growth per replaced state kept as
 *   history (10,000 notes of ~60-byte values overwritten once; 10,000 triples deleted).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { NodeId } from '../src/core/ids.ts'
import type { MemoryRecord } from '../src/core/model.ts'
import { KnownHashes } from '../src/core/merkle.ts'
import { makeTriple } from '../src/core/records.ts'
import { sealPage, verifyPage } from '../src/core/seals.ts'
import { sealBatch, type Signer } from '../src/core/signing.ts'
import { Engine } from '../src/engine/Engine.ts'
import { newSigningIdentity, NodeKeyVerifier } from '../src/node/keys.ts'
import { SqliteStore } from '../src/store/sqlite/SqliteStore.ts'
import { benchInput } from './store.ts'

const BATCH = 10_000
const PAGE = 5_000

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits

function triples (node: NodeId, n: number, offset = 0): MemoryRecord[] {
  return Array.from({ length: n }, (_, i) => makeTriple(
    { subject: `ns${i % 16}:e${offset + i}`, predicate: 'rel', object: { kind: 'string', value: `value ${offset + i}` } },
    { wall: 1_763_631_000_000 + offset + i, counter: 0, node }))
}

/** µs per call of `fn` over `n` calls. */
function perCall (n: number, fn: (i: number) => void): number {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) fn(i)
  return ((performance.now() - t0) * 1000) / n
}

function signVerify (node: NodeId, signer: Signer): Record<string, number> {
  const verifier = new NodeKeyVerifier()
  const singles = triples(node, 2000)
  const at = { wall: 1_763_632_000_000, counter: 0 }
  const sealed = singles.map(r => sealBatch([r], signer, at))
  const signSingle = perCall(2000, i => sealBatch([singles[i]!], signer, at))
  const verifySingle = perCall(2000, i => {
    const b = sealed[i]!
    const page = verifyPage([singles[i]!], { batches: [{ signer: b.header.signer, at, n: 1, sig: b.sig, proof: [] }], refs: [{ batch: 0, leaf: 0 }] }, verifier)
    if (page.checks[0]?.ok !== true) throw new Error('a single record did not verify')
  })
  const bulk = triples(node, BATCH, 10_000)
  let big = sealBatch(bulk, signer, at)
  const signBulk = perCall(3, () => { big = sealBatch(bulk, signer, at) }) / BATCH
  const half = Array.from({ length: PAGE }, (_, i) => ({ seal: { batch: 1, leaf: i + 2500 } }))
  const seals = sealPage(half, () => ({ ...big, known: KnownHashes.ofLeaves([...big.known].sort((a, b) => a.start - b.start).map(n => n.hash)) }))
  const page = bulk.slice(2500, 2500 + PAGE)
  const verifyBulk = perCall(5, () => {
    if (!verifyPage(page, seals, verifier).checks.every(c => c?.ok === true)) throw new Error('the page did not verify')
  }) / PAGE
  return {
    sign_us_per_record_single: round(signSingle, 1),
    verify_us_per_record_single: round(verifySingle, 1),
    sign_us_per_record_10k: round(signBulk, 2),
    verify_us_per_record_5k: round(verifyBulk, 2)
  }
}

/** Seconds to add `rows` triples in batches of 10,000 to a fresh store, signed or not. */
function insertSeconds (file: string, rows: number, node: NodeId, signer: Signer | undefined): number {
  const store = SqliteStore.open(file)
  try {
    const engine = new Engine({ store, node, maxDriftMs: 60_000, ...(signer !== undefined ? { signer } : {}) })
    let ms = 0
    for (let i = 0; i < rows; i += BATCH) {
      const inputs = Array.from({ length: Math.min(BATCH, rows - i) }, (_, j) => benchInput(i + j))
      const t0 = performance.now()
      engine.addTriples(inputs)
      ms += performance.now() - t0
    }
    return ms / 1000
  } finally {
    store.close()
  }
}

/** Seconds to apply `source`'s feed to a fresh store in pages of 5,000, verifying and keeping signatures or not. */
function applySeconds (source: SqliteStore, file: string, node: NodeId, verified: boolean): number {
  const store = SqliteStore.open(file)
  try {
    const engine = new Engine({ store, node, maxDriftMs: 60_000, ...(verified ? { verifier: new NodeKeyVerifier() } : {}) })
    let ms = 0
    let after = 0
    for (let guard = 0; guard < 1_000_000; guard++) {
      const page = source.changesSince(after, { limit: PAGE })
      const records = page.entries.map(e => e.record)
      // The page's proofs are the sender's work (on another machine; the native benchmark's
      // bootstrap has both sides): what is timed is the receiver's.
      const seals = verified ? sealPage(page.entries, id => source.getBatch(id)) : undefined
      const t0 = performance.now()
      const r = engine.applyChecked(records, { via: source.kind as NodeId, cursor: { peer: 'source' as NodeId, seq: page.lastSeq }, ...(seals !== undefined ? { seals } : {}) })
      ms += performance.now() - t0
      if (r.refused.length > 0) throw new Error(`${r.refused.length} records refused`)
      after = page.lastSeq
      if (!page.hasMore) break
    }
    if (verified && store.provenanceStats().unsigned !== 0) throw new Error('verified records were stored unsigned')
    return ms / 1000
  } finally {
    store.close()
  }
}

/** File growth per replaced state kept in history. */
function historyBytes (dir: string, node: NodeId): { note: number, triple: number } {
  const file = join(dir, 'history.db')
  // 20,000 single-note transactions: not fsynced one by one (what is measured is bytes, not time).
  const store = SqliteStore.open(file, { synchronous: 'normal' })
  const size = (): number => { store.integrityCheck(); return statSync(file).size + (statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0) }
  try {
    const engine = new Engine({ store, node, maxDriftMs: 60_000 })
    const n = 10_000
    for (let i = 0; i < n; i++) engine.setNote(`project:p${i % 50}/note-${i}`, { text: `the first value of note ${i}, about sixty bytes long` })
    const s0 = size()
    for (let i = 0; i < n; i++) engine.setNote(`project:p${i % 50}/note-${i}`, { text: `the second value of note ${i}, about sixty bytes long` })
    const s1 = size()
    engine.addTriples(Array.from({ length: n }, (_, i) => benchInput(i)))
    const s2 = size()
    engine.deleteTriples({ namespace: 'ns0' })
    const deleted = store.stats().tripleTombstones
    for (let k = 1; k < 16; k++) engine.deleteTriples({ namespace: `ns${k}` })
    const s3 = size()
    return { note: (s1 - s0) / n, triple: (s3 - s2) / (deleted * 16) }
  } finally {
    store.close()
  }
}

export async function benchProvenance (opts: { rows: number }): Promise<Record<string, number>> {
  const rows = Math.min(opts.rows, 100_000)
  const dir = mkdtempSync(join(tmpdir(), 'engram-bench-prov-'))
  try {
    const { node, signer } = await newSigningIdentity()
    const costs = signVerify(node, signer)
    let signed = Infinity
    let plain = Infinity
    // In the order plain, signed, signed, plain: a machine that slows down or speeds up during the
    // runs weighs on both alike.
    for (const run of [0, 1]) {
      const insertPlain = (): void => { plain = Math.min(plain, insertSeconds(join(dir, `plain${run}.db`), rows, node, undefined)) }
      const insertSigned = (): void => { signed = Math.min(signed, insertSeconds(join(dir, `signed${run}.db`), rows, node, signer)) }
      if (run === 0) { insertPlain(); insertSigned() } else { insertSigned(); insertPlain() }
    }
    const source = SqliteStore.open(join(dir, 'signed0.db'))
    let verified = Infinity
    let unverified = Infinity
    try {
      for (const run of [0, 1]) {
        const receiver = (await newSigningIdentity()).node
        const applyPlain = (): void => { unverified = Math.min(unverified, applySeconds(source, join(dir, `apply-plain${run}.db`), receiver, false)) }
        const applyVerified = (): void => { verified = Math.min(verified, applySeconds(source, join(dir, `apply-verified${run}.db`), receiver, true)) }
        if (run === 0) { applyPlain(); applyVerified() } else { applyVerified(); applyPlain() }
      }
    } finally {
      source.close()
    }
    const history = historyBytes(dir, node)
    return {
      rows,
      ...costs,
      insert_unsigned_triples_per_s: Math.round(rows / plain),
      insert_signed_triples_per_s: Math.round(rows / signed),
      insert_signed_ratio: round(plain / signed, 3),
      apply_unverified_triples_per_s: Math.round(rows / unverified),
      apply_verified_triples_per_s: Math.round(rows / verified),
      apply_verified_ratio: round(unverified / verified, 3),
      history_bytes_per_superseded_note: Math.round(history.note),
      history_bytes_per_superseded_triple: Math.round(history.triple)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
