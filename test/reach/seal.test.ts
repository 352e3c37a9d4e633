/**
 * The key hierarchy and mailbox sealing: keys derived one way and apart; a sealed page opens with
 * the group's key only; any changed byte (header, nonce, ciphertext, tag) makes it fail to open;
 * another seed gets nothing it can open; the sealed bytes hold none of the plaintext.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { formatAdmissionKey, seedKeys, seedKeysFromRoot, parseAdmissionKey } from '../../src/core/seedKeys.ts'
import { openPage, readHeader, sealPage, type SealKey } from '../../src/protocol/mailbox/seal.ts'
import { isEngramError } from '../../src/core/errors.ts'
import { blake3 } from '../../src/core/hash.ts'
import { derivePrivateNetworkKey } from '../../src/transport/libp2p/privateNetwork.ts'
import { seedFor } from '../support/seed.ts'

const SEED = seedFor(1616)
const WRITER = '12D3KooWGzx9pWqLhJ3R4ZbW1uGcWq5nYb5xV9Yt1w2x3y4z5A6B'

async function sealKey (seed: string): Promise<SealKey> {
  const k = await seedKeys(seed)
  return { key: k.seal, keyId: k.keyId }
}

describe('group keys', () => {
  it('derives distinct keys, the same ones for the same seed, and prints the admission key as 64 hex digits', async () => {
    const a = await seedKeys('seed-one')
    const again = seedKeysFromRoot(new Uint8Array(32))
    assert.notDeepEqual(a.relay, a.seal)
    assert.equal(a.keyId.byteLength, 8)
    assert.deepEqual(await seedKeys('seed-one'), a)
    assert.notDeepEqual((await seedKeys('seed-two')).relay, a.relay)
    assert.notDeepEqual(again.relay, a.relay)
    const printed = formatAdmissionKey(a.relay)
    assert.match(printed, /^[0-9a-f]{64}$/)
    assert.deepEqual(parseAdmissionKey(printed, 'k'), a.relay)
    assert.throws(() => parseAdmissionKey('xyz', 'p2p.relay.admissionKeys[0]'), /p2p\.relay\.admissionKeys\[0\].*64 hexadecimal/)
  })

  it('is one hierarchy: the TCP private network key is the root, the others are the documented labelled hashes of it', async () => {
    const k = await seedKeys('seed-one')
    assert.deepEqual(k.privateNetwork, await derivePrivateNetworkKey('seed-one'))
    const labelled = (label: string, key: Uint8Array): Uint8Array => blake3(new Uint8Array([...new TextEncoder().encode(label), 0, ...key]))
    assert.deepEqual(k.relay, labelled('engram/relay-admission/v1', k.privateNetwork))
    assert.deepEqual(k.seal, labelled('engram/mailbox-seal/v1', k.privateNetwork))
    assert.deepEqual(k.keyId, labelled('engram/mailbox-key-id/v1', k.seal).slice(0, 8))
    for (const derived of [k.relay, k.seal]) assert.notDeepEqual(derived, k.privateNetwork)
  })
})

describe('sealed mailbox pages', () => {
  it('opens with the group key; the header is readable, the content is not', async () => {
    const k = await sealKey('seed-one')
    const text = 'user:alice prefers:editor "vim" — a secret preference'
    const page = sealPage(k, WRITER, 5, 9, new TextEncoder().encode(text))
    assert.deepEqual({ ...readHeader(page), bodyAt: 0 }, { keyId: k.keyId, writer: WRITER, from: 5, to: 9, bodyAt: 0 })
    assert.ok(!Buffer.from(page).includes(Buffer.from('alice')), 'no plaintext in the sealed page')
    assert.ok(!Buffer.from(page).includes(Buffer.from(k.key)), 'no key in the sealed page')
    const opened = openPage([k], page)
    assert.ok('plaintext' in opened)
    assert.equal(new TextDecoder().decode(opened.plaintext), text)
    const again = sealPage(k, WRITER, 5, 9, new TextEncoder().encode(text))
    assert.notDeepEqual(again.subarray(-40), page.subarray(-40), 'a fresh nonce each time')
  })

  it('a member with another seed gets nothing it can open', async () => {
    const page = sealPage(await sealKey('seed-one'), WRITER, 1, 1, new Uint8Array([1, 2, 3]))
    const other = await sealKey('seed-two')
    assert.equal((openPage([other], page) as { failure: string }).failure, 'unknown key')
    // even with the key id forged to match, the other key does not open it
    assert.equal((openPage([{ key: other.key, keyId: readHeader(page).keyId }], page) as { failure: string }).failure, 'tampered')
  })

  it('any changed byte makes the page fail to open (fast-check, seed 1616)', async () => {
    const k = await sealKey('seed-one')
    const page = sealPage(k, WRITER, 3, 7, new TextEncoder().encode('some rows of changes'))
    fc.assert(fc.property(fc.integer({ min: 0, max: page.byteLength - 1 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
      const bad = Uint8Array.from(page)
      bad[at] = (bad[at] as number) ^ flip
      try {
        const r = openPage([k], bad)
        return 'failure' in r
      } catch (e) {
        return isEngramError(e) && e.code === 'PROTOCOL'
      }
    }), { seed: SEED, numRuns: 2000 })
  })
})
