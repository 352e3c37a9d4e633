/**
 * Checking a peer's certificate against this node's CA (`tls.ca`), the same way for REST (the
 * client certificate of a TLS connection, the server certificate of a peer's answer) and for
 * native sync (the certificate in the peer's `hello`):
 *
 *   1. it is a certificate at all (missing: refused)
 *   2. it is signed by the CA (a self-signed one, or one of another CA: refused)
 *   3. it is valid now, and so is the CA (expired, or not valid yet: refused)
 *   4. it is a peer certificate, not a CA certificate
 *   5. it binds a node id (URI SAN `engram:node:<id>`), and, when the peer's node id is known
 *      (proven by the transport, or by the signed request), exactly that one
 *
 * Every refusal has a message that says what is wrong and what to do; the caller prefixes who
 * was refused. Node's own X.509 code (OpenSSL) does the parsing and the signature checks.
 */
import { X509Certificate, sign, verify, type KeyObject } from 'node:crypto'
import { INVALID_INPUT } from '../core/errors.ts'
import { NODE_URI_PREFIX } from './certificates.ts'

export type CertProblem =
  | 'missing' | 'unreadable' | 'self-signed' | 'not-signed-by-ca' | 'expired' | 'not-yet-valid'
  | 'not-a-peer-certificate' | 'no-node-id' | 'wrong-node'

export type CertCheck =
  | { readonly ok: true, readonly cert: X509Certificate, readonly nodeId: string }
  | { readonly ok: false, readonly problem: CertProblem, readonly message: string }

const OID_SERVER_AUTH = '1.3.6.1.5.5.7.3.1'
const OID_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2'

export class CertificateAuthority {
  readonly cert: X509Certificate
  readonly pem: string

  /** `pem`: the CA certificate. Throws INVALID_INPUT when it is not a CA certificate. */
  constructor (pem: string) {
    let cert: X509Certificate
    try {
      cert = new X509Certificate(pem)
    } catch (e) {
      throw INVALID_INPUT('tls.ca', `is not a PEM certificate (${e instanceof Error ? e.message : String(e)})`)
    }
    if (!cert.ca) throw INVALID_INPUT('tls.ca', `is not a CA certificate (${cert.subject.replace(/\n/g, ', ')} has no basicConstraints CA:true); use the ca.crt that engram tls init wrote`)
    this.cert = cert
    this.pem = pem
  }

  get name (): string {
    return dn(this.cert.subject)
  }

  /** Checks a peer's certificate (DER or parsed) at time `now`; `nodeId`: the node it must bind. */
  check (cert: X509Certificate | Uint8Array | undefined, opts: { now: number, nodeId?: string }): CertCheck {
    if (cert === undefined || (cert instanceof Uint8Array && cert.byteLength === 0)) {
      return refuse('missing', `presented no certificate; with TLS on, every peer needs one signed by this node's CA ("${this.name}"): engram tls issue`)
    }
    let x: X509Certificate
    try {
      x = cert instanceof X509Certificate ? cert : new X509Certificate(cert)
    } catch (e) {
      return refuse('unreadable', `sent a certificate that cannot be read (${e instanceof Error ? e.message : String(e)})`)
    }
    const name = dn(x.subject)
    if (!(x.checkIssued(this.cert) && x.verify(this.cert.publicKey))) {
      if (x.issuer === x.subject && safeVerify(x, x.publicKey)) {
        return refuse('self-signed', `its certificate ("${name}") is self-signed, not signed by this node's CA ("${this.name}"): issue it with engram tls issue from the same CA`)
      }
      return refuse('not-signed-by-ca', `its certificate ("${name}", issued by "${dn(x.issuer)}") is not signed by this node's CA ("${this.name}"): re-issue it with engram tls issue from the same CA, or give both nodes the same tls.ca`)
    }
    const now = opts.now
    if (now > this.cert.validToDate.getTime()) return refuse('expired', `this node's CA certificate ("${this.name}", tls.ca) expired on ${iso(this.cert.validToDate)}: make a new CA (engram tls init) and new certificates`)
    if (now < x.validFromDate.getTime()) {
      return refuse('not-yet-valid', `its certificate ("${name}") is not valid before ${iso(x.validFromDate)}: check both machines' clocks, or issue a new one with engram tls issue`)
    }
    if (now > x.validToDate.getTime()) return refuse('expired', `its certificate ("${name}") expired on ${iso(x.validToDate)}: issue a new one with engram tls issue`)
    const eku = x.keyUsage as string[] | undefined
    if (x.ca || (eku !== undefined && !eku.includes(OID_SERVER_AUTH) && !eku.includes(OID_CLIENT_AUTH))) {
      return refuse('not-a-peer-certificate', `its certificate ("${name}") is not a peer certificate (a CA certificate, or not for TLS clients and servers): use one made by engram tls issue`)
    }
    const ids = nodeIdsOf(x)
    if (ids.length !== 1) {
      return refuse('no-node-id', ids.length === 0
        ? `its certificate ("${name}") binds no node id (no URI ${NODE_URI_PREFIX}<id> in its subjectAltName): issue it with engram tls issue`
        : `its certificate ("${name}") binds more than one node id: issue one certificate per node with engram tls issue`)
    }
    const nodeId = ids[0]!
    if (opts.nodeId !== undefined && opts.nodeId !== nodeId) {
      return refuse('wrong-node', `its certificate ("${name}") binds node ${nodeId}, but the peer is node ${opts.nodeId}: issue each node its own certificate (engram tls issue NAME --node-id <its id>)`)
    }
    return { ok: true, cert: x, nodeId }
  }
}

function refuse (problem: CertProblem, message: string): CertCheck {
  return { ok: false, problem, message }
}

function safeVerify (x: X509Certificate, key: KeyObject): boolean {
  try { return x.verify(key) } catch { return false }
}

/** A distinguished name on one line ("CN=laptop"). */
const dn = (s: string): string => s.replace(/\n/g, ', ')
const iso = (d: Date): string => d.toISOString()

/** The node ids a certificate binds: its URI SANs `engram:node:<id>`. */
export function nodeIdsOf (cert: X509Certificate): string[] {
  const ids = new Set<string>()
  for (const { type, value } of parseSubjectAltName(cert.subjectAltName ?? '')) {
    if (type === 'URI' && value.startsWith(NODE_URI_PREFIX)) ids.add(value.slice(NODE_URI_PREFIX.length))
  }
  return [...ids]
}

/**
 * The node a certificate (DER) binds: its one node id, '' when it binds none or several or
 * cannot be read, undefined when there is no certificate.
 */
export function certificateNodeId (der: Uint8Array | undefined): string | undefined {
  if (der === undefined || der.byteLength === 0) return undefined
  try {
    const ids = nodeIdsOf(new X509Certificate(der))
    return ids.length === 1 ? ids[0] : ''
  } catch {
    return ''
  }
}

/**
 * Node's rendering of a subjectAltName ("DNS:localhost, IP Address:127.0.0.1, URI:engram:node:…")
 * as entries. Node writes a value that holds a comma, a quote or another special character as a
 * JSON string, so a crafted value cannot pose as a second entry.
 */
export function parseSubjectAltName (san: string): Array<{ type: string, value: string }> {
  const out: Array<{ type: string, value: string }> = []
  let i = 0
  while (i < san.length) {
    const colon = san.indexOf(':', i)
    if (colon < 0) break
    const type = san.slice(i, colon)
    let value: string
    let next: number
    if (san[colon + 1] === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(san.slice(colon + 1))
      if (m === null) break
      try { value = JSON.parse(m[0]) as string } catch { break }
      next = colon + 1 + m[0].length
    } else {
      const end = san.indexOf(', ', colon + 1)
      next = end < 0 ? san.length : end
      value = san.slice(colon + 1, next)
    }
    out.push({ type, value })
    i = san.startsWith(', ', next) ? next + 2 : next
  }
  return out
}

/** Signs with a certificate's private key (ECDSA and RSA with SHA-256, Ed25519 as is). */
export function signWith (key: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(digestFor(key), data, key))
}

/** Whether `sig` is the signature of `data` by the key of `cert`. */
export function verifySignature (cert: X509Certificate, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    return verify(digestFor(cert.publicKey), data, cert.publicKey, sig)
  } catch {
    return false
  }
}

function digestFor (key: KeyObject): string | null {
  const t = key.asymmetricKeyType
  return t === 'ed25519' || t === 'ed448' ? null : 'sha256'
}
