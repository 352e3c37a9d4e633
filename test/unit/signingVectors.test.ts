/**
 * The golden vectors of the signed form (test/fixtures/signing-vectors.json, written by
 * scripts/gen-signing-vectors.ts) against core/signing.ts and core/merkle.ts: if the spec in
 * docs/DATA-MODEL.md and the implementation drift apart, the vectors say so.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { bytesToHex, hexToBytes } from '../../src/core/hash.ts'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import { KnownHashes, proveLeaves, rootFromProof, treeRoot } from '../../src/core/merkle.ts'
import { checkRecord } from '../../src/core/records.ts'
import { batchMessage, leafHash, stateBytes } from '../../src/core/signing.ts'
import { identitySigner, NodeKeyVerifier } from '../../src/node/keys.ts'

interface Fixture {
  key: { seedHex: string, publicKeyHex: string, node: string }
  states: Array<{ name: string, record: unknown, stateHex: string, leafHex: string }>
  batch: { signer: string, at: { wall: number, counter: number }, n: number, rootHex: string, messageHex: string, sigHex: string }
  proof: { positions: number[], hashesHex: string[] }
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/signing-vectors.json', import.meta.url), 'utf8')) as Fixture

describe('golden vectors of the signed form (test/fixtures/signing-vectors.json)', () => {
  const records = fixture.states.map((s, i) => checkRecord(s.record, `states[${i}]`))

  it('every state encodes and hashes to its vector', () => {
    for (let i = 0; i < records.length; i++) {
      assert.equal(bytesToHex(stateBytes(records[i]!)), fixture.states[i]!.stateHex, fixture.states[i]!.name)
      assert.equal(bytesToHex(leafHash(records[i]!)), fixture.states[i]!.leafHex, fixture.states[i]!.name)
    }
  })

  it('the batch gives its root, message and signature; the signature verifies against the node id alone', async () => {
    const b = fixture.batch
    const root = treeRoot(records.map(leafHash))
    assert.equal(bytesToHex(root), b.rootHex)
    const message = batchMessage({ signer: b.signer as NodeId, at: b.at, n: b.n, root })
    assert.equal(bytesToHex(message), b.messageHex)
    const key = await generateKeyPairFromSeed('Ed25519', hexToBytes(fixture.key.seedHex))
    assert.equal(bytesToHex(key.publicKey.raw), fixture.key.publicKeyHex)
    const node = asNodeId(peerIdFromPrivateKey(key).toString())
    assert.equal(node, fixture.key.node)
    assert.equal(bytesToHex(identitySigner(key, node).sign(message)), b.sigHex, 'Ed25519 is deterministic')
    const verifier = new NodeKeyVerifier()
    assert.equal(verifier.verify(node, message, hexToBytes(b.sigHex)), true)
    const flipped = hexToBytes(b.sigHex)
    flipped[0]! ^= 1
    assert.equal(verifier.verify(node, message, flipped), false)
  })

  it('the proof of part of the batch is the vector, and gives the root back', () => {
    const { positions, hashesHex } = fixture.proof
    const leaves = records.map(leafHash)
    assert.deepEqual(proveLeaves(KnownHashes.ofLeaves(leaves), positions).map(bytesToHex), hashesHex)
    const rebuilt = rootFromProof(fixture.batch.n, positions, positions.map(p => leaves[p]!), hashesHex.map(hexToBytes))
    assert.equal(bytesToHex(rebuilt!.root), fixture.batch.rootHex)
  })
})
