/**
 * `engram relay`: runs a relay (circuit relay v2) in the foreground for the groups whose admission
 * keys it is given, until SIGINT or SIGTERM. `engram relay key` prints the admission key of this
 * node's seed, the one value a relay operator needs (docs/DISCOVERY.md "Relays").
 */
import { CONFIG_INVALID } from '../../core/errors.ts'
import { formatAdmissionKey, seedKeys } from '../../core/seedKeys.ts'
import { createLogger } from '../../util/log.ts'
import { COMMON_OPTIONS } from '../args.ts'
import type { Command } from '../command.ts'
import { EXIT } from '../exit.ts'
import { printJson } from '../io.ts'
import { loadFromFlags } from './config.ts'

const RELAY_OPTIONS = {
  ...COMMON_OPTIONS,
  config: { type: 'string', short: 'c' },
  'data-dir': { type: 'string' },
  listen: { type: 'string' },
  'log-level': { type: 'string' },
  json: { type: 'boolean' }
} as const

export const relayCommand: Command = {
  name: 'relay',
  summary: 'run a relay for nodes behind NATs (circuit relay v2), without a store or a seed',
  help: `Usage: engram relay [--config FILE] [--data-dir DIR] [--listen HOST] [--log-level L]

Runs a relay in the foreground on p2p.port (QUIC on UDP and TCP, default 19091): nodes that
cannot be dialled directly reserve a slot on it and reach each other through it. It admits only
nodes that prove one of its admission keys, and forwards encrypted bytes it cannot read.

Give it the admission key of each group it serves (printed by \`engram relay key\` on a node of
that group; the seed itself is never needed):
  ENGRAM_P2P_RELAY_ADMISSION_KEYS=<64 hex digits>[,<another>] engram relay

It prints its node id and addresses; members add "<node id>@<public host>:<p2p.port>" to
p2p.relays. Limits: p2p.relay.maxReservations, maxCircuitsPerPeer, maxCircuitBytes,
maxCircuitSeconds. The identity key is kept in the data directory, so the node id stays.

With ENGRAM_P2P_MAILBOX_ENABLED=true it also holds sealed changes for offline members (a
mailbox: ciphertext only, in mailbox.db in the data directory, up to p2p.mailbox.maxBytes and
for p2p.mailbox.retentionHours).

Options:
  -c, --config FILE  JSON5 configuration file
  --data-dir DIR     where the relay's identity key (and mailbox) is kept (dataDir)
  --listen HOST      address to listen on (default 0.0.0.0)
  --log-level L      error, warn, info or debug
  --json             print the start line as JSON
  -h, --help         this help

Examples:
  ENGRAM_P2P_RELAY_ADMISSION_KEYS=3f0c… engram relay --data-dir /var/lib/engram-relay
  ENGRAM_P2P_PORT=4001 engram relay --listen 203.0.113.7
`,
  options: RELAY_OPTIONS,
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const loaded = loadFromFlags(values, io)
    const log = createLogger({ level: loaded.config.log.level, sink: line => io.err(line + '\n') })
    const { RelayNode } = await import('../../node/RelayNode.ts')
    const listen = typeof values.listen === 'string' ? [values.listen] : undefined
    const relay = await RelayNode.start(loaded.config, { log, ...(listen !== undefined ? { hosts: listen } : {}) })
    const addrs = relay.listenAddrs()
    if (values.json === true) printJson(io, { node_id: relay.nodeId, listen_addrs: addrs })
    else io.out(`relay ${relay.nodeId} listening on:\n${addrs.map(a => `  ${a}`).join('\n')}\nmembers add to p2p.relays: "${relay.nodeId}@<this machine's public address>:${loaded.config.p2p.port}"\n`)
    const signal = await new Promise<NodeJS.Signals>(resolve => {
      const on = (s: NodeJS.Signals): void => { process.off('SIGINT', on).off('SIGTERM', on); resolve(s) }
      process.on('SIGINT', on).on('SIGTERM', on)
    })
    log.info(`received ${signal}; stopping the relay`)
    await relay.stop()
    setTimeout(() => { process.exit(EXIT.ok) }, 500).unref()
    return EXIT.ok
  }
}

export const relayKeyCommand: Command = {
  name: 'relay key',
  summary: 'print the admission key a relay needs to serve this node\'s group',
  help: `Usage: engram relay key [--config FILE] [--json]

Prints the relay admission key derived from p2p.seed (ENGRAM_P2P_SEED): 64 hex digits to give
the operator of a relay (ENGRAM_P2P_RELAY_ADMISSION_KEYS there). With it a relay admits the nodes
of this seed; it opens no data and does not reveal the seed, though like anything derived from
the seed it lets its holder test guesses of a weak seed (docs/SECURITY.md). Takes under a second (Argon2id, 64 MiB).

Examples:
  engram relay key
  ENGRAM_P2P_SEED=… engram relay key --json
`,
  options: { ...COMMON_OPTIONS, config: { type: 'string', short: 'c' }, json: { type: 'boolean' } },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const { config } = loadFromFlags(values, io)
    if (config.p2p.seed === undefined) throw CONFIG_INVALID('p2p.seed', undefined, 'not set: the admission key is derived from it (set ENGRAM_P2P_SEED or p2p.seed)')
    const key = formatAdmissionKey((await seedKeys(config.p2p.seed)).relay)
    if (values.json === true) printJson(io, { admission_key: key })
    else io.out(key + '\n')
    return EXIT.ok
  }
}
