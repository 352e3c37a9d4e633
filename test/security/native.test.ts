/**
 * The authentication matrix over native sync (QUIC on loopback), TLS on: a daemon S (p2p.seed,
 * sync.passphrase, a certificate of the CA) is dialled repeatedly by an in-process attacker
 * over real QUIC, once per wrong credential — wrong seed, no seed, a replayed handshake,
 * another CA, expired, not yet valid, self-signed, another node's certificate, no certificate,
 * wrong or missing passphrase — each attacker then pushing forged records anyway. S opens no
 * session, writes nothing and logs one line per refusal saying why. The right peer (the same
 * attacker process with the right credentials, and a daemon G) is accepted every time.
 */
import assert from 'node:assert/strict'
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { asNodeId } from '../../src/core/ids.ts'
import { Engine } from '../../src/engine/Engine.ts'
import { MemoryStore } from '../../src/store/memory/MemoryStore.ts'
import {
  deriveHandshakeKey, derivePassphraseKey, runHandshake, type HandshakeCertificates, type HandshakeChannel
} from '../../src/protocol/native/handshake.ts'
import { Inbox } from '../../src/sync/native/Inbox.ts'
import { decodeFrame, encodeMessage, type NativeMessage } from '../../src/protocol/native/messages.ts'
import { signWith } from '../../src/tls/CertificateAuthority.ts'
import { QuicTransport } from '../../src/transport/libp2p/QuicTransport.ts'
import type { Connection } from '../../src/transport/Transport.ts'
import { sandbox, type Sandbox } from '../cli/helpers.ts'
import { freePorts, until } from '../native/daemons.ts'
import { dumpFile } from '../sync/daemons.ts'
import { PASSPHRASE, SEED, certFor, countLines, makePki, prepareNode, startSecureNode, type CertFiles, type CertKind, type Pki, type SecureNode } from './daemons.ts'

const TRIES = 5
const FEED = 'e'.repeat(32)

let box: Sandbox
let pki: Pki
let s: SecureNode
let g: SecureNode
let sAddr: string
let attacker: QuicTransport
const certs = new Map<CertKind | 'of-g', CertFiles>()

before(async () => {
  box = sandbox()
  pki = await makePki(box)
  const [sPrep, gPrep] = await Promise.all([prepareNode(box, 's'), prepareNode(box, 'g')])
  attacker = await QuicTransport.create({ host: '127.0.0.1', port: 0, handshakeTimeoutMs: 3000 })
  await attacker.start()
  for (const kind of ['good', 'other-ca', 'expired', 'not-yet-valid', 'self-signed'] as const) {
    certs.set(kind, await certFor(pki, `x-${kind}`, attacker.nodeId, kind))
  }
  certs.set('of-g', await certFor(pki, 'x-of-g', gPrep.nodeId))
  const [sPort, gPort] = await freePorts(2)
  sAddr = `127.0.0.1:${sPort}`
  const p2p = (port: number, peers: string[]): Record<string, unknown> => ({ enabled: true, port, manualPeers: peers, gossipIntervalMs: 250 })
  ;[s, g] = await Promise.all([
    startSecureNode(box, 's', { tls: await certFor(pki, 's', sPrep.nodeId), p2p: p2p(sPort!, []) }),
    startSecureNode(box, 'g', { tls: await certFor(pki, 'g', gPrep.nodeId), p2p: p2p(gPort!, [sAddr]) })
  ])
  for (let i = 0; i < 3; i++) await s.client.addTriple(`secret:s${i}`, 'is', `held by S ${i}`)
})

after(async () => {
  await attacker?.stop()
  await Promise.allSettled([s, g].filter(n => n !== undefined).map(n => n.stop()))
  box?.remove()
})

/** What one side of a handshake presents. */
interface Credentials {
  readonly seed?: string
  readonly passphrase?: string | null
  readonly cert?: CertFiles | null
  /** Speak version 1 as a node of an older version does (its proof first). */
  readonly v1?: boolean
}

const right: Credentials = {}

function handshakeCerts (files: CertFiles): HandshakeCertificates {
  const key = createPrivateKey(files.pem.keyPem)
  return {
    cert: new Uint8Array(new X509Certificate(files.pem.certPem).raw),
    sign: data => signWith(key, data),
    // the attacker trusts anyone: only S's decision is under test
    check: () => ({ ok: true, verify: () => true })
  }
}

/** A session with S: its handshake channel, what this side sent, and how it ended. */
async function dialS (): Promise<{ conn: Connection, ch: HandshakeChannel, sent: NativeMessage[] }> {
  const conn = await attacker.dial(sAddr)
  const inbox = new Inbox<NativeMessage>()
  conn.onFrame(frame => { try { inbox.push(decodeFrame(frame)) } catch { /* not a handshake message */ } })
  void conn.closed.then(info => inbox.fail(new Error(`closed: ${info.reason ?? ''}`)))
  const sent: NativeMessage[] = []
  const ch: HandshakeChannel = {
    send: async m => { sent.push(m); await conn.send(encodeMessage(m)) },
    next: ms => inbox.next(ms)
  }
  return { conn, ch, sent }
}

/** Runs the handshake with `c` on a session this side opened; resolves whether this side completed it. */
async function handshake ({ conn, ch }: { conn: Connection, ch: HandshakeChannel }, c: Credentials): Promise<boolean> {
  const passphrase = c.passphrase === undefined ? PASSPHRASE : c.passphrase
  const cert = c.cert === undefined ? certs.get('good')! : c.cert
  const seed = c.seed ?? SEED
  try {
    await runHandshake(ch, {
      key: deriveHandshakeKey(seed),
      ...(passphrase !== null ? { passphraseKey: derivePassphraseKey(passphrase) } : {}),
      ...(c.v1 === true ? { versions: [1, 1] as [number, number], legacyProofOrder: true } : { secrets: { seed, ...(passphrase !== null ? { passphrase } : {}) } }),
      ...(cert !== null ? { certificates: handshakeCerts(cert) } : {}),
      self: attacker.nodeId,
      peer: asNodeId(s.nodeId),
      feed: FEED,
      sessionId: conn.id,
      initiator: true,
      timeoutMs: 3000
    })
    return true
  } catch {
    return false
  }
}

/** Records an attacker would like S to store. */
function forged (): NativeMessage {
  const engine = new Engine({ store: new MemoryStore(), node: attacker.nodeId, maxDriftMs: 60_000 })
  engine.addTriples([{ subject: 'forged:x', predicate: 'planted', object: randomBytes(4).toString('hex') }])
  return { t: 'changes', from: 0, to: 1, records: engine.store.dump(), more: false }
}

/** Waits (bounded) for the session to close; answers its reason. */
async function closed (conn: Connection): Promise<string> {
  const info = await Promise.race([conn.closed, new Promise<undefined>(resolve => { setTimeout(() => resolve(undefined), 10_000).unref() })])
  if (info === undefined) { await conn.close('test gave up'); return 'still open after 10 s' }
  return info.reason ?? ''
}

async function waitLines (pattern: RegExp, n: number, what: string): Promise<void> {
  await until(async () => countLines(s.stderr(), pattern) >= n, () => `${what}: ${n} lines matching ${pattern} in S's log:\n${s.stderr().split('\n').filter(l => / warn /.test(l)).slice(-8).join('\n')}`, 10_000, 20)
  assert.equal(countLines(s.stderr(), pattern), n, `${what}: exactly ${n} lines matching ${pattern}`)
}

describe('native sync with certificates, passphrase and seed: the authentication matrix', () => {
  it('accepts the right peer every time: the daemon G, and the in-process peer with the right credentials', async () => {
    await until(async () => ((await g.stats()).triples ?? 0) >= 3, async () => `G to receive S's triples: ${JSON.stringify(await g.stats())}`, 30_000)
    await g.client.addTriple('note:g', 'is', 'held by G')
    await until(async () => (await s.client.queryTriples({ subject: 'note:g' })).total === 1, () => 'S to receive G\'s triple', 30_000)
    const opened = new RegExp(`P2P session open with ${attacker.nodeId}`)
    const before = countLines(s.stderr(), opened)
    for (let i = 0; i < TRIES; i++) {
      const session = await dialS()
      // every other session as a node of an older version (version 1)
      assert.equal(await handshake(session, i % 2 === 0 ? right : { v1: true }), true, `session ${i} was refused: ${s.stderr().split('\n').slice(-3).join('\n')}`)
      await session.conn.close('done')
      await closed(session.conn)
    }
    await waitLines(opened, before + TRIES, 'sessions opened')
  })

  it('refuses every wrong credential, writes nothing, and logs one line per refusal', async () => {
    const stats = await s.stats()
    const recorded: NativeMessage[] = []
    const id = attacker.nodeId
    const opened = new RegExp(`P2P session open with ${id}`)
    const openedBefore = countLines(s.stderr(), opened) + 1
    {
      // a handshake to replay later: recorded from a session the right peer opened
      const session = await dialS()
      const { conn, sent } = session
      assert.equal(await handshake(session, right), true)
      recorded.push(...sent)
      await conn.close('done')
      await closed(conn)
    }
    // That session's log line reaches S's stderr asynchronously: count it in before going on.
    await waitLines(opened, openedBefore, 'the recording session opened')
    const cases: Array<[string, Credentials | 'replay', RegExp]> = [
      ['wrong seed', { seed: 'a-wrong-seed' }, /the peer did not prove p2p\.seed: p2p\.seed mismatch/],
      ['wrong seed, as an older node (version 1)', { seed: 'a-wrong-seed', v1: true }, /the peer's proof is wrong: p2p\.seed mismatch/],
      ['replayed handshake', 'replay', /the peer did not prove p2p\.seed: .*or it replayed or relayed a handshake/],
      ['another CA', { cert: certs.get('other-ca') }, /its certificate \("CN=x-other-ca", issued by "CN=another sync CA"\) is not signed by this node's CA/],
      ['expired certificate', { cert: certs.get('expired') }, /its certificate \("CN=x-expired"\) expired on/],
      ['not-yet-valid certificate', { cert: certs.get('not-yet-valid') }, /its certificate \("CN=x-not-yet-valid"\) is not valid before/],
      ['self-signed certificate', { cert: certs.get('self-signed') }, /its certificate \("CN=x-self-signed"\) is self-signed/],
      ['certificate of another node', { cert: certs.get('of-g') }, new RegExp(`its certificate \\("CN=x-of-g"\\) binds node ${g.nodeId}, but the peer is node ${id}`)],
      ['no certificate', { cert: null }, /presented no certificate/],
      ['right certificate, wrong passphrase', { passphrase: 'a wrong passphrase' }, /passphrase mismatch: the peer's sync\.passphrase differs from this node's/],
      ['right certificate, no passphrase', { passphrase: null }, /sync\.passphrase is set on this node but not on the peer/]
    ]
    for (const [what, creds, reason] of cases) {
      const line = new RegExp(`refused P2P peer ${id}: auth failed: ${reason.source}`)
      const seen = countLines(s.stderr(), line)
      for (let i = 0; i < TRIES; i++) {
        const session = await dialS()
        const { conn, ch } = session
        if (creds === 'replay') {
          for (const m of recorded) await ch.send(m)
        } else {
          assert.equal(await handshake(session, creds), false, `${what}: the attacker's handshake completed`)
        }
        // and push records regardless
        await conn.send(encodeMessage(forged())).catch(() => {})
        assert.equal(await closed(conn), 'auth failed', what)
      }
      await waitLines(line, seen + TRIES, what)
    }
    assert.deepEqual(await s.stats(), stats, 'nothing written')
    assert.equal((await s.client.queryTriples({ subject: 'forged:x' })).total, 0)
    assert.equal(countLines(s.stderr(), opened), openedBefore, 'no session opened with a wrong credential')
    assert.equal(countLines(s.stderr(), new RegExp(`P2P peer ${id} refused this node`)), 0, 'S refused; it does not blame the attacker for it')
  })

  it('the store holds exactly what the right peers wrote', async () => {
    await s.stop()
    const dump = dumpFile(s.dataDir)
    assert.equal(dump.filter(r => r.includes('held by S')).length, 3)
    assert.equal(dump.filter(r => r.includes('held by G')).length, 1)
    assert.equal(dump.filter(r => r.includes('forged:x')).length, 0)
    assert.equal(dump.length, 4)
  })
})
