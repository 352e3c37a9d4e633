/** `engram config print`: the effective configuration and the source of every value. */
import { loadConfig, valueOf, type ConfigFlags, type LoadedConfig } from '../../config/load.ts'
import { CONFIG_KEYS, SCHEMA, type ConfigKey } from '../../config/schema.ts'
import { hidden } from '../../config/values.ts'
import { COMMON_OPTIONS, str } from '../args.ts'
import type { Command } from '../command.ts'
import { EXIT } from '../exit.ts'
import { columns, printJson, type CliIo } from '../io.ts'

/** Options of the commands that build a configuration (start, config print), and the keys they set. */
export const CONFIG_FLAG_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'data-dir': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'log-level': { type: 'string' }
} as const

export const CONFIG_FLAGS_HELP = `  -c, --config FILE  JSON5 configuration file (default: ENGRAM_CONFIG, else
                     $XDG_CONFIG_HOME/engram/config.json5 or ~/.config/engram/config.json5 if it exists)
  --data-dir DIR     data directory (dataDir)
  --port N           REST API port (api.port); 0 picks a free one
  --host H           REST API address (api.host)
  --log-level L      error | warn | info | debug (log.level)`

/** Loads the configuration from the flags of CONFIG_FLAG_OPTIONS, the environment and the file. */
export function loadFromFlags (values: Record<string, unknown>, io: CliIo): LoadedConfig {
  const flags: ConfigFlags = {
    dataDir: values['data-dir'],
    'api.port': values.port,
    'api.host': values.host,
    'log.level': values['log-level']
  }
  return loadConfig({ file: typeof values.config === 'string' ? values.config : undefined, env: io.env, flags, cwd: io.cwd })
}

const shown = (key: ConfigKey, value: unknown): unknown => (value !== undefined && SCHEMA[key].secret === true ? hidden(value) : value)

function display (value: unknown): string {
  if (value === undefined) return '(unset)'
  if (Array.isArray(value)) return value.length === 0 ? '[]' : value.join(',')
  return String(value)
}

export const configPrintCommand: Command = {
  name: 'config print',
  summary: 'print the effective configuration and where each value comes from',
  help: `Usage: engram config print [--config FILE] [--data-dir DIR] [--port N] [--host H] [--json]

Prints every configuration key with its effective value and its source: default,
file:<path>, env:<VARIABLE> or flag:--<flag>. Precedence: default < file < environment <
flags. Secrets (p2p.seed, sync.passphrase) are shown as <hidden>. Needs no running daemon.
Exits with 78 when the configuration is invalid, naming the key, the value and what is allowed.

Options:
${CONFIG_FLAGS_HELP}
  --json             print {config, sources, file} as JSON
  -h, --help         this help

Examples:
  engram config print
  ENGRAM_SYNC_INTERVAL_SECONDS=60 engram config print --port 19190
  engram config print --config ./engram.json5 --json

All keys: docs/CONFIGURATION.md.
`,
  options: { ...COMMON_OPTIONS, ...CONFIG_FLAG_OPTIONS, json: { type: 'boolean' } },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const loaded = loadFromFlags(values, io)
    if (values.json === true) {
      const flat = Object.fromEntries(CONFIG_KEYS.map(k => [k, shown(k, valueOf(loaded.config, k)) ?? null]))
      printJson(io, { config: nest(flat), sources: loaded.sources, file: loaded.file ?? null })
      return EXIT.ok
    }
    if (str(values, 'config') === undefined && loaded.file === undefined) io.err('no configuration file; showing defaults, environment and flags\n')
    io.out(columns(CONFIG_KEYS.map(k => [k, display(shown(k, valueOf(loaded.config, k))), loaded.sources[k]])))
    return EXIT.ok
  }
}

function nest (flat: Record<string, unknown>): Record<string, unknown> {
  const root: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(flat)) {
    const parts = key.split('.')
    let node = root
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>
    node[parts.at(-1)!] = value
  }
  return root
}
