/**
 * Certificates for sync TLS, made without openssl (`engram tls init` and `engram tls issue`).
 *
 *   CA    ECDSA P-256, CN "engram sync CA", basicConstraints CA:true pathlen:0 (critical),
 *         keyUsage keyCertSign + cRLSign (critical), 10 years
 *   peer  ECDSA P-256, CN <name>, signed by the CA, basicConstraints CA:false (critical),
 *         keyUsage digitalSignature (critical), extendedKeyUsage serverAuth + clientAuth,
 *         subjectAltName DNS:localhost, IP:127.0.0.1, IP:::1, the given hosts, and the URI
 *         `engram:node:<node id>` that binds the certificate to one node; 1 year
 *
 * ECDSA P-256 with SHA-256 is what every TLS stack and Node's WebCrypto support. Keys are PKCS#8
 * PEM, certificates PEM. Validity dates can be given (tests make expired and not-yet-valid
 * certificates with them).
 *
 * @peculiar/x509 (x509.ts) is loaded when a certificate is made, not with this module: the CLI
 * and the daemon read the constants and check names here without paying for its ~200 modules.
 */
import { randomBytes, type webcrypto } from 'node:crypto'
import { isIP } from 'node:net'
import type { JsonGeneralName } from '@peculiar/x509'
import { INVALID_INPUT } from '../core/errors.ts'

export const CA_YEARS = 10
export const PEER_DAYS = 365
/** The URI SAN that binds a certificate to a node: `engram:node:<node id>`. */
export const NODE_URI_PREFIX = 'engram:node:'
export const CA_COMMON_NAME = 'engram sync CA'

type CryptoKey = webcrypto.CryptoKey
type CryptoKeyPair = webcrypto.CryptoKeyPair

const DAY_MS = 86_400_000
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1'
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'

/** A certificate and its private key, both PEM. */
export interface KeyAndCert {
  readonly certPem: string
  readonly keyPem: string
}

export interface CaOptions {
  readonly commonName?: string
  readonly notBefore?: Date
  readonly notAfter?: Date
}

export interface PeerOptions {
  /**
   * The CA that signs it (its certificate and key). 'self': a self-signed peer certificate,
   * which peers refuse; it exists to test that they do.
   */
  readonly ca: KeyAndCert | 'self'
  /** Common name, e.g. the machine's name. */
  readonly name: string
  /** The node the certificate is bound to (URI SAN engram:node:<id>). */
  readonly nodeId: string
  /** Host names and IP addresses peers reach this node at, besides localhost, 127.0.0.1 and ::1. */
  readonly hosts?: readonly string[]
  readonly notBefore?: Date
  readonly notAfter?: Date
}

/** A self-signed certificate authority. */
export async function createCa (opts: CaOptions = {}): Promise<KeyAndCert> {
  const { x509 } = await import('./x509.ts')
  const keys = await generateKeys()
  const notBefore = opts.notBefore ?? startOfValidity()
  const notAfter = opts.notAfter ?? addYears(notBefore, CA_YEARS)
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [opts.commonName ?? CA_COMMON_NAME] }],
    notBefore,
    notAfter,
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)
    ]
  })
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys.privateKey) }
}

/** A peer key and certificate signed by `opts.ca`, bound to `opts.nodeId`. */
export async function issuePeer (opts: PeerOptions): Promise<KeyAndCert> {
  const { x509 } = await import('./x509.ts')
  checkName(opts.name)
  if (!/^[A-Za-z0-9]{1,128}$/.test(opts.nodeId)) throw INVALID_INPUT('nodeId', `must be a node id (letters and digits, as engram status shows it), got ${JSON.stringify(opts.nodeId)}`)
  const keys = await generateKeys()
  const caCert = opts.ca === 'self' ? undefined : new x509.X509Certificate(opts.ca.certPem)
  const caKey = opts.ca === 'self' ? keys.privateKey : await importKey(opts.ca.keyPem)
  const notBefore = opts.notBefore ?? startOfValidity()
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + PEER_DAYS * DAY_MS)
  const names: JsonGeneralName[] = [{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' }]
  for (const h of opts.hosts ?? []) {
    const host = checkHost(h)
    const name: JsonGeneralName = { type: isIP(host) !== 0 ? 'ip' : 'dns', value: host }
    if (!names.some(n => n.type === name.type && n.value === name.value)) names.push(name)
  }
  names.push({ type: 'url', value: NODE_URI_PREFIX + opts.nodeId })
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: [{ CN: [opts.name] }],
    issuer: caCert?.subject ?? `CN=${opts.name}`,
    notBefore,
    notAfter,
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([OID_SERVER_AUTH, OID_CLIENT_AUTH], false),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert ?? keys.publicKey, false)
    ]
  })
  return { certPem: cert.toString('pem') + '\n', keyPem: await keyPem(keys.privateKey) }
}

/** A certificate name: letters, digits, '.', '_' and '-'. */
export function checkName (name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) {
    throw INVALID_INPUT('NAME', `must be 1 to 64 letters, digits, ".", "_" or "-" (a machine name such as laptop), got ${JSON.stringify(name)}`)
  }
  return name
}

function checkHost (host: string): string {
  const h = host.replace(/^\[|\]$/g, '')
  if (isIP(h) !== 0) return h
  if (!/^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/.test(h)) {
    throw INVALID_INPUT('--host', `must be a host name or an IP address, got ${JSON.stringify(host)}`)
  }
  return h.toLowerCase()
}

async function generateKeys (): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(ALG, true, ['sign', 'verify'])
}

async function keyPem (key: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey('pkcs8', key))
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`
}

async function importKey (pem: string): Promise<CryptoKey> {
  const m = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/.exec(pem)
  if (m === null) throw INVALID_INPUT('CA key', 'must be a PKCS#8 PEM private key (BEGIN PRIVATE KEY), as engram tls init writes it')
  try {
    return await crypto.subtle.importKey('pkcs8', Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'), ALG, false, ['sign'])
  } catch (e) {
    throw INVALID_INPUT('CA key', `is not an ECDSA P-256 key (${e instanceof Error ? e.message : String(e)}); engram tls issue signs with keys made by engram tls init`)
  }
}

/** A positive 128-bit serial number, hex. */
function serial (): string {
  const b = randomBytes(16)
  b[0] = (b[0]! & 0x7f) | 0x01
  return b.toString('hex')
}

/** Five minutes ago, whole seconds: tolerates small clock differences between machines. */
function startOfValidity (): Date {
  return new Date(Math.floor((Date.now() - 5 * 60_000) / 1000) * 1000)
}

function addYears (d: Date, years: number): Date {
  const out = new Date(d.getTime())
  out.setUTCFullYear(out.getUTCFullYear() + years)
  return out
}
