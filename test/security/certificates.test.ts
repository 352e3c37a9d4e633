/**
 * src/tls: the CA and peer certificates engram makes (extensions, lifetimes, the node binding),
 * the checks of a peer certificate, and the `engram tls init` / `engram tls issue` commands.
 * When the openssl command is installed, it cross-checks the certificates; it is not required.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { runCli } from '../../src/cli/run.ts'
import type { CliIo } from '../../src/cli/io.ts'
import { loadOrCreateIdentity } from '../../src/node/identity.ts'
import { CertificateAuthority, certificateNodeId, parseSubjectAltName, signWith, verifySignature } from '../../src/tls/CertificateAuthority.ts'
import { createCa, issuePeer } from '../../src/tls/certificates.ts'

const DAY = 86_400_000
const NODE = '12D3KooWTestNodeA'
const root = mkdtempSync(join(tmpdir(), 'engram-tls-'))
after(() => rmSync(root, { recursive: true, force: true }))

const ca = await createCa()
const otherCa = await createCa({ commonName: 'another CA' })
const peer = await issuePeer({ ca, name: 'laptop', nodeId: NODE, hosts: ['10.0.0.4', 'laptop.local'] })

const openssl = spawnSync('openssl', ['version']).status === 0

describe('certificates made by engram', () => {
  it('the CA: CA:true with path length 0, keyCertSign, ECDSA P-256, ten years', () => {
    const x = new X509Certificate(ca.certPem)
    assert.equal(x.ca, true)
    assert.equal(x.subject, 'CN=engram sync CA')
    assert.equal(x.checkIssued(x), true)
    assert.equal(x.verify(x.publicKey), true)
    assert.equal(x.publicKey.asymmetricKeyType, 'ec')
    assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1')
    const years = (x.validToDate.getTime() - x.validFromDate.getTime()) / (365.25 * DAY)
    assert.ok(years > 9.99 && years < 10.01, `${years} years`)
    assert.ok(x.validFromDate.getTime() <= Date.now())
  })

  it('a peer: signed by the CA, serverAuth + clientAuth, the hosts and the node id in its SAN, one year', async () => {
    const x = new X509Certificate(peer.certPem)
    const cax = new X509Certificate(ca.certPem)
    assert.equal(x.ca, false)
    assert.equal(x.subject, 'CN=laptop')
    assert.equal(x.checkIssued(cax), true)
    assert.equal(x.verify(cax.publicKey), true)
    assert.deepEqual([...x.keyUsage].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'])
    assert.deepEqual(parseSubjectAltName(x.subjectAltName ?? ''), [
      { type: 'DNS', value: 'localhost' }, { type: 'IP Address', value: '127.0.0.1' }, { type: 'IP Address', value: '0:0:0:0:0:0:0:1' },
      { type: 'IP Address', value: '10.0.0.4' }, { type: 'DNS', value: 'laptop.local' }, { type: 'URI', value: `engram:node:${NODE}` }
    ])
    assert.equal(x.checkHost('laptop.local'), 'laptop.local')
    assert.equal(x.checkIP('10.0.0.4'), '10.0.0.4')
    const days = (x.validToDate.getTime() - x.validFromDate.getTime()) / DAY
    assert.equal(days, 365)
    assert.equal(x.checkPrivateKey(createPrivateKey(peer.keyPem)), true)
    assert.notEqual(x.serialNumber, new X509Certificate((await issuePeer({ ca, name: 'laptop', nodeId: NODE })).certPem).serialNumber)
  })

  it('refuses names, hosts and node ids that would make a bad certificate', async () => {
    await assert.rejects(issuePeer({ ca, name: 'bad name', nodeId: NODE }), /NAME: must be/)
    await assert.rejects(issuePeer({ ca, name: 'x', nodeId: 'not a node' }), /nodeId: must be a node id/)
    await assert.rejects(issuePeer({ ca, name: 'x', nodeId: NODE, hosts: ['a b'] }), /--host: must be a host name/)
  })

  it('openssl (when installed) agrees: the chain verifies for both purposes, and the extensions are as described', { skip: !openssl && 'openssl is not installed' }, () => {
    const caFile = join(root, 'ca.pem')
    const peerFile = join(root, 'peer.pem')
    writeFileSync(caFile, ca.certPem)
    writeFileSync(peerFile, peer.certPem)
    for (const purpose of ['sslserver', 'sslclient']) {
      const r = spawnSync('openssl', ['verify', '-purpose', purpose, '-CAfile', caFile, peerFile], { encoding: 'utf8' })
      assert.equal(r.status, 0, r.stderr + r.stdout)
    }
    const text = spawnSync('openssl', ['x509', '-in', peerFile, '-noout', '-text'], { encoding: 'utf8' }).stdout
    assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature/)
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/)
    assert.match(text, /CA:FALSE/)
    assert.match(text, new RegExp(`URI:engram:node:${NODE}`))
    const caText = spawnSync('openssl', ['x509', '-in', caFile, '-noout', '-text'], { encoding: 'utf8' }).stdout
    assert.match(caText, /CA:TRUE, pathlen:0/)
    assert.match(caText, /Certificate Sign, CRL Sign/)
  })
})

describe('checking a peer certificate', () => {
  const authority = new CertificateAuthority(ca.certPem)
  const der = (pem: string): Uint8Array => new Uint8Array(new X509Certificate(pem).raw)
  const now = Date.now()

  it('accepts a certificate of the CA for the node it binds, and tells which node', () => {
    const r = authority.check(der(peer.certPem), { now, nodeId: NODE })
    assert.equal(r.ok, true)
    if (r.ok) assert.equal(r.nodeId, NODE)
    assert.equal(certificateNodeId(der(peer.certPem)), NODE)
  })

  it('refuses each problem with its own reason', async () => {
    const cases: Array<[string, Uint8Array | undefined, RegExp, string?]> = [
      ['missing', undefined, /presented no certificate/],
      ['unreadable', new Uint8Array([1, 2, 3]), /cannot be read/],
      ['self-signed', der((await issuePeer({ ca: 'self', name: 'mallory', nodeId: NODE })).certPem), /is self-signed, not signed by this node's CA/],
      ['not-signed-by-ca', der((await issuePeer({ ca: otherCa, name: 'mallory', nodeId: NODE })).certPem), /issued by "CN=another CA"\) is not signed by this node's CA/],
      ['expired', der((await issuePeer({ ca, name: 'old', nodeId: NODE, notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) })).certPem), /expired on/],
      ['not-yet-valid', der((await issuePeer({ ca, name: 'early', nodeId: NODE, notBefore: new Date(now + DAY), notAfter: new Date(now + 30 * DAY) })).certPem), /is not valid before/],
      ['not-a-peer-certificate', der(ca.certPem), /is not a peer certificate/],
      ['wrong-node', der(peer.certPem), /binds node 12D3KooWTestNodeA, but the peer is node 12D3KooWOther/, '12D3KooWOther']
    ]
    for (const [problem, cert, message, nodeId] of cases) {
      const r = authority.check(cert, { now, nodeId: nodeId ?? NODE })
      assert.equal(r.ok, false, problem)
      if (!r.ok) {
        assert.equal(r.problem, problem)
        assert.match(r.message, message)
      }
    }
  })

  it('reads a SAN value that holds a comma as one value, never as a second entry', () => {
    assert.deepEqual(parseSubjectAltName('URI:"engram:node:A, URI:engram:node:B", DNS:x'), [
      { type: 'URI', value: 'engram:node:A, URI:engram:node:B' }, { type: 'DNS', value: 'x' }
    ])
  })

  it('signatures with the certificate key verify with the certificate, and nothing else does', () => {
    const data = new TextEncoder().encode('transcript')
    const sig = signWith(createPrivateKey(peer.keyPem), data)
    const x = new X509Certificate(peer.certPem)
    assert.equal(verifySignature(x, data, sig), true)
    assert.equal(verifySignature(x, new TextEncoder().encode('another'), sig), false)
    assert.equal(verifySignature(new X509Certificate(ca.certPem), data, sig), false)
    assert.equal(verifySignature(x, data, new Uint8Array(3)), false)
  })

  it('a CA file that is not a CA is refused', () => {
    assert.throws(() => new CertificateAuthority(peer.certPem), /tls\.ca: is not a CA certificate/)
    assert.throws(() => new CertificateAuthority('nonsense'), /tls\.ca: is not a PEM certificate/)
  })
})

describe('engram tls init and engram tls issue', () => {
  const io = (env: Record<string, string>): CliIo & { stdout: () => string, stderr: () => string } => {
    let out = ''
    let err = ''
    return { env, cwd: root, out: t => { out += t }, err: t => { err += t }, stdout: () => out, stderr: () => err }
  }
  const home = join(root, 'home')
  const env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') }

  it('creates the CA with a private key file, and never overwrites it', async () => {
    const a = io(env)
    assert.equal(await runCli(['tls', 'init'], a), 0, a.stderr())
    const dir = join(home, 'config', 'engram', 'tls')
    assert.match(a.stdout(), new RegExp(`created a CA in ${dir}`))
    assert.equal(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600)
    assert.equal(new X509Certificate(readFileSync(join(dir, 'ca.crt'))).ca, true)
    const again = io(env)
    assert.equal(await runCli(['tls', 'init'], again), 1)
    assert.match(again.stderr(), /exists already; move it away first/)
  })

  it('issues a key and certificate for this machine\'s node, and prints the environment to use', async () => {
    const a = io(env)
    assert.equal(await runCli(['tls', 'issue', 'laptop', '--host', '10.0.0.4'], a), 0, a.stderr())
    const dir = join(home, 'config', 'engram', 'tls')
    const { nodeId } = await loadOrCreateIdentity(join(home, 'data', 'engram'))
    assert.equal(a.stdout(), [
      `export ENGRAM_SYNC_TLS_CERT=${join(dir, 'laptop.crt')}`,
      `export ENGRAM_SYNC_TLS_KEY=${join(dir, 'laptop.key')}`,
      `export ENGRAM_SYNC_TLS_CA=${join(dir, 'ca.crt')}`,
      'export ENGRAM_SYNC_REQUIRE_CLIENT_CERT=true', ''
    ].join('\n'))
    assert.match(a.stderr(), new RegExp(`for node ${nodeId}`))
    assert.equal(statSync(join(dir, 'laptop.key')).mode & 0o777, 0o600)
    const x = new X509Certificate(readFileSync(join(dir, 'laptop.crt')))
    assert.equal(certificateNodeId(new Uint8Array(x.raw)), nodeId)
    assert.equal(new CertificateAuthority(readFileSync(join(dir, 'ca.crt'), 'utf8')).check(x, { now: Date.now(), nodeId }).ok, true)
    assert.equal(x.checkIP('10.0.0.4'), '10.0.0.4')
  })

  it('issues for another node with --node-id and --days, into another directory; says what is missing', async () => {
    const dir = join(root, 'elsewhere')
    const a = io(env)
    assert.equal(await runCli(['tls', 'issue', 'desktop', '--dir', dir], a), 1)
    assert.match(a.stderr(), /no CA in .*elsewhere .*engram tls init/)
    assert.equal(await runCli(['tls', 'init', '--dir', dir], io(env)), 0)
    mkdirSync(join(root, 'desktop-node'))
    const desk = (await loadOrCreateIdentity(join(root, 'desktop-node'))).nodeId
    const b = io(env)
    assert.equal(await runCli(['tls', 'issue', 'desktop', '--dir', dir, '--node-id', desk, '--days', '30', '--json'], b), 0, b.stderr())
    const out = JSON.parse(b.stdout()) as { nodeId: string, cert: string, notAfter: string }
    assert.equal(out.nodeId, desk)
    const x = new X509Certificate(readFileSync(out.cert))
    assert.equal(Math.round((x.validToDate.getTime() - Date.now()) / DAY), 30)
    assert.equal(certificateNodeId(new Uint8Array(x.raw)), desk)
    const c = io(env)
    assert.equal(await runCli(['tls', 'issue', 'desktop', '--dir', dir, '--node-id', desk], c), 1)
    assert.match(c.stderr(), /desktop\.key exists already/)
    assert.equal(await runCli(['tls', 'issue', 'x', '--days', '0', '--dir', dir, '--node-id', desk], io(env)), 2)
  })

  it('refuses to issue a certificate for something that is not a node id, writing nothing', async () => {
    const dir = join(root, 'elsewhere')
    for (const bad of ['notanid', '12D3KooWDesk', 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N']) {
      const r = io(env)
      assert.equal(await runCli(['tls', 'issue', 'typo', '--dir', dir, '--node-id', bad], r), 2, bad)
      assert.match(r.stderr(), /--node-id: must be the node id of an engram node, as engram status prints it there/)
    }
    assert.ok(!existsSync(join(dir, 'typo.crt')) && !existsSync(join(dir, 'typo.key')))
  })
})
