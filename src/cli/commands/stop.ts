/**
 * `engram stop`: stops the daemon of a data directory on this machine, the way a service manager
 * would (SIGTERM: it closes the API and the store cleanly and removes its api.json), and waits
 * until its process has exited.
 *
 * It signals only a process it is sure of: the pid of the data directory's api.json, whose API
 * answers with the node id that file names. A stale file (its process gone, or the pid reused by
 * something else) is never acted on.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { loadConfig } from '../../config/load.ts'
import { CONFLICT, TIMEOUT, UNAVAILABLE } from '../../core/errors.ts'
import { isRunning, readLiveApiInfo } from '../../node/apiInfo.ts'
import { readApiToken } from '../../node/apiToken.ts'
import { COMMON_OPTIONS, intOption, str } from '../args.ts'
import { ApiClient } from '../../client/ApiClient.ts'
import type { Command } from '../command.ts'
import { clientTlsFor } from '../connect.ts'
import { EXIT, USAGE } from '../exit.ts'
import { printJson } from '../io.ts'

const DEFAULT_WAIT_SECONDS = 60
const POLL_MS = 50

export const stopCommand: Command = {
  name: 'stop',
  summary: 'stop the daemon of this machine (of its data directory)',
  help: `Usage: engram stop [--data-dir DIR] [--config FILE] [--wait SECONDS] [--json]

Stops the engram daemon running on this machine for the data directory (--data-dir, else the
configured one): sends it SIGTERM, as a service manager would, and waits until it has exited.
The daemon finishes the write in progress, closes its store cleanly and removes its api.json.
Exits with 3 when no daemon runs for that data directory, with 1 when it has not exited after
--wait seconds (default ${DEFAULT_WAIT_SECONDS}).

Options:
  --data-dir DIR     the data directory of the daemon to stop
  --config FILE      configuration file (for the data directory)
  --wait SECONDS     how long to wait for it to exit (default ${DEFAULT_WAIT_SECONDS})
  --json             print {stopped, pid, nodeId, dataDir}
  -h, --help         this help

Examples:
  engram stop
  engram stop --data-dir /tmp/engram-b
`,
  options: { ...COMMON_OPTIONS, 'data-dir': { type: 'string' }, config: { type: 'string' }, wait: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const waitSeconds = intOption(values, 'wait', 'stop') ?? DEFAULT_WAIT_SECONDS
    if (waitSeconds < 1 || waitSeconds > 3600) throw USAGE(`--wait must be from 1 to 3600 seconds, got ${waitSeconds}`, 'stop')
    const dataDir = str(values, 'data-dir')
    const { config } = loadConfig({ file: str(values, 'config'), env: io.env, flags: dataDir !== undefined ? { dataDir } : {}, cwd: io.cwd })
    const info = readLiveApiInfo(config.dataDir)
    if (info === undefined) {
      throw UNAVAILABLE(`no engram daemon is running for ${config.dataDir} (no live api.json there); give the daemon's --data-dir`,
        { dataDir: config.dataDir, unreachable: true })
    }
    // Make sure the pid is that daemon's: its API answers with the node id of api.json.
    const client = new ApiClient(info.url, {
      timeoutMs: 10_000,
      tls: info.url.startsWith('https:') ? clientTlsFor(info.url, config, io) : undefined,
      token: readApiToken(config.dataDir)
    })
    const status = await client.status()
    if (status.nodeId !== info.nodeId) {
      throw CONFLICT(`the API at ${info.url} is node ${status.nodeId}, not node ${info.nodeId} of ${config.dataDir}/api.json; nothing was stopped`, { url: info.url })
    }
    process.kill(info.pid, 'SIGTERM')
    const deadline = Date.now() + waitSeconds * 1000
    while (isRunning(info.pid)) {
      if (Date.now() > deadline) {
        throw TIMEOUT(`waiting for the daemon (pid ${info.pid}) to exit after SIGTERM (it may be finishing a long write: wait, or stop it at once with kill -KILL ${info.pid})`, waitSeconds * 1000)
      }
      await delay(POLL_MS)
    }
    const result = { stopped: true, pid: info.pid, nodeId: info.nodeId, dataDir: config.dataDir }
    if (values.json === true) printJson(io, result)
    else io.out(`stopped node ${info.nodeId} (pid ${info.pid}, ${config.dataDir})\n`)
    return EXIT.ok
  }
}
