/**
 * The authentication matrix over REST, with real daemons on loopback and TLS on: a server node
 * S (mutual TLS, sync.passphrase and p2p.seed) is tried repeatedly with every wrong credential —
 * no client certificate, another CA, expired, not yet valid, self-signed, a certificate of
 * another node, wrong or missing passphrase, wrong or missing seed, a replayed request — and
 * accepts none, leaks no record, writes none, and logs one line per refusal saying why. S also
 * pulls from peers with wrong certificates or passphrase and writes nothing of theirs. The right
 * peer is accepted every time.
 */
import assert from 'node:assert/strict'
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import { createServer as createNetServer } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { Engine } from '../../src/engine/Engine.ts'
import { asNodeId } from '../../src/core/ids.ts'
import { SqliteStore } from '../../src/store/sqlite/SqliteStore.ts'
import { AUTH_HEADERS, deriveRestKeys, signRequest, type SignedRequestHeaders } from '../../src/sync/polled/auth.ts'
import { DELTA_PATH } from '../../src/protocol/polled/messages.ts'
import { issuePeer } from '../../src/tls/certificates.ts'
import { engram, sandbox, type Sandbox } from '../cli/helpers.ts'
import { dumpFile } from '../sync/daemons.ts'
import { eventually } from '../support/eventually.ts'
import {
  PASSPHRASE, SEED, certFor, countLines, literal, makePki, prepareNode, startSecureNode,
  type CertFiles, type CertKind, type Pki, type SecureNode
} from './daemons.ts'

const TRIES = 5
const BODY = JSON.stringify({ cursor: 0, limit: 100 })

let box: Sandbox
let pki: Pki
let s: SecureNode
let g: SecureNode
/** The attacker's node id, and its certificates of every kind (all bound to it). */
let attacker: string
const attackerCerts = new Map<CertKind, CertFiles>()
let localAddresses: () => string

before(async () => {
  box = sandbox()
  pki = await makePki(box)
  const [sPrep, gPrep] = await Promise.all([prepareNode(box, 's'), prepareNode(box, 'g')])
  attacker = (await prepareNode(box, 'attacker')).nodeId
  for (const kind of ['good', 'other-ca', 'expired', 'not-yet-valid', 'self-signed'] as const) {
    attackerCerts.set(kind, await certFor(pki, `attacker-${kind}`, attacker, kind))
  }
  const [sCert, gCert] = await Promise.all([certFor(pki, 's', sPrep.nodeId), certFor(pki, 'g', gPrep.nodeId)])
  // S never retries on its own during the test: every attempt below is one the test made.
  ;[s, g] = await Promise.all([
    startSecureNode(box, 's', { tls: sCert, sync: { retryBaseMs: 600_000 } }),
    startSecureNode(box, 'g', { tls: gCert, sync: { retryBaseMs: 600_000 } })
  ])
  for (let i = 0; i < 3; i++) await s.client.addTriple(`secret:s${i}`, 'is', `held by S ${i}`)
  localAddresses = await loopbackAddresses()
})

after(async () => {
  await Promise.allSettled([s, g].filter(n => n !== undefined).map(n => n.stop()))
  box?.remove()
})

describe('REST sync with mutual TLS, passphrase and seed: the authentication matrix', () => {
  it('accepts the right peer every time, both ways', async () => {
    await g.client.pairPeer('s', s.url)
    await s.client.pairPeer('g', g.url)
    await g.client.addTriple('note:g', 'is', 'held by G')
    for (let i = 0; i < TRIES; i++) {
      for (const [node, peer] of [[g, 's'], [s, 'g']] as const) {
        const r = await node.client.syncNow(peer)
        assert.equal(r.ok, true, `${node.name} ← ${peer}: ${JSON.stringify(r.results)}`)
      }
    }
    assert.equal((await g.client.queryTriples({ subject: 'secret:s0' })).total, 1)
    assert.equal((await s.client.queryTriples({ subject: 'note:g' })).total, 1)
    // with TLS on, a peer is https:// or nothing
    await assert.rejects(g.client.pairPeer('plain', 'http://127.0.0.1:1'), /url: must be https:\/\/ because TLS is on here/)
    // and a direct, correctly signed request with a good certificate, each time
    for (let i = 0; i < TRIES; i++) {
      const r = await deltaRequest({ cert: attackerCerts.get('good'), headers: signRequest(rightKeys(), attacker, 'POST', DELTA_PATH, BODY) })
      assert.equal(r.status, 200, r.error ?? r.body)
      assert.match(r.body ?? '', /held by S 0/)
    }
  })

  it('the CLI talks to its HTTPS daemon with the CA and certificate of its configuration, and only so', async () => {
    const r = await engram(['status', '--url', s.url, '--config', s.configFile, '--json'], box.env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal((JSON.parse(r.stdout) as { status: { nodeId: string } }).status.nodeId, s.nodeId)
    // without them it is refused, and says why (a TLS refusal), never that no daemon runs
    const bare = await engram(['status', '--url', s.url], box.env)
    assert.equal(bare.code, 1, bare.stderr)
    assert.match(bare.stderr, /certificate/)
    assert.doesNotMatch(bare.stderr, /start one with/)
  })

  it('refuses every connection whose client certificate is wrong, before HTTP, with one line each', async () => {
    const before = await s.stats()
    const cases: Array<[string, CertFiles | undefined, RegExp]> = [
      ['no client certificate', undefined, /presented no certificate; with TLS on, every peer needs one signed by this node's CA/],
      ['another CA', attackerCerts.get('other-ca'), /its certificate \("CN=attacker-other-ca", issued by "CN=another sync CA"\) is not signed by this node's CA \("CN=engram sync CA"\)/],
      ['expired', attackerCerts.get('expired'), /its certificate \("CN=attacker-expired"\) expired on \S+: issue a new one/],
      ['not yet valid', attackerCerts.get('not-yet-valid'), /its certificate \("CN=attacker-not-yet-valid"\) is not valid before \S+: check both machines' clocks/],
      ['self-signed', attackerCerts.get('self-signed'), /its certificate \("CN=attacker-self-signed"\) is self-signed, not signed by this node's CA/]
    ]
    for (const [what, cert, reason] of cases) {
      const from = localAddresses()
      const line = new RegExp(`refused a TLS connection from ${literal(from)}: ${reason.source}`)
      const seen = countLines(s.stderr(), line)
      for (let i = 0; i < TRIES; i++) {
        const r = await deltaRequest({ cert, headers: signRequest(rightKeys(), attacker, 'POST', DELTA_PATH, BODY), localAddress: from })
        assert.equal(r.status, undefined, `${what}: answered ${r.status} ${r.body}`)
      }
      await waitLines(line, seen + TRIES, what)
    }
    assert.deepEqual(await s.stats(), before, 'nothing written')
  })

  it('refuses every request with a wrong secret, a replay or another node\'s certificate, with one line each', async () => {
    const before = await s.stats()
    const good = attackerCerts.get('good')
    const replayed = signRequest(rightKeys(), attacker, 'POST', DELTA_PATH, BODY)
    assert.equal((await deltaRequest({ cert: good, headers: replayed })).status, 200, 'the original request is accepted')
    const gCert = await certFor(pki, 'g-copy', g.nodeId)
    const cases: Array<[string, () => SignedRequestHeaders | Record<string, string>, RegExp, CertFiles?]> = [
      ['wrong passphrase', () => sign({ passphrase: 'a wrong passphrase', seed: SEED }), /bad signature: passphrase mismatch \(the caller's sync\.passphrase differs from this node's/],
      ['no passphrase', () => sign({ seed: SEED }), /sync\.passphrase is set on this node but not on the caller/],
      ['wrong seed', () => sign({ passphrase: PASSPHRASE, seed: 'a-wrong-seed' }), /bad signature: seed mismatch \(the caller's p2p\.seed differs from this node's/],
      ['no seed', () => sign({ passphrase: PASSPHRASE }), /p2p\.seed is set on this node but not on the caller/],
      ['no secret at all', () => ({ [AUTH_HEADERS.node]: attacker }), /sync requests must be signed/],
      ['replayed request', () => ({ ...replayed }), /replayed request refused/],
      ['certificate of another node', () => sign({ passphrase: PASSPHRASE, seed: SEED }), new RegExp(`its certificate binds node ${g.nodeId}, but it signed as ${attacker}`), gCert]
    ]
    for (const [what, headers, reason, cert] of cases) {
      const from = localAddresses()
      const line = new RegExp(`refused a sync request from node ${attacker} at ${literal(from)}: ${reason.source}`)
      const seen = countLines(s.stderr(), line)
      for (let i = 0; i < TRIES; i++) {
        const r = await deltaRequest({ cert: cert ?? good, headers: headers(), localAddress: from })
        assert.equal(r.status, 401, `${what}: ${r.status} ${r.error ?? r.body}`)
        assert.doesNotMatch(r.body ?? '', /held by S/, `${what}: no record leaks`)
      }
      await waitLines(line, seen + TRIES, what)
    }
    assert.deepEqual(await s.stats(), before, 'nothing written')
  })

  it('pulls nothing from peers with a wrong certificate or passphrase, and logs each refusal', async () => {
    const selfSigned = await selfSignedServer()
    const bad = await Promise.all([
      badPeer('b-other-ca', 'other-ca'),
      badPeer('b-expired', 'expired'),
      badPeer('b-early', 'not-yet-valid'),
      badPeer('b-pass', 'good', 'another passphrase entirely')
    ])
    try {
      const before = await s.stats()
      const peers: Array<[string, string, RegExp]> = [
        ['b-other-ca', bad[0]!.url, /its certificate is not signed by this node's CA \(tls\.ca\)/],
        ['b-expired', bad[1]!.url, /its certificate has expired/],
        ['b-early', bad[2]!.url, /its certificate is not valid yet/],
        ['b-pass', bad[3]!.url, /refused our credentials: bad signature: passphrase mismatch/],
        ['b-self', selfSigned.url, /its certificate is self-signed, not signed by this node's CA/]
      ]
      for (const [name, url, reason] of peers) {
        const line = new RegExp(`polled sync with ${name} failed: .*${reason.source}`)
        await s.client.pairPeer(name, url)
        for (let i = 0; i < TRIES; i++) {
          const r = await s.client.syncNow(name)
          assert.equal(r.ok, false, `${name} was accepted`)
          assert.match(r.results[0]?.error ?? '', reason, name)
          assert.equal(r.results[0]?.code, 'UNAUTHORIZED')
        }
        await waitLines(line, TRIES, name, 'at least')
      }
      assert.deepEqual(await s.stats(), before, 'nothing written')
      assert.equal((await s.client.queryTriples({ subject: 'stolen:b' })).total, 0)
      // the bad peer that holds the right certificate refused S's request and says why (its log
      // reaches this process through its own pipe, which may be read after S's answer: waited for)
      const refusedHere = /refused a sync request from node \S+ at 127\.0\.0\.1: bad signature: passphrase mismatch/
      await eventually(() => countLines(bad[3]!.stderr(), refusedHere) >= TRIES, () => `the bad peer logs each refusal: ${countLines(bad[3]!.stderr(), refusedHere)} lines of ${TRIES}`)
    } finally {
      await Promise.allSettled(bad.map(b => b.stop()))
      selfSigned.close()
    }
  })

  it('the store holds exactly what the right peers wrote', async () => {
    await s.stop()
    const dump = dumpFile(s.dataDir)
    assert.equal(dump.filter(r => r.includes('held by S')).length, 3)
    assert.equal(dump.filter(r => r.includes('held by G')).length, 1)
    assert.equal(dump.length, 4)
  })
})

function rightKeys (): ReturnType<typeof deriveRestKeys> & object {
  return deriveRestKeys({ passphrase: PASSPHRASE, seed: SEED })!
}

function sign (secrets: { passphrase?: string, seed?: string }): SignedRequestHeaders {
  return signRequest(deriveRestKeys(secrets)!, attacker, 'POST', DELTA_PATH, BODY)
}

/** One delta request to S on a fresh TLS connection: the answer, or the connection's error. */
function deltaRequest (opts: { cert?: CertFiles, headers: SignedRequestHeaders | Record<string, string>, localAddress?: string }): Promise<{ status?: number, body?: string, error?: string }> {
  return new Promise(resolve => {
    const req = httpsRequest(new URL(DELTA_PATH, s.url), {
      method: 'POST',
      agent: false,
      ca: pki.ca.certPem,
      ...(opts.cert !== undefined ? { cert: opts.cert.pem.certPem, key: opts.cert.pem.keyPem } : {}),
      ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      headers: { 'content-type': 'application/json', ...(opts.headers as Record<string, string>) },
      timeout: 10_000
    }, res => {
      let body = ''
      res.setEncoding('utf8').on('data', (d: string) => { body += d }).on('end', () => resolve({ status: res.statusCode, body }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', e => resolve({ error: (e as NodeJS.ErrnoException).code ?? e.message }))
    req.end(BODY)
  })
}

/** Polls S's log until `line` appears `n` times (a refusal is logged as the connection closes). */
async function waitLines (line: RegExp, n: number, what: string, mode: 'exactly' | 'at least' = 'exactly'): Promise<void> {
  // the one wait (test/support/eventually.ts, its deadline for a loaded machine); the assertion below says what was seen
  await eventually(() => countLines(s.stderr(), line) >= n, what).catch(() => {})
  const count = countLines(s.stderr(), line)
  assert.ok(mode === 'exactly' ? count === n : count >= n, `${what}: ${mode} ${n} lines (not ${count}) matching ${line} in S's log:\n${s.stderr().split('\n').filter(l => / warn /.test(l)).slice(-12).join('\n')}`)
}

/** A daemon holding records of its own, with a wrong certificate or passphrase and the right rest. */
async function badPeer (name: string, kind: CertKind, passphrase = PASSPHRASE): Promise<SecureNode> {
  const prep = await prepareNode(box, name)
  const store = SqliteStore.open(join(prep.dataDir, 'engram.db'))
  try {
    new Engine({ store, node: asNodeId(prep.nodeId), maxDriftMs: 60_000 }).addTriples([{ subject: 'stolen:b', predicate: 'from', object: name }])
  } finally {
    store.close()
  }
  const cert = await certFor(pki, name, prep.nodeId, kind)
  return await startSecureNode(box, name, { tls: cert, passphrase, requireClientCert: false })
}

/** An HTTPS server with a self-signed certificate, answering anything with a delta page. */
async function selfSignedServer (): Promise<{ url: string, close (): void }> {
  const pem = await issuePeer({ ca: 'self', name: 'b-self', nodeId: attacker })
  const server = createHttpsServer({ cert: pem.certPem, key: pem.keyPem }, (_req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ nodeId: attacker, feedId: 'f'.repeat(32), cursor: 1, hasMore: false, snapshot: false, peerCursor: 0, peerNamespaces: null, records: [] }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address() as { port: number }
  return { url: `https://127.0.0.1:${addr.port}`, close: () => { server.closeAllConnections(); server.close() } }
}

/**
 * Source addresses for the attacks, one per case: 127.0.0.2, .3, … where the system routes
 * all of 127/8 to loopback (Linux), so that the node's per-client limits apply per case; else
 * 127.0.0.1 every time.
 */
async function loopbackAddresses (): Promise<() => string> {
  const usable = await new Promise<boolean>(resolve => {
    const srv = createNetServer()
    srv.once('error', () => resolve(false))
    srv.listen(0, '127.0.0.2', () => srv.close(() => resolve(true)))
  })
  let next = 2
  return () => usable ? `127.0.0.${next++}` : '127.0.0.1'
}
