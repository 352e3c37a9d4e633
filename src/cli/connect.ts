/**
 * Which daemon a command talks to. In order:
 *   1. --url URL
 *   2. ENGRAM_URL
 *   3. <dataDir>/api.json of a running daemon (the data dir of --data-dir, else the effective config)
 *   4. http://<api.host>:<api.port> of the effective config (--config, ENGRAM_*, the config file),
 *      but never with --data-dir: a directory named on the command line is reached through its
 *      own daemon's api.json or not at all (UNREACHABLE, exit 3), so a command meant for one node
 *      never lands on another that happens to listen on the configured port.
 *
 * The API token of the data directory (api.token) goes with every request to a daemon on this
 * machine (needed when it runs with api.requireToken); it is never sent to another machine.
 *
 * An https daemon is trusted with, in order: the configured CA and certificate (tls.ca,
 * tls.cert, tls.key), so the CLI presents that certificate when the daemon asks for one; else
 * the TLS files the daemon of the data directory published in its api.json (when the URL is
 * its URL), so a shell without the ENGRAM_SYNC_TLS_* variables still reaches it; else the CA
 * `engram tls init` made (~/.config/engram/tls/ca.crt), which signs every node of this user.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig, type ConfigFlags } from '../config/load.ts'
import type { EngramConfig } from '../config/schema.ts'
import { readLiveApiInfo, urlHost } from '../node/apiInfo.ts'
import { str, type Values } from './args.ts'
import { clientTlsOf } from '../tls/NodeTls.ts'
import type { ClientTls } from '../tls/client.ts'
import { ApiClient } from '../client/ApiClient.ts'
import { CA_CERT_FILE, defaultTlsDir, readPemFile } from '../tls/files.ts'
import { UNREACHABLE, USAGE } from './exit.ts'
import { hostAllowed } from '../util/localRequest.ts'
import { readApiToken } from '../node/apiToken.ts'
import type { CliIo } from './io.ts'

export interface Target {
  readonly url: string
  /** How the URL was found, for messages: 'flag --url', 'ENGRAM_URL', '<dir>/api.json', 'config'. */
  readonly from: string
  /** For an https URL: the configured CA and certificate. */
  readonly tls?: ClientTls
  /** The API token of the data directory, for a daemon on this machine. */
  readonly token?: string
  /** The data directory the token was read from. */
  readonly dataDir?: string
}

export function resolveTarget (values: Values, io: CliIo): Target {
  const load = (): ReturnType<typeof loadConfig>['config'] => {
    const flags: ConfigFlags = {}
    const dataDir = str(values, 'data-dir')
    if (dataDir !== undefined) flags.dataDir = dataDir
    return loadConfig({ file: str(values, 'config'), env: io.env, flags, cwd: io.cwd }).config
  }
  const withTls = (t: Target, config = load()): Target => {
    const tls = t.url.startsWith('https:') ? clientTlsFor(t.url, config, io) : undefined
    const token = isLoopbackUrl(t.url) ? readApiToken(config.dataDir) : undefined
    return { ...t, ...(tls !== undefined ? { tls } : {}), ...(token !== undefined ? { token, dataDir: config.dataDir } : {}) }
  }
  const flagUrl = str(values, 'url')
  if (flagUrl !== undefined) return withTls({ url: checkUrl(flagUrl, '--url'), from: 'flag --url' })
  const envUrl = io.env.ENGRAM_URL
  if (envUrl !== undefined && envUrl !== '') return withTls({ url: checkUrl(envUrl, 'ENGRAM_URL'), from: 'ENGRAM_URL' })
  const config = load()
  const info = readLiveApiInfo(config.dataDir)
  if (info !== undefined) return withTls({ url: info.url, from: `${config.dataDir}/api.json` }, config)
  if (str(values, 'data-dir') !== undefined) {
    throw UNREACHABLE(config.dataDir, 'no engram daemon is running for this data directory (it has no live api.json); ' +
      'nothing was sent to any other daemon')
  }
  if (config.api.port === 0) {
    throw USAGE(`api.port is 0 (any free port) and no running daemon has published its URL in ${config.dataDir}/api.json; ` +
      'start the daemon, or give its URL with --url')
  }
  const scheme = config.tls.cert !== undefined ? 'https' : 'http'
  return withTls({ url: `${scheme}://${urlHost(config.api.host)}:${config.api.port}`, from: 'config' }, config)
}

/** What the CLI trusts and presents for the https daemon at `url` (the order is in the opening comment). */
export function clientTlsFor (url: string, config: EngramConfig, io: CliIo): ClientTls | undefined {
  const configured = clientTlsOf(config.tls)
  if (configured !== undefined) return configured
  const info = readLiveApiInfo(config.dataDir)
  if (info?.tls !== undefined && new URL(info.url).origin === new URL(url).origin) {
    return clientTlsOf({ ...info.tls, requireClientCert: false })
  }
  const ca = join(defaultTlsDir(io.env), CA_CERT_FILE)
  return existsSync(ca) ? { ca: readPemFile('tls.ca', ca) } : undefined
}

export function connect (values: Values, io: CliIo): ApiClient {
  const target = resolveTarget(values, io)
  return new ApiClient(target.url, { tls: target.tls, token: target.token })
}

/** Whether a URL names this machine (a loopback address or localhost). */
function isLoopbackUrl (url: string): boolean {
  try {
    return hostAllowed(new URL(url).host, [])
  } catch {
    return false
  }
}

function checkUrl (url: string, from: string): string {
  try {
    const u = new URL(url)
    if (u.protocol === 'http:' || u.protocol === 'https:') return url
  } catch { /* reported below */ }
  throw USAGE(`${from} must be an http(s) URL such as http://127.0.0.1:19090, got ${JSON.stringify(url)}`)
}
