/**
 * The native handshake's passphrase and certificate layers (docs/PROTOCOL.md §1), in process:
 * both layers on, each failure refused with its own reason, before the refusing node proved
 * anything where the failure is visible in the peer's hello.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { asNodeId, type NodeId } from '../../src/core/ids.ts'
import {
  deriveHandshakeKey, derivePassphraseKey, runHandshake, type HandshakeCertificates, type HandshakeChannel, type HandshakeOptions
} from '../../src/protocol/native/handshake.ts'
import { Inbox } from '../../src/sync/native/Inbox.ts'
import { decodeFrame, encodeMessage, type NativeMessage } from '../../src/protocol/native/messages.ts'
import { createCa, issuePeer, type KeyAndCert } from '../../src/tls/certificates.ts'
import { NodeTls } from '../../src/tls/NodeTls.ts'

const A = asNodeId('12D3KooWNodeA')
const B = asNodeId('12D3KooWNodeB')
const FEED_A = 'a'.repeat(32)
const FEED_B = 'b'.repeat(32)
const DAY = 86_400_000
const dir = mkdtempSync(join(tmpdir(), 'engram-hs-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const ca = await createCa()
const caFile = join(dir, 'ca.crt')
writeFileSync(caFile, ca.certPem)

/** The certificate layer of a node, loaded the way a node loads it (files, NodeTls). */
async function certificates (name: string, nodeId: NodeId, over: { ca?: KeyAndCert | 'self', notBefore?: Date, notAfter?: Date, boundTo?: string } = {}): Promise<HandshakeCertificates> {
  const issued = await issuePeer({ ca: over.ca ?? ca, name, nodeId: over.boundTo ?? nodeId, ...(over.notBefore !== undefined ? { notBefore: over.notBefore, notAfter: over.notAfter } : {}) })
  const cert = join(dir, `${name}.crt`)
  const key = join(dir, `${name}.key`)
  writeFileSync(cert, issued.certPem)
  writeFileSync(key, issued.keyPem, { mode: 0o600 })
  if (over.ca === 'self' || over.boundTo !== undefined) {
    // A node refuses to start with such a certificate; the test builds its handshake layer by hand.
    const good = NodeTls.load({ cert: join(dir, 'good.crt'), key: join(dir, 'good.key'), ca: caFile, requireClientCert: false }, B)!
    return { ...good.handshake(), cert: new Uint8Array(Buffer.from(issued.certPem.replace(/-----[^-]+-----|\s/g, ''), 'base64')) }
  }
  // a node whose certificate comes from another CA has that CA as its tls.ca
  let ownCa = caFile
  if (over.ca !== undefined && over.ca !== ca) {
    ownCa = join(dir, `${name}-ca.crt`)
    writeFileSync(ownCa, over.ca.certPem)
  }
  const tls = NodeTls.load({ cert, key, ca: ownCa, requireClientCert: false }, nodeId)!
  return tls.handshake()
}

function channelPair (): [HandshakeChannel, HandshakeChannel] {
  const ia = new Inbox<NativeMessage>()
  const ib = new Inbox<NativeMessage>()
  const wire = (to: Inbox<NativeMessage>) => async (m: NativeMessage): Promise<void> => { to.push(decodeFrame(encodeMessage(m))) }
  return [{ send: wire(ib), next: ms => ia.next(ms) }, { send: wire(ia), next: ms => ib.next(ms) }]
}

type Side = Partial<Pick<HandshakeOptions, 'certificates'>> & { seed?: string, passphrase?: string }

/**
 * Runs both ends (version 2; A opens the session, so it confirms first); answers each end's
 * outcome (undefined: opened; else its error message).
 */
async function shake (a: Side, b: Side): Promise<[string | undefined, string | undefined]> {
  const [ca_, cb] = channelPair()
  const opts = (s: Side, self: NodeId, peer: NodeId, feed: string): HandshakeOptions => ({
    key: deriveHandshakeKey(s.seed ?? 'seed'),
    ...(s.passphrase !== undefined ? { passphraseKey: derivePassphraseKey(s.passphrase) } : {}),
    secrets: { seed: s.seed ?? 'seed', ...(s.passphrase !== undefined ? { passphrase: s.passphrase } : {}) },
    certificates: s.certificates, self, peer, feed, sessionId: 'session-1', initiator: self === A, timeoutMs: 500
  })
  const results = await Promise.allSettled([runHandshake(ca_, opts(a, A, B, FEED_A)), runHandshake(cb, opts(b, B, A, FEED_B))])
  return results.map(r => r.status === 'fulfilled' ? undefined : String((r.reason as Error).message)) as [string | undefined, string | undefined]
}

// the reference certificate (good.crt) of node B, used by the hand-built layers above
await certificates('good', B)

describe('native handshake: passphrase and certificates on top of the seed', () => {
  const pp = 'a long shared passphrase'

  it('opens with the same seed, passphrase and CA, certificates bound to each node', async () => {
    const [a, b] = await shake({ passphrase: pp, certificates: await certificates('a', A) }, { passphrase: pp, certificates: await certificates('b', B) })
    assert.equal(a, undefined)
    assert.equal(b, undefined)
  })

  it('a wrong passphrase is refused as a passphrase mismatch by the node that checks; the other learns nothing', async () => {
    const [a, b] = await shake({ passphrase: pp }, { passphrase: 'another passphrase' })
    assert.match(b ?? '', /^auth failed: passphrase mismatch/)
    assert.match(a ?? '', /timed out/, 'B never confirmed')
  })

  it('a passphrase set on one node only is refused, saying on which', async () => {
    const [a, b] = await shake({ passphrase: pp }, {})
    assert.match(a ?? '', /sync\.passphrase is set on this node but not on the peer/)
    assert.match(b ?? '', /sync\.passphrase is set on the peer but not on this node/)
  })

  it('a wrong seed is still refused as a seed mismatch, with the passphrase right', async () => {
    const [a, b] = await shake({ passphrase: pp }, { passphrase: pp, seed: 'another-seed' })
    assert.match(b ?? '', /p2p\.seed mismatch/)
    assert.match(a ?? '', /timed out/)
  })

  it('with TLS on, each bad certificate is refused with its reason', async () => {
    const now = Date.now()
    const cases: Array<[string, HandshakeCertificates | undefined, RegExp]> = [
      ['no certificate', undefined, /presented no certificate/],
      ['another CA', await certificates('b-other', B, { ca: await createCa({ commonName: 'other CA' }) }), /is not signed by this node's CA/],
      ['expired', await certificates('b-old', B, { notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) }), /expired on/],
      ['not yet valid', await certificates('b-early', B, { notBefore: new Date(now + DAY), notAfter: new Date(now + 30 * DAY) }), /is not valid before/],
      ['self-signed', await certificates('b-self', B, { ca: 'self' }), /is self-signed/],
      ['bound to another node', await certificates('b-stolen', B, { boundTo: A }), /binds node 12D3KooWNodeA, but the peer is node 12D3KooWNodeB/]
    ]
    const mine = await certificates('a2', A)
    for (const [what, theirs, reason] of cases) {
      const [a] = await shake({ certificates: mine }, theirs !== undefined ? { certificates: theirs } : {})
      assert.match(a ?? 'opened', reason, what)
      assert.match(a ?? '', /^auth failed: /, what)
    }
  })

  it('a certificate copied from another node is refused: the copier cannot sign with its key', async () => {
    const real = await certificates('b-real', B)
    const copier = await certificates('b-copier', B)
    const [a] = await shake({ certificates: await certificates('a3', A) }, { certificates: { ...copier, cert: real.cert } })
    assert.match(a ?? '', /did not sign with the key of its certificate/)
  })
})
