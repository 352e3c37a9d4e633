/**
 * A node's TLS material, loaded once at start from `tls.cert`, `tls.key` and `tls.ca`, and what
 * each part of the node makes of it:
 *
 *   serverOptions()   the REST API serves HTTPS with the certificate; with
 *                     tls.requireClientCert it asks every client for one (serverGate.ts checks it)
 *   client            sync requests and probes present the certificate and trust only the CA
 *   handshake()       native sync: the certificate in `hello`, signatures with its key, and the
 *                     check of the peer's certificate (docs/PROTOCOL.md §1)
 *
 * Loading refuses what cannot work: unreadable files, a key that is not the certificate's, a
 * key file others can read, a certificate the CA did not sign, or one bound to another node.
 * An expired or not-yet-valid certificate only warns (the node still serves this machine, and
 * every peer will refuse it until it is replaced).
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto'
import type { ServerOptions } from 'node:https'
import { CONFIG_INVALID, isEngramError } from '../core/errors.ts'
import type { NodeId } from '../core/ids.ts'
import type { EngramConfig } from '../config/schema.ts'
import type { HandshakeCertificates } from '../protocol/native/handshake.ts'
import { CertificateAuthority, signWith, verifySignature } from './CertificateAuthority.ts'
import type { ClientTls, PeerTls } from './client.ts'
import { assertPrivateFile, readPemFile } from './files.ts'

export type TlsSettings = EngramConfig['tls']

export class NodeTls {
  readonly cert: X509Certificate
  readonly certPem: string
  readonly keyPem: string
  readonly key: KeyObject
  readonly authority: CertificateAuthority
  readonly requireClientCert: boolean
  /** What this node presents and trusts as a TLS client. */
  readonly client: ClientTls
  /** Problems that do not stop the node (an expired certificate), to be logged. */
  readonly warnings: readonly string[]

  private constructor (p: { cert: X509Certificate, certPem: string, keyPem: string, key: KeyObject, authority: CertificateAuthority, requireClientCert: boolean, warnings: string[] }) {
    this.cert = p.cert
    this.certPem = p.certPem
    this.keyPem = p.keyPem
    this.key = p.key
    this.authority = p.authority
    this.requireClientCert = p.requireClientCert
    this.warnings = p.warnings
    this.client = { ca: p.authority.pem, cert: p.certPem, key: p.keyPem }
  }

  /**
   * The TLS of a node whose id is `nodeId`, or undefined when `tls.cert` is not set. Throws
   * CONFIG_INVALID naming the key for anything that cannot work.
   */
  static load (settings: TlsSettings, nodeId: NodeId, now = Date.now()): NodeTls | undefined {
    if (settings.cert === undefined || settings.key === undefined) return undefined
    if (settings.ca === undefined) throw CONFIG_INVALID('tls.ca', undefined, 'must be set together with tls.cert (ENGRAM_SYNC_TLS_CA): peers\' certificates are checked against it')
    const certPem = readPemFile('tls.cert', settings.cert)
    const keyPem = readPemFile('tls.key', settings.key)
    assertPrivateFile('tls.key', settings.key)
    let authority: CertificateAuthority
    try {
      authority = new CertificateAuthority(readPemFile('tls.ca', settings.ca))
    } catch (e) {
      if (isEngramError(e) && e.code === 'INVALID_INPUT') throw CONFIG_INVALID('tls.ca', settings.ca, e.message.replace(/^tls\.ca: /, ''))
      throw e
    }
    let cert: X509Certificate
    try {
      cert = new X509Certificate(certPem)
    } catch (e) {
      throw CONFIG_INVALID('tls.cert', settings.cert, `is not a PEM certificate (${e instanceof Error ? e.message : String(e)})`)
    }
    let key: KeyObject
    try {
      key = createPrivateKey(keyPem)
    } catch (e) {
      throw CONFIG_INVALID('tls.key', settings.key, `is not a PEM private key (${e instanceof Error ? e.message : String(e)})`)
    }
    if (!cert.checkPrivateKey(key)) throw CONFIG_INVALID('tls.key', settings.key, `is not the key of tls.cert (${settings.cert})`)
    const warnings: string[] = []
    const check = authority.check(cert, { now, nodeId })
    if (!check.ok) {
      const own = check.message.replace(/^its certificate/, 'the certificate')
      if (check.problem === 'expired' || check.problem === 'not-yet-valid') {
        warnings.push(`this node's certificate (tls.cert ${settings.cert}) cannot be used now: ${own}; every peer refuses this node until it is replaced`)
      } else if (check.problem === 'wrong-node') {
        throw CONFIG_INVALID('tls.cert', settings.cert, `the certificate is bound to another node (${own.replace(/^.*binds node (\S+),.*$/, '$1')}), not to this node ${nodeId}: issue this node's certificate with engram tls issue NAME --node-id ${nodeId}`)
      } else {
        throw CONFIG_INVALID('tls.cert', settings.cert, own)
      }
    }
    return new NodeTls({ cert, certPem, keyPem, key, authority, requireClientCert: settings.requireClientCert, warnings })
  }

  /** Options of the HTTPS server of the REST API. */
  serverOptions (): ServerOptions {
    return {
      cert: this.certPem,
      key: this.keyPem,
      ca: this.authority.pem,
      // The certificate is checked by serverGate.ts (with a log line that says why it is refused),
      // before the connection reaches HTTP.
      requestCert: this.requireClientCert,
      rejectUnauthorized: false
    }
  }

  /** REST sync: what this node presents and trusts, and the check of a peer's certificate at `now()`. */
  peer (now: () => number = Date.now): PeerTls {
    return {
      client: this.client,
      checkPeer: (cert, nodeId) => {
        const r = this.authority.check(cert, { now: now(), nodeId })
        return r.ok ? undefined : r.message
      }
    }
  }

  /** Native sync: this node's certificate and key, and the check of a peer's, at `now()`. */
  handshake (now: () => number = Date.now): HandshakeCertificates {
    const der = new Uint8Array(this.cert.raw)
    return {
      cert: der,
      sign: data => signWith(this.key, data),
      check: (cert, peer) => {
        const r = this.authority.check(cert, { now: now(), nodeId: peer })
        if (!r.ok) return { ok: false, message: r.message }
        return { ok: true, verify: (data, sig) => verifySignature(r.cert, data, sig) }
      }
    }
  }
}

/**
 * What a command-line client presents and trusts when it talks to the local daemon over HTTPS:
 * the configured CA and certificate (no node checks), or undefined when TLS is not configured.
 */
export function clientTlsOf (settings: TlsSettings): ClientTls | undefined {
  if (settings.ca === undefined && settings.cert === undefined) return undefined
  const ca = settings.ca !== undefined ? readPemFile('tls.ca', settings.ca) : undefined
  const withCert = settings.cert !== undefined && settings.key !== undefined
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(withCert ? { cert: readPemFile('tls.cert', settings.cert!), key: readPemFile('tls.key', settings.key!) } : {})
  }
}
