/**
 * Which daemon a command talks to. In order:
 *   1. --url URL
 *   2. ENGRAM_URL
 *   3. <dataDir>/api.json of a running daemon (the data dir of --data-dir, else the effective config)
 *   4. http://<api.host>:<api.port> of the effective config (--config, ENGRAM_*, the config file)
 */
import { loadConfig, type ConfigFlags } from '../config/load.ts'
import { readLiveApiInfo, urlHost } from '../node/apiInfo.ts'
import { str, type Values } from './args.ts'
import { ApiClient } from './client.ts'
import { USAGE } from './exit.ts'
import type { CliIo } from './io.ts'

export interface Target {
  readonly url: string
  /** How the URL was found, for messages: 'flag --url', 'ENGRAM_URL', '<dir>/api.json', 'config'. */
  readonly from: string
}

export function resolveTarget (values: Values, io: CliIo): Target {
  const flagUrl = str(values, 'url')
  if (flagUrl !== undefined) return { url: checkUrl(flagUrl, '--url'), from: 'flag --url' }
  const envUrl = io.env.ENGRAM_URL
  if (envUrl !== undefined && envUrl !== '') return { url: checkUrl(envUrl, 'ENGRAM_URL'), from: 'ENGRAM_URL' }
  const flags: ConfigFlags = {}
  const dataDir = str(values, 'data-dir')
  if (dataDir !== undefined) flags.dataDir = dataDir
  const { config } = loadConfig({ file: str(values, 'config'), env: io.env, flags, cwd: io.cwd })
  const info = readLiveApiInfo(config.dataDir)
  if (info !== undefined) return { url: info.url, from: `${config.dataDir}/api.json` }
  if (config.api.port === 0) {
    throw USAGE(`api.port is 0 (any free port) and no running daemon has published its URL in ${config.dataDir}/api.json; ` +
      'start the daemon, or give its URL with --url')
  }
  return { url: `http://${urlHost(config.api.host)}:${config.api.port}`, from: 'config' }
}

export function connect (values: Values, io: CliIo): ApiClient {
  return new ApiClient(resolveTarget(values, io).url)
}

function checkUrl (url: string, from: string): string {
  try {
    const u = new URL(url)
    if (u.protocol === 'http:' || u.protocol === 'https:') return url
  } catch { /* reported below */ }
  throw USAGE(`${from} must be an http(s) URL such as http://127.0.0.1:19090, got ${JSON.stringify(url)}`)
}
