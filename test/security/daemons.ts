/**
 * engram daemons with TLS on, for the authentication matrix: a CA (and a second one, for the
 * wrong-CA cases), node identities made before the daemon starts (so each certificate can be
 * bound to its node), certificates of every kind from src/tls, and `engram start` in a child
 * process per node, talked to over HTTPS with a client certificate of the CA.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ApiClient } from '../../src/client/ApiClient.ts'
import { loadOrCreateIdentity } from '../../src/node/identity.ts'
import { createCa, issuePeer, type KeyAndCert } from '../../src/tls/certificates.ts'
import type { ClientTls } from '../../src/tls/client.ts'
import { startDaemon, type Daemon, type Sandbox } from '../cli/helpers.ts'

export const PASSPHRASE = 'the right passphrase, long enough'
export const SEED = 'the-right-seed-Kq7Pw2mZ'
const DAY = 86_400_000

export interface Pki {
  readonly dir: string
  readonly ca: KeyAndCert
  readonly caFile: string
  readonly otherCa: KeyAndCert
  readonly otherCaFile: string
}

export async function makePki (box: Sandbox): Promise<Pki> {
  const dir = join(box.root, 'pki')
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const [ca, otherCa] = await Promise.all([createCa(), createCa({ commonName: 'another sync CA' })])
  const caFile = join(dir, 'ca.crt')
  const otherCaFile = join(dir, 'other-ca.crt')
  writeFileSync(caFile, ca.certPem)
  writeFileSync(otherCaFile, otherCa.certPem)
  return { dir, ca, caFile, otherCa, otherCaFile }
}

export type CertKind = 'good' | 'other-ca' | 'expired' | 'not-yet-valid' | 'self-signed'

export interface CertFiles {
  readonly cert: string
  readonly key: string
  /** The tls.ca of a node holding this certificate (the other CA for 'other-ca'). */
  readonly ca: string
  readonly pem: KeyAndCert
}

/** A certificate of `kind` for `nodeId`, written as files (the key with mode 0600). */
export async function certFor (pki: Pki, name: string, nodeId: string, kind: CertKind = 'good'): Promise<CertFiles> {
  const now = Date.now()
  const dates = kind === 'expired'
    ? { notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) }
    : kind === 'not-yet-valid' ? { notBefore: new Date(now + DAY), notAfter: new Date(now + 30 * DAY) } : {}
  const ca = kind === 'other-ca' ? pki.otherCa : kind === 'self-signed' ? 'self' : pki.ca
  const pem = await issuePeer({ ca, name, nodeId, ...dates })
  const cert = join(pki.dir, `${name}.crt`)
  const key = join(pki.dir, `${name}.key`)
  writeFileSync(cert, pem.certPem)
  writeFileSync(key, pem.keyPem, { mode: 0o600 })
  return { cert, key, ca: kind === 'other-ca' ? pki.otherCaFile : pki.caFile, pem }
}

/** The TLS options a test client uses with these files. */
export function clientTls (files: CertFiles, caFile = files.ca): ClientTls {
  return { ca: readFileSync(caFile, 'utf8'), cert: files.pem.certPem, key: files.pem.keyPem }
}

export interface SecureNode {
  readonly name: string
  readonly nodeId: string
  readonly url: string
  readonly dataDir: string
  readonly configFile: string
  readonly daemon: Daemon
  /** A client of its API over HTTPS, presenting a good certificate of the CA. */
  readonly client: ApiClient
  /** Live record counts of its store (GET /api/v1/status). */
  stats (): Promise<Record<string, number>>
  stderr (): string
  stop (): Promise<void>
}

/** A node's data directory and identity, made before its daemon starts. */
export async function prepareNode (box: Sandbox, name: string): Promise<{ dir: string, dataDir: string, nodeId: string }> {
  const dir = join(box.root, name)
  const dataDir = join(dir, 'data')
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const { nodeId } = await loadOrCreateIdentity(dataDir)
  return { dir, dataDir, nodeId }
}

export interface SecureNodeOptions {
  /** The node's certificate files; absent: TLS off. */
  readonly tls?: CertFiles
  readonly requireClientCert?: boolean
  /** null: no passphrase. Default PASSPHRASE. */
  readonly passphrase?: string | null
  /** p2p.seed (also without P2P: REST then checks it too). Default SEED; null: none. */
  readonly seed?: string | null
  readonly p2p?: Record<string, unknown>
  readonly sync?: Record<string, unknown>
  /** A client certificate for the test's own API client (default: the node's own). */
  readonly clientCert?: CertFiles
}

export async function startSecureNode (box: Sandbox, name: string, opts: SecureNodeOptions = {}): Promise<SecureNode> {
  const { dir, dataDir, nodeId } = await prepareNode(box, name)
  const passphrase = opts.passphrase === undefined ? PASSPHRASE : opts.passphrase
  const seed = opts.seed === undefined ? SEED : opts.seed
  const config = {
    sync: { intervalSeconds: 3600, retryBaseMs: 100, ...(passphrase !== null ? { passphrase } : {}), ...opts.sync },
    p2p: { ...(seed !== null ? { seed } : {}), ...opts.p2p },
    ...(opts.tls !== undefined
      ? { tls: { cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.ca, requireClientCert: opts.requireClientCert ?? true } }
      : {})
  }
  const configFile = join(dir, 'config.json5')
  writeFileSync(configFile, JSON.stringify(config, null, 2), { mode: 0o600 })
  // The matrix fails many handshakes on purpose, all from 127.0.0.1: online guessing is throttled per source.
  const daemon = await startDaemon(dataDir, { ...box.env, ENGRAM_TEST_P2P_FAILED_HANDSHAKES: '1000' }, ['--config', configFile])
  const own = opts.clientCert ?? opts.tls
  const client = new ApiClient(daemon.url, { timeoutMs: 60_000, ...(own !== undefined ? { tls: clientTls(own) } : {}) })
  return {
    name,
    nodeId,
    url: daemon.url,
    dataDir,
    configFile,
    daemon,
    client,
    stats: async () => (await client.status()).store.stats as unknown as Record<string, number>,
    stderr: () => daemon.stderr(),
    async stop () {
      const r = await daemon.stop('SIGTERM')
      if (r.code !== 0) throw new Error(`${name} stopped with ${r.code ?? r.signal}: ${daemon.stderr()}`)
    }
  }
}

/** Lines of `text` that match `pattern`. */
export function countLines (text: string, pattern: RegExp): number {
  return text.split('\n').filter(l => pattern.test(l)).length
}

/** Escapes a string for use in a RegExp. */
export const literal = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
