/**
 * The signed form of records (docs/DATA-MODEL.md, "Signed records"; golden vectors in
 * test/fixtures/signing-vectors.json).
 *
 * A node signs once per local transaction: the **batch** of the states it wrote, as the root of
 * a hash tree (merkle.ts) over their leaf hashes, in the order written:
 *
 *   stamp = wall:u48-BE counter:u16-BE field(node)
 *   state = 0x01 0x01 id:32 stamp deleted:u8                          ; triple
 *         / 0x01 0x02 field(key) stamp (0x00 field(JCS(value)) / 0x01)  ; note: live / deleted
 *         / 0x01 0x03 field(id) stamp field(JCS(data))                   ; episode
 *         / 0x01 0x04 id:32 stamp                                       ; trace
 *   leaf  = BLAKE3(0x00 ‖ state)
 *   batch = "engram/batch/v1" 0x00 field(signer) wall:u48-BE counter:u16-BE uvarint(n) root:32
 *   sig   = Ed25519(signer's identity key, batch)
 *
 * `(wall, counter)` is the signer's clock when it sealed the batch. The signer is the origin of
 * every state it signs, with one exception: a **derived deletion** — a tombstone a node writes
 * with another node's stamp (the expired-cursor rule, last-writer-wins on single-valued
 * predicates) — is signed by the node that derived it. A live state whose stamp names another
 * node than its signer is never valid (`maySign`).
 *
 * Keys: a node id is the libp2p peer id of its Ed25519 identity key, so the public key is read
 * from the node id itself. Signing and verifying are a port (`Signer`, `SignatureVerifier`),
 * implemented with node:crypto outside the core.
 */
import { Bytes, canonicalJson } from './canonical.ts'
import { blake3, blake3Into } from './hash.ts'
import type { HlcMark, Hlc } from './hlc.ts'
import type { NodeId } from './ids.ts'
import { HASH_BYTES, KnownHashes, treeRoot } from './merkle.ts'
import type { MemoryRecord } from './model.ts'

export const STATE_VERSION = 0x01
export const BATCH_DOMAIN = 'engram/batch/v1'
export const SIGNATURE_BYTES = 64

const KIND_TAG = { triple: 0x01, note: 0x02, episode: 0x03, trace: 0x04 } as const

const scratch = new Bytes()

function writeStamp (out: Bytes, h: Hlc): void {
  out.uint(h.wall, 6)
  out.uint(h.counter, 2)
  out.field(h.node)
}

function writeState (out: Bytes, r: MemoryRecord): void {
  out.byte(STATE_VERSION)
  out.byte(KIND_TAG[r.kind])
  switch (r.kind) {
    case 'triple':
      out.hex32(r.id)
      writeStamp(out, r.hlc)
      out.byte(r.deleted ? 1 : 0)
      break
    case 'note':
      out.field(r.key)
      writeStamp(out, r.hlc)
      if (r.deleted) {
        out.byte(1)
      } else {
        out.byte(0)
        out.field(canonicalJson(r.value))
      }
      break
    case 'episode':
      out.field(r.id)
      writeStamp(out, r.hlc)
      out.field(canonicalJson(r.data))
      break
    case 'trace':
      out.hex32(r.id)
      writeStamp(out, r.hlc)
      break
  }
}

/** The state bytes of a record (for vectors and tools; hashing uses `leafHash`). */
export function stateBytes (r: MemoryRecord): Uint8Array {
  writeState(scratch.reset(), r)
  return scratch.result()
}

/** BLAKE3(0x00 ‖ state): the record's leaf in a batch's tree. */
export function leafHash (r: MemoryRecord): Uint8Array {
  return blake3(leafInput(r))
}

/** The leaf of `r` written into `out` at `at` (a page's leaves side by side in one array: no array per leaf). */
export function leafHashInto (r: MemoryRecord, out: Uint8Array, at: number): void {
  blake3Into(leafInput(r), HASH_BYTES, out, at)
}

function leafInput (r: MemoryRecord): Uint8Array {
  const out = scratch.reset()
  out.byte(0x00)
  writeState(out, r)
  return out.view()
}

/** What a batch's signature covers, besides the leaves: who signed, when, how many, the root. */
export interface BatchHeader {
  readonly signer: NodeId
  readonly at: HlcMark
  readonly n: number
  readonly root: Uint8Array
}

/** The bytes a batch's signer signs. */
export function batchMessage (h: BatchHeader): Uint8Array {
  const out = scratch.reset()
  for (let i = 0; i < BATCH_DOMAIN.length; i++) out.byte(BATCH_DOMAIN.charCodeAt(i))
  out.byte(0x00)
  out.field(h.signer)
  out.uint(h.at.wall, 6)
  out.uint(h.at.counter, 2)
  out.uvarint(h.n)
  out.raw(h.root)
  return scratch.result()
}

/**
 * Whether `signer` may sign this state: its own states, and deletions derived from another
 * node's state (a tombstone carrying that node's stamp).
 */
export function maySign (r: MemoryRecord, signer: NodeId): boolean {
  return r.hlc.node === signer || ((r.kind === 'triple' || r.kind === 'note') && r.deleted)
}

/** Signs with this node's identity key. */
export interface Signer {
  readonly node: NodeId
  sign (message: Uint8Array): Uint8Array
}

/** Verifies a signature against the key a node id names (false for an id that names no Ed25519 key). */
export interface SignatureVerifier {
  verify (signer: NodeId, message: Uint8Array, sig: Uint8Array): boolean
  /** Whether the node id names an Ed25519 key at all (a peer id), so the node can sign. */
  canSign (node: NodeId): boolean
}

/** A signed batch as a node stores it: the header, the signature and the tree hashes it knows. */
export interface SignedBatch {
  readonly header: BatchHeader
  readonly sig: Uint8Array
  readonly known: KnownHashes
}

/** Seals `records` (in this order) as one batch signed by `signer` at its clock mark `at`. */
export function sealBatch (records: readonly MemoryRecord[], signer: Signer, at: HlcMark): SignedBatch {
  const leaves = records.map(leafHash)
  const header: BatchHeader = { signer: signer.node, at: { wall: at.wall, counter: at.counter }, n: leaves.length, root: treeRoot(leaves) }
  return { header, sig: signer.sign(batchMessage(header)), known: KnownHashes.ofLeaves(leaves) }
}
