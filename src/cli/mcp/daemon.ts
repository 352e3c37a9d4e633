/**
 * The daemon `engram mcp` and the memory-file commands talk to: found like every CLI command
 * finds it (--url, ENGRAM_URL, <dataDir>/api.json, the configured address; cli/connect.ts) and
 * checked to answer. When none answers, the error says how to start one; with `startDaemon`
 * one is started: `engram start` with the same --data-dir and --config, detached (it keeps
 * running for other agents after this process ends), logging to <dataDir>/daemon.log.
 */
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { loadConfig } from '../../config/load.ts'
import { EngramError, isEngramError, UNAVAILABLE } from '../../core/errors.ts'
import { readLiveApiInfo } from '../../node/apiInfo.ts'
import { readApiToken } from '../../node/apiToken.ts'
import { ensureDataDir } from '../../node/paths.ts'
import type { Logger } from '../../util/log.ts'
import { str, type Values } from '../args.ts'
import { ApiClient } from '../../client/ApiClient.ts'
import { clientTlsOf } from '../../tls/NodeTls.ts'
import type { ClientTls } from '../../tls/client.ts'
import { resolveTarget } from '../connect.ts'
import { cliEntry } from '../entry.ts'
import { missingDaemonFlags, withDaemonEnv } from '../launch.ts'
import { UNREACHABLE } from '../exit.ts'
import type { CliIo } from '../io.ts'

/** How long a started daemon may take to answer. */
const START_TIMEOUT_MS = 30_000

const START_HINT = 'or add --start-daemon to the arguments of engram mcp so that it starts one itself'

/** The daemon did not answer: says how to start one, here and from an MCP client's configuration. */
function noDaemon (unreachable: EngramError): EngramError {
  return UNAVAILABLE(`${unreachable.message}; ${START_HINT}`, unreachable.details)
}

const isUnreachable = (e: unknown): boolean => isEngramError(e) && e.details?.unreachable === true

/**
 * A client of a daemon that answers, starting one when `startDaemon` and none does. With
 * --data-dir, only that directory's daemon will do (cli/connect.ts): when it is not running,
 * `startDaemon` starts it — on a free port, published in its api.json, since the configured port
 * belongs to the machine's usual node (unless --config names a configuration of its own) — and
 * never falls back to another one.
 */
export async function connectDaemon (values: Values, io: CliIo, opts: { startDaemon: boolean, log: Logger }): Promise<ApiClient> {
  const explicit = str(values, 'url') ?? (io.env.ENGRAM_URL !== undefined && io.env.ENGRAM_URL !== '' ? io.env.ENGRAM_URL : undefined)
  const { config } = loadConfig({ file: str(values, 'config'), env: io.env, flags: dataDirFlag(values), cwd: io.cwd })
  const tls = clientTlsOf(config.tls)
  const ownDir = explicit === undefined && str(values, 'data-dir') !== undefined
  const start = async (): Promise<ApiClient> => {
    const url = await startDaemon(values, io, config.dataDir, opts.log, tls, ownDir && str(values, 'config') === undefined)
    return new ApiClient(url, { tls, token: readApiToken(config.dataDir) })
  }
  // With api.port 0 the only way to a daemon is its api.json; without one there is nothing to try.
  if (explicit === undefined && config.api.port === 0 && readLiveApiInfo(config.dataDir) === undefined) {
    if (!opts.startDaemon) throw noDaemon(UNREACHABLE(`${config.dataDir}/api.json`, 'no running daemon has published its URL there'))
    return await start()
  }
  let client: ApiClient | undefined
  try {
    const target = resolveTarget(values, io)
    client = new ApiClient(target.url, { tls: target.tls, token: target.token })
    await client.health()
    return client
  } catch (e) {
    if (!isUnreachable(e)) throw e
    if (!opts.startDaemon) throw noDaemon(e as EngramError)
    if (explicit !== undefined) {
      throw UNAVAILABLE(
        `${(e as EngramError).message}; --start-daemon starts a daemon for a data directory, not at a given URL: ` +
        'use --data-dir instead of --url / ENGRAM_URL, or start the daemon at that URL yourself', { url: client?.baseUrl ?? explicit, unreachable: true })
    }
    return await start()
  }
}

function dataDirFlag (values: Values): { dataDir?: string } {
  const d = str(values, 'data-dir')
  return d === undefined ? {} : { dataDir: d }
}

/** Starts `engram start` detached for `dataDir` and answers its URL once it answers. */
async function startDaemon (values: Values, io: CliIo, dataDir: string, log: Logger, tls: ClientTls | undefined, anyPort: boolean): Promise<string> {
  // the daemon's V8 flags on its command line and its variables in its environment: it then need
  // not replace its process (launch.ts)
  const args = [...missingDaemonFlags([], io.env.NODE_OPTIONS), cliEntry(), 'start']
  const dataDirValue = str(values, 'data-dir')
  const configFile = str(values, 'config')
  if (dataDirValue !== undefined) args.push('--data-dir', dataDirValue)
  if (configFile !== undefined) args.push('--config', configFile)
  if (anyPort) args.push('--port', '0')
  ensureDataDir(dataDir)
  const logFile = join(dataDir, 'daemon.log')
  const fd = openSync(logFile, 'a', 0o600)
  let exited: number | string | undefined
  let pid: number | undefined
  try {
    const child = spawn(process.execPath, args, { cwd: io.cwd, env: withDaemonEnv(io.env), detached: true, stdio: ['ignore', fd, fd] })
    pid = child.pid
    child.on('exit', (code, signal) => { exited = code ?? signal ?? 'unknown' })
    child.on('error', e => { exited = e.message })
    child.unref()
  } finally {
    closeSync(fd)
  }
  log.info('no engram daemon was running; started one', { pid, dataDir, log: logFile })
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw UNAVAILABLE(`the engram daemon started by --start-daemon exited (${exited}) before answering: ${lastLines(logFile)}`,
        { log: logFile, unreachable: true })
    }
    const info = readLiveApiInfo(dataDir)
    if (info !== undefined && info.pid === pid) {
      try {
        await new ApiClient(info.url, { timeoutMs: 2000, tls, token: readApiToken(dataDir) }).health()
        return info.url
      } catch (e) {
        if (!isUnreachable(e)) throw e
      }
    }
    await delay(50)
  }
  throw UNAVAILABLE(`the engram daemon started by --start-daemon (pid ${pid}) did not answer within ${START_TIMEOUT_MS / 1000} s; see ${logFile}`,
    { log: logFile, unreachable: true })
}

function lastLines (file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ')
  } catch {
    return `see ${file}`
  }
}
