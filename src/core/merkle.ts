/**
 * The hash tree of a signed batch (docs/DATA-MODEL.md, "Signed records"): the Merkle tree hash of
 * RFC 6962 §2.1 over the batch's leaf hashes, with BLAKE3-256:
 *
 *   MTH({d0})  = leaf hash d0                       (leaf = BLAKE3(0x00 ‖ state), see signing.ts)
 *   MTH(D[n])  = BLAKE3(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))   k = the largest power of two < n
 *
 * A page carries only some leaves of a batch. The **proof** for a set P of leaf positions is the
 * list of MTH of every maximal subtree that holds no position of P, depth first, left to right;
 * with the leaves of P it gives back the root, and nothing else does. A contiguous run of leaves
 * needs at most 2·log2(n) hashes, so a page that carries most of a large batch carries a few
 * hundred bytes of proof, not 32 bytes per absent record.
 *
 * Every node keeps, per batch, the hashes it knows (`KnownHashes`): the origin all leaves, a
 * receiver the leaves it received plus the proof nodes that came with them. That is enough to
 * prove any subset of the leaves it holds to the next node, without reading a record.
 */
import { INTERNAL } from './errors.ts'
import { blake3, blake3Into } from './hash.ts'

export const HASH_BYTES = 32

/** Largest number of leaves of a batch received from a peer (local batches hold at most LIMITS.batchRecords). */
export const MAX_BATCH_LEAVES = 1 << 20

const nodeInput = new Uint8Array(1 + 2 * HASH_BYTES)
nodeInput[0] = 0x01

/** BLAKE3(0x01 ‖ left ‖ right). */
export function nodeHash (left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeInput.set(left, 1)
  nodeInput.set(right, 1 + HASH_BYTES)
  return blake3(nodeInput)
}

/** The largest power of two below n (n ≥ 2): where RFC 6962 splits a tree of n leaves. */
export function splitPoint (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/** MTH of `leaves` (at least one). */
export function treeRoot (leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) throw INTERNAL('a batch has at least one leaf')
  const hash = (start: number, size: number): Uint8Array => {
    if (size === 1) return leaves[start]!
    const k = splitPoint(size)
    return nodeHash(hash(start, k), hash(start + k, size - k))
  }
  return hash(0, leaves.length)
}

/** A subtree: `size` leaves from position `start`, and its hash. */
export interface TreeNode {
  readonly start: number
  readonly size: number
  readonly hash: Uint8Array
}

const nodeKey = (start: number, size: number): number => start * (MAX_BATCH_LEAVES * 2) + size

/**
 * The hashes of one batch's tree a node knows: some leaves (size 1) and some larger subtrees.
 * Serialized (`encode`) as a sequence of `uvarint(start) uvarint(size) hash`, sorted by start
 * then size. Leaves are kept by position (a batch's signer knows all of them, a receiver most),
 * larger subtrees in a map: reading, writing and merging a batch of many leaves makes no object
 * per leaf.
 */
export class KnownHashes {
  readonly n: number
  /** Leaf hashes by position. */
  private readonly leaves = new Map<number, Uint8Array>()
  /** Whether `leaves` was filled in ascending position (then its order is the encoding's). */
  private ascending = true
  private lastLeaf = -1
  private readonly nodes = new Map<number, TreeNode>()
  /** Inner hashes computed while proving (not part of what is known or encoded; reused by later proofs). */
  readonly derived = new Map<number, Uint8Array>()

  constructor (n: number, nodes: Iterable<TreeNode> = []) {
    this.n = n
    for (const node of nodes) this.add(node)
  }

  /** The hashes of all leaves of a batch (what its signer knows). */
  static ofLeaves (leaves: readonly Uint8Array[]): KnownHashes {
    const known = new KnownHashes(leaves.length)
    for (let i = 0; i < leaves.length; i++) known.addLeaf(i, leaves[i]!)
    return known
  }

  get size (): number {
    return this.leaves.size + this.nodes.size
  }

  get (start: number, size: number): Uint8Array | undefined {
    return size === 1 ? this.leaves.get(start) : this.nodes.get(nodeKey(start, size))?.hash
  }

  add (node: TreeNode): void {
    if (node.size === 1) this.addLeaf(node.start, node.hash)
    else this.nodes.set(nodeKey(node.start, node.size), node)
  }

  /** The hash of the leaf at `start` (as add() of a subtree of size 1, without the object). */
  addLeaf (start: number, hash: Uint8Array): void {
    if (start <= this.lastLeaf && !this.leaves.has(start)) this.ascending = false
    if (start > this.lastLeaf) this.lastLeaf = start
    this.leaves.set(start, hash)
  }

  /** Adds every hash `other` knows. */
  merge (other: Iterable<TreeNode>): void {
    if (other instanceof KnownHashes) {
      // forEach, not for…of: no entry array per leaf (a batch merged per page holds thousands)
      other.leaves.forEach((hash, start) => this.addLeaf(start, hash))
      for (const node of other.nodes.values()) this.add(node)
      return
    }
    for (const node of other) this.add(node)
  }

  * [Symbol.iterator] (): IterableIterator<TreeNode> {
    for (const [start, hash] of this.leaves) yield { start, size: 1, hash }
    yield * this.nodes.values()
  }

  encode (): Uint8Array {
    const inner = [...this.nodes.values()].sort((a, b) => a.start - b.start || a.size - b.size)
    const out = Buffer.alloc(this.size * (HASH_BYTES + 8))
    let p = 0
    const uvarint = (v: number): void => {
      while (v >= 0x80) { out[p++] = (v & 0x7f) | 0x80; v = Math.floor(v / 128) }
      out[p++] = v
    }
    const put = (start: number, size: number, hash: Uint8Array): void => {
      uvarint(start)
      uvarint(size)
      out.set(hash, p)
      p += HASH_BYTES
    }
    // By start, then size: a leaf comes before the larger subtrees starting where it does.
    const leaves = this.ascending ? this.leaves : new Map([...this.leaves].sort((a, b) => a[0] - b[0]))
    let next = 0
    leaves.forEach((hash, i) => {
      for (; next < inner.length && inner[next]!.start < i; next++) put(inner[next]!.start, inner[next]!.size, inner[next]!.hash)
      put(i, 1, hash)
    })
    for (; next < inner.length; next++) put(inner[next]!.start, inner[next]!.size, inner[next]!.hash)
    return new Uint8Array(out.buffer, out.byteOffset, p)
  }

  /**
   * Reads what `encode` wrote; throws INTERNAL on bytes it did not write (a damaged store). The
   * hashes read are views of `bytes`, which the caller hands over.
   */
  static decode (n: number, bytes: Uint8Array): KnownHashes {
    const known = new KnownHashes(n)
    let p = 0
    const uvarint = (): number => {
      let v = 0
      let scale = 1
      for (let i = 0; i < 5; i++) {
        const b = bytes[p++]
        if (b === undefined) throw INTERNAL('a batch\'s stored hashes are cut short')
        v += (b & 0x7f) * scale
        if (b < 0x80) return v
        scale *= 128
      }
      throw INTERNAL('a batch\'s stored hashes hold an over-long number')
    }
    while (p < bytes.length) {
      const start = uvarint()
      const size = uvarint()
      if (p + HASH_BYTES > bytes.length || size < 1 || start + size > n) throw INTERNAL('a batch\'s stored hashes are damaged')
      const hash = bytes.subarray(p, p + HASH_BYTES)
      if (size === 1) known.addLeaf(start, hash)
      else known.add({ start, size, hash })
      p += HASH_BYTES
    }
    return known
  }
}

/** True when the sorted positions hold one in [start, start + size). */
function anyIn (positions: readonly number[], start: number, size: number): boolean {
  let lo = 0
  let hi = positions.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (positions[mid]! < start) lo = mid + 1
    else hi = mid
  }
  return lo < positions.length && positions[lo]! < start + size
}

/**
 * The proof for the leaf positions `positions` (sorted, distinct, each below n), from the hashes
 * a node knows. Throws INTERNAL when `known` cannot give a subtree the proof needs (a node only
 * proves leaves it holds, which it always can).
 */
export function proveLeaves (known: KnownHashes, positions: readonly number[]): Uint8Array[] {
  const memo = known.derived
  const hashOf = (start: number, size: number): Uint8Array => {
    const stored = known.get(start, size)
    if (stored !== undefined) return stored
    const key = nodeKey(start, size)
    const cached = memo.get(key)
    if (cached !== undefined) return cached
    if (size === 1) throw INTERNAL('a batch proof needs a leaf hash this node does not know', { start })
    const k = splitPoint(size)
    const h = nodeHash(hashOf(start, k), hashOf(start + k, size - k))
    memo.set(key, h)
    return h
  }
  const proof: Uint8Array[] = []
  const walk = (start: number, size: number): void => {
    if (!anyIn(positions, start, size)) { proof.push(hashOf(start, size)); return }
    if (size === 1) return
    const k = splitPoint(size)
    walk(start, k)
    walk(start + k, size - k)
  }
  walk(0, known.n)
  return proof
}

export interface Rebuilt {
  readonly root: Uint8Array
  /** The proof's subtrees with their positions (what a receiver adds to its KnownHashes). */
  readonly nodes: readonly TreeNode[]
}

/**
 * Per depth of rootFromProof's walk, the input of an inner node's hash, 0x01 ‖ left ‖ right: the
 * children write their hashes straight into it, so a walk makes no array per inner node (a page
 * of a batch of 10,000 leaves rebuilds about 10,000 of them).
 */
const walkInputs: Uint8Array[] = []

function walkInput (depth: number): Uint8Array {
  let input = walkInputs[depth]
  if (input === undefined) {
    input = new Uint8Array(1 + 2 * HASH_BYTES)
    input[0] = 0x01
    walkInputs[depth] = input
  }
  return input
}

/**
 * The root that the leaves at `positions` (sorted, distinct, below n; `leaves[i]` the hash at
 * `positions[i]`) and `proof` give, or undefined when the proof has too few or too many hashes.
 */
export function rootFromProof (n: number, positions: readonly number[], leaves: readonly Uint8Array[], proof: readonly Uint8Array[]): Rebuilt | undefined {
  let next = 0
  let leaf = 0
  const nodes: TreeNode[] = []
  // the hash of the subtree written into `out` at `at`; false when the proof runs short
  const walk = (start: number, size: number, depth: number, out: Uint8Array, at: number): boolean => {
    let hash: Uint8Array | undefined
    if (!anyIn(positions, start, size)) {
      hash = proof[next++]
      if (hash === undefined) return false
      nodes.push({ start, size, hash })
    } else if (size === 1) {
      hash = leaves[leaf++]
      if (hash === undefined) return false
    } else {
      const k = splitPoint(size)
      const input = walkInput(depth)
      if (!walk(start, k, depth + 1, input, 1) || !walk(start + k, size - k, depth + 1, input, 1 + HASH_BYTES)) return false
      blake3Into(input, HASH_BYTES, out, at)
      return true
    }
    out.set(hash, at)
    return true
  }
  const root = new Uint8Array(HASH_BYTES)
  if (!walk(0, n, 0, root, 0) || next !== proof.length) return undefined
  return { root, nodes }
}
