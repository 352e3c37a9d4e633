/**
 * `engram start`: runs a node in the foreground until SIGINT or SIGTERM, then stops it cleanly
 * (API closed, store closed, api.json removed) and exits 0. A second signal while stopping
 * exits at once with 130.
 */
import { assertStartable } from '../../config/load.ts'
import { createLogger } from '../../util/log.ts'
import { defaultConfigFile } from '../../util/xdg.ts'
import { COMMON_OPTIONS } from '../args.ts'
import type { Command } from '../command.ts'
import { CONFIG_UNUSABLE, UNAVAILABLE } from '../../core/errors.ts'
import { EXIT } from '../exit.ts'
import { CONFIG_FLAG_OPTIONS, CONFIG_FLAGS_HELP, loadFromFlags } from './config.ts'

export const startCommand: Command = {
  name: 'start',
  summary: 'run a node in the foreground (the daemon)',
  help: `Usage: engram start [--config FILE] [--data-dir DIR] [--port N] [--host H] [--log-level L]

Runs an engram node in the foreground: the embedded SQLite store in the data directory and
the REST API (http://127.0.0.1:19090 by default). Logs go to stderr, one line per event.
Stop it with Ctrl-C or SIGTERM; it closes the store cleanly and exits 0.

When it is listening it writes <dataDir>/api.json ({"url", "pid", …}): commands given the same
--data-dir find it there, also when --port 0 picked a free port.

Options:
${CONFIG_FLAGS_HELP}
  -h, --help         this help

Flags win over ENGRAM_* environment variables, which win over the file (docs/CONFIGURATION.md).

Examples:
  engram start
  engram start --data-dir /tmp/engram-a --port 19190
  engram start --data-dir /tmp/engram-test --port 0      (then: engram status --data-dir /tmp/engram-test)
  ENGRAM_LOG_LEVEL=debug engram start --config ~/engram.json5
`,
  options: { ...COMMON_OPTIONS, ...CONFIG_FLAG_OPTIONS },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const loaded = loadFromFlags(values, io)
    assertStartable(loaded.config, loaded.sources)
    const log = createLogger({ level: loaded.config.log.level, sink: line => io.err(line + '\n') })
    if (loaded.file !== undefined) log.debug('read the configuration file', { file: loaded.file })
    requireNode24()
    // The seed's keys (Argon2id, 64 MiB): a first start derives them before the node's modules
    // load, the node itself otherwise (node/seedKeysSchedule.ts). Loaded only here, so that the
    // client commands start fast.
    const seedKeys = await (await import('../../node/seedKeysSchedule.ts')).firstStartSeedKeys(loaded.config)
    const { EngramNode } = await import('../../node/EngramNode.ts')
    // Listening for the stop signals before the node starts: a signal that arrives while it
    // starts (api.json is already there) stops it as soon as it has started.
    let received: NodeJS.Signals | undefined
    let wake: ((s: NodeJS.Signals) => void) | undefined
    const on = (s: NodeJS.Signals): void => {
      process.off('SIGINT', on).off('SIGTERM', on)
      received = s
      wake?.(s)
    }
    process.on('SIGINT', on).on('SIGTERM', on)
    const node = await EngramNode.start(loaded.config, {
      log,
      now: testClock(io.env.ENGRAM_TEST_CLOCK_OFFSET_MS),
      p2pGossipOnly: io.env.ENGRAM_TEST_P2P_GOSSIP_ONLY === '1',
      ...(/^\d{1,6}$/.test(io.env.ENGRAM_TEST_P2P_FAILED_HANDSHAKES ?? '') ? { p2pFailedHandshakes: Number(io.env.ENGRAM_TEST_P2P_FAILED_HANDSHAKES) } : {}),
      // Watch the file that was read, or the default location (a file created later is read too).
      configFile: loaded.file ?? defaultConfigFile(io.env),
      reloadConfig: () => loadFromFlags(values, io).config,
      ...(seedKeys !== undefined ? { seedKeys } : {})
    }).catch((e: unknown) => {
      process.off('SIGINT', on).off('SIGTERM', on)
      throw e
    })
    // the parts that need the seed's keys start after the node (EngramNode.keysReady): when they
    // cannot (the derivation failed, TCP's port is taken), the daemon stops with that error
    let failure: { error: unknown } | undefined
    node.keysReady.catch((error: unknown) => { failure = { error }; wake?.('SIGTERM') })
    const signal = received ?? await new Promise<NodeJS.Signals>(resolve => { wake = resolve })
    if (failure !== undefined) {
      process.off('SIGINT', on).off('SIGTERM', on)
      await node.stop()
      throw failure.error
    }
    const force = (again: NodeJS.Signals): void => {
      log.warn(`received ${again} while stopping; exiting at once (the store recovers on the next start)`)
      process.exit(130)
    }
    process.once('SIGINT', force).once('SIGTERM', force)
    log.info(`received ${signal}; stopping`)
    await node.stop()
    process.removeListener('SIGINT', force).removeListener('SIGTERM', force)
    // The node is stopped and its store closed. QUIC connections to peers that are stopping too
    // may still be draining (up to their idle timeout); the process does not wait for them.
    setTimeout(() => { process.exit(EXIT.ok) }, 1000).unref()
    return EXIT.ok
  }
}

/**
 * The test hook ENGRAM_TEST_CLOCK_OFFSET_MS (docs/CONFIGURATION.md): the daemon's wall clock
 * runs this many milliseconds off, so tests can run a node whose clock is wrong.
 */
function testClock (offset: string | undefined): (() => number) | undefined {
  if (offset === undefined || offset === '') return undefined
  if (!/^[+-]?\d{1,15}$/.test(offset.trim())) {
    throw CONFIG_UNUSABLE(`ENGRAM_TEST_CLOCK_OFFSET_MS = ${JSON.stringify(offset)}: must be an integer number of milliseconds (a test hook; unset it)`)
  }
  const ms = Number(offset)
  return () => Date.now() + ms
}

/** The node needs node:sqlite and the rest of Node 24; say so plainly on an older runtime. */
function requireNode24 (): void {
  const major = Number(process.versions.node.split('.')[0])
  if (major >= 24) return
  throw UNAVAILABLE(
    `engram start needs Node.js 24 or later, but this is Node.js ${process.versions.node}; ` +
    'run it with npm start, or with the Node.js that npm install put in node_modules/.bin/node', { node: process.versions.node })
}
