/**
 * Writes test/fixtures/signing-vectors.json: the golden vectors of the signed form of records
 * (docs/DATA-MODEL.md, "Signed records"): state bytes and leaf hashes of every kind, a batch's
 * tree root, signed message and Ed25519 signature (deterministic, RFC 8032), and a proof for part
 * of the batch. Run once; the file is committed and test/unit/signingVectors.test.ts recomputes
 * every vector, so any change to the signed form fails the tests.
 *
 *   node scripts/gen-signing-vectors.ts            # refuses to overwrite an existing file
 *   node scripts/gen-signing-vectors.ts --force    # only for a deliberate new version of the form
 *
 * The key is the one of RFC 8032's first Ed25519 test vector (its secret key is published).
 */
import { existsSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { bytesToHex, hexToBytes } from '../src/core/hash.ts'
import { asNodeId } from '../src/core/ids.ts'
import { KnownHashes, proveLeaves } from '../src/core/merkle.ts'
import type { MemoryRecord } from '../src/core/model.ts'
import { makeTrace, makeTriple, recordToPlain } from '../src/core/records.ts'
import { batchMessage, leafHash, sealBatch, stateBytes } from '../src/core/signing.ts'
import { identitySigner } from '../src/node/keys.ts'

const OUT = fileURLToPath(new URL('../test/fixtures/signing-vectors.json', import.meta.url))
const SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'

async function main (): Promise<void> {
  if (existsSync(OUT) && !process.argv.includes('--force')) {
    process.stderr.write(`${OUT} exists; the vectors are written once (use --force only for a new version of the signed form)\n`)
    process.exit(1)
  }
  const key = await generateKeyPairFromSeed('Ed25519', hexToBytes(SEED))
  const node = asNodeId(peerIdFromPrivateKey(key).toString())
  const other = asNodeId('12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf')
  const hlc = (wall: number, counter = 0, n = node): MemoryRecord['hlc'] => ({ wall, counter, node: n })
  const records: Array<[string, MemoryRecord]> = [
    ['triple', makeTriple({ subject: 'user:alice', predicate: 'prefers:editor', object: { kind: 'string', value: 'vim' } }, hlc(1_763_631_000_000))],
    ['triple, deleted', makeTriple({ subject: 'user:alice', predicate: 'prefers:editor', object: { kind: 'string', value: 'vim' } }, hlc(1_763_631_000_500, 3), true)],
    ['note', { kind: 'note', key: 'project:engram/goal', value: { tokens: 4000, b: [1, 'x'] }, hlc: hlc(1_763_631_001_000), deleted: false }],
    ['note, deleted', { kind: 'note', key: 'project:engram/limits', value: null, hlc: hlc(1_763_631_001_001, 65_535), deleted: true }],
    ['episode', { kind: 'episode', id: 'ep-1', data: { summary: 'fixed the build', agent: 'coder', tags: ['ci'] }, hlc: hlc(1_763_631_002_000) }],
    ['trace', makeTrace('run:7', 'tool_call', { tool: 'grep', ok: true }, hlc(1_763_631_003_000))],
    ['triple, deleted with another node\'s stamp (a derived deletion)', makeTriple({ subject: 'user:bob', predicate: 'likes', object: { kind: 'string', value: 'tea' } }, hlc(1_763_631_000_100, 0, other), true)]
  ]
  const signer = identitySigner(key, node)
  const at = { wall: 1_763_631_004_000, counter: 1 }
  const batch = sealBatch(records.map(([, r]) => r), signer, at)
  const part = [1, 2, 3]
  const vectors = {
    about: 'Golden vectors of the signed form of records in docs/DATA-MODEL.md ("Signed records"), version 1. Written once by scripts/gen-signing-vectors.ts; never edit by hand. ' +
      'key: the Ed25519 secret key of RFC 8032 test 1 (seed) and its node id; states[].stateHex the state bytes, leaf = BLAKE3(0x00 ‖ state); ' +
      'batch: the states in order, signed at `at` by the node; messageHex the signed bytes; proof: the hashes that prove leaves `positions` of the batch.',
    version: 1,
    key: { seedHex: SEED, publicKeyHex: bytesToHex(key.publicKey.raw), node },
    states: records.map(([name, r]) => ({ name, record: recordToPlain(r), stateHex: bytesToHex(stateBytes(r)), leafHex: bytesToHex(leafHash(r)) })),
    batch: {
      signer: node,
      at,
      n: batch.header.n,
      rootHex: bytesToHex(batch.header.root),
      messageHex: bytesToHex(batchMessage(batch.header)),
      sigHex: bytesToHex(batch.sig)
    },
    proof: { positions: part, hashesHex: proveLeaves(KnownHashes.ofLeaves(records.map(([, r]) => leafHash(r))), part).map(bytesToHex) }
  }
  writeFileSync(OUT, `${JSON.stringify(vectors, null, 2)}\n`)
  process.stdout.write(`wrote ${OUT}\n`)
}

await main()
