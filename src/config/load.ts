/**
 * Loading the effective configuration. Precedence, lowest first:
 *
 *   schema default  <  JSON5 file  <  ENGRAM_* environment variables  <  flags
 *
 * The file is the one named by `file` (the --config flag), else by ENGRAM_CONFIG, else
 * `<XDG_CONFIG_HOME or ~/.config>/engram/config.json5` when it exists. Every value is checked
 * against the schema; an unknown key, a wrong type or a value out of range throws one
 * CONFIG_INVALID error whose one-line message names the key, the value, its source and what is
 * allowed. `sources` records where each effective value came from.
 */
import { statSync } from 'node:fs'
import { dirname } from 'node:path'
import { CONFIG_INVALID } from '../core/errors.ts'
import { nearest } from '../util/nearest.ts'
import { defaultConfigFile, homeDir, type Env } from '../util/xdg.ts'
import { readConfigFile } from './file.ts'
import { NON_KEY_ENV_VARS, derivedEnvName, envNameOf } from './envNames.ts'
import { CONFIG_KEYS, SCHEMA, defaultOf, type ConfigKey, type ConfigValue, type EngramConfig } from './schema.ts'
import { hidden, readValue, resolvePath, type RawValue } from './values.ts'
import { SECRET_RULE, secretWeakness } from './secretStrength.ts'

/** 'default', 'file:<path>', 'env:<NAME>' or 'flag:--x'. */
export type ConfigSource = 'default' | `file:${string}` | `env:${string}` | `flag:${string}`

/** Values set on the command line (or in code), by key. Strings are parsed like environment values. */
export type ConfigFlags = Partial<Record<ConfigKey, unknown>>

export interface LoadConfigOptions {
  /** Path of the config file (the --config flag); false: read no file at all. */
  readonly file?: string | false
  /** The environment (process.env for the CLI). */
  readonly env: Env
  readonly flags?: ConfigFlags
  /** Directory relative paths in the environment and flags resolve against. Default: process.cwd(). */
  readonly cwd?: string
}

export interface LoadedConfig {
  readonly config: EngramConfig
  readonly sources: Readonly<Record<ConfigKey, ConfigSource>>
  /** The file that was read, if any. */
  readonly file?: string
}

const ENV_TO_KEY = new Map(CONFIG_KEYS.map(k => [envNameOf(k), k]))
/** The derived name of keys whose variable is named otherwise (ENGRAM_TLS_CERT → ENGRAM_SYNC_TLS_CERT). */
const DERIVED_TO_ENV = new Map(CONFIG_KEYS.filter(k => envNameOf(k) !== derivedEnvName(k)).map(k => [derivedEnvName(k), envNameOf(k)]))

export function loadConfig (opts: LoadConfigOptions): LoadedConfig {
  const env = opts.env
  const cwd = opts.cwd ?? process.cwd()
  const ctx = { home: homeDir(env) }
  const values = new Map<ConfigKey, ConfigValue | undefined>()
  const sources = {} as Record<ConfigKey, ConfigSource>
  for (const k of CONFIG_KEYS) {
    values.set(k, defaultOf(k, env))
    sources[k] = 'default'
  }
  const set = (key: ConfigKey, raw: RawValue): void => {
    values.set(key, readValue(key, raw, ctx))
    sources[key] = raw.source as ConfigSource
  }

  // 1. The file.
  const file = pickFile(opts.file, env, cwd, ctx.home)
  let fileRead: string | undefined
  if (file !== undefined) {
    const entries = readConfigFile(file.path, file.required, file.namedBy)
    if (entries !== undefined) {
      refuseReadableSecrets(file.path, entries)
      fileRead = file.path
      for (const e of entries) set(e.key, { value: e.value, source: `file:${file.path}`, text: false, baseDir: dirname(file.path) })
    }
  }

  // 2. The environment: every ENGRAM_* variable must be a known one.
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('ENGRAM_') || value === undefined || NON_KEY_ENV_VARS.includes(name)) continue
    const key = ENV_TO_KEY.get(name)
    if (key === undefined) {
      const guess = DERIVED_TO_ENV.get(name) ?? nearest(name, [...ENV_TO_KEY.keys(), ...NON_KEY_ENV_VARS])
      const hint = guess !== undefined ? `did you mean ${guess}?` : 'see docs/CONFIGURATION.md for the known variables'
      throw CONFIG_INVALID(name, looksSecret(name) ? hidden(value) : value, `unknown environment variable; ${hint}`, 'environment')
    }
    set(key, { value, source: `env:${name}`, text: true, baseDir: cwd })
  }

  // 3. Flags.
  for (const [k, value] of Object.entries(opts.flags ?? {})) {
    if (value === undefined) continue
    if (!Object.hasOwn(SCHEMA, k)) throw CONFIG_INVALID(k, value, 'not a configuration key', 'flags')
    const key = k as ConfigKey
    set(key, { value, source: `flag:${SCHEMA[key].flag ?? `--${key}`}`, text: typeof value === 'string', baseDir: cwd })
  }

  return { config: toNested(values), sources, ...(fileRead !== undefined ? { file: fileRead } : {}) }
}

/**
 * A file that holds a secret must be readable by its owner only, as ssh requires of private keys:
 * refused, naming the file and the fix, when group or others may read it.
 */
function refuseReadableSecrets (path: string, entries: readonly { key: ConfigKey, value: unknown }[]): void {
  if (process.platform === 'win32') return
  const secret = entries.find(e => SCHEMA[e.key].secret === true && e.value !== null && e.value !== undefined)
  if (secret === undefined) return
  const mode = statSync(path).mode & 0o777
  if ((mode & 0o044) === 0) return
  throw CONFIG_INVALID(secret.key, hidden(secret.value),
    `is in config file ${path}, which other users can read (mode ${mode.toString(8).padStart(3, '0')}); run: chmod 600 ${path}`, `file:${path}`)
}

function pickFile (file: string | false | undefined, env: Env, cwd: string, home: string): { path: string, required: boolean, namedBy: string } | undefined {
  if (file === false) return undefined
  if (file !== undefined && file !== '') return { path: resolvePath(file, cwd, home), required: true, namedBy: '--config' }
  const fromEnv = env.ENGRAM_CONFIG
  if (fromEnv !== undefined && fromEnv !== '') return { path: resolvePath(fromEnv, cwd, home), required: true, namedBy: 'ENGRAM_CONFIG' }
  return { path: defaultConfigFile(env), required: false, namedBy: 'the default location' }
}

const looksSecret = (name: string): boolean => /PASS|SEED|SECRET|TOKEN|KEY/.test(name)

function toNested (values: ReadonlyMap<ConfigKey, ConfigValue | undefined>): EngramConfig {
  const root: Record<string, unknown> = {}
  for (const [key, value] of values) {
    const parts = key.split('.')
    let node = root
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>
    if (value !== undefined) node[parts.at(-1)!] = value
  }
  return root as unknown as EngramConfig
}

/** The value of a key in a loaded config. */
export function valueOf (config: EngramConfig, key: ConfigKey): ConfigValue | undefined {
  let node: unknown = config
  for (const p of key.split('.')) node = (node as Record<string, unknown> | undefined)?.[p]
  return node as ConfigValue | undefined
}

/** The defaults alone (no file, no environment variables), plus `overrides` checked like flags. */
export function defaultConfig (overrides: ConfigFlags = {}, env: Env = {}): EngramConfig {
  return loadConfig({ file: false, env: onlyXdg(env), flags: overrides }).config
}

const onlyXdg = (env: Env): Env => ({ HOME: env.HOME, XDG_DATA_HOME: env.XDG_DATA_HOME, XDG_CONFIG_HOME: env.XDG_CONFIG_HOME })

/**
 * Rules between keys, checked before a node starts (config print still shows such a config).
 * Throws CONFIG_INVALID.
 */
export function assertStartable (config: EngramConfig, sources?: Readonly<Record<ConfigKey, ConfigSource>>): void {
  const src = (k: ConfigKey): string => sources?.[k] ?? 'config'
  if (config.p2p.enabled && config.p2p.seed === undefined) {
    throw CONFIG_INVALID('p2p.seed', undefined,
      `must be set because p2p.enabled is true (${src('p2p.enabled')}): choose a shared secret of letters, digits, _ and - ` +
      'and set the same one on every node (config file p2p.seed or ENGRAM_P2P_SEED), or set p2p.enabled to false', src('p2p.seed'))
  }
  for (const key of ['p2p.seed', 'sync.passphrase'] as const) {
    const secret = valueOf(config, key)
    const weak = typeof secret === 'string' ? secretWeakness(secret) : undefined
    if (weak !== undefined) {
      throw CONFIG_INVALID(key, hidden(secret), `too weak (${weak}): a shared secret must have ${SECRET_RULE}, since anyone who can ` +
        'reach this node may try to guess it; generate one with `engram secret new` and set it on every node', src(key))
    }
  }
  if ((config.search.embedder.url === undefined) !== (config.search.embedder.model === undefined)) {
    const missing: ConfigKey = config.search.embedder.url === undefined ? 'search.embedder.url' : 'search.embedder.model'
    const other: ConfigKey = missing === 'search.embedder.url' ? 'search.embedder.model' : 'search.embedder.url'
    throw CONFIG_INVALID(missing, undefined, `must be set together with ${other} (${src(other)}): semantic search needs the server's URL and the model it runs (${envNameOf(missing)})`, src(missing))
  }
  if ((config.tls.cert === undefined) !== (config.tls.key === undefined)) {
    const missing: ConfigKey = config.tls.cert === undefined ? 'tls.cert' : 'tls.key'
    throw CONFIG_INVALID(missing, undefined, `must be set together with ${missing === 'tls.cert' ? 'tls.key' : 'tls.cert'} (${envNameOf(missing)})`, src(missing))
  }
  if (config.tls.ca !== undefined && config.tls.cert === undefined) {
    throw CONFIG_INVALID('tls.cert', undefined, `must be set together with tls.ca (${src('tls.ca')}): a node with TLS on presents its own certificate (${envNameOf('tls.cert')}, ${envNameOf('tls.key')}; engram tls issue)`, src('tls.cert'))
  }
  if (config.tls.cert !== undefined && config.tls.ca === undefined) {
    throw CONFIG_INVALID('tls.ca', undefined, `must be set together with tls.cert (${src('tls.cert')}): peers' certificates are checked against it (${envNameOf('tls.ca')})`, src('tls.ca'))
  }
  if (config.tls.requireClientCert && config.tls.cert === undefined) {
    throw CONFIG_INVALID('tls.cert', undefined, `must be set because tls.requireClientCert is true (${src('tls.requireClientCert')}): only an HTTPS API can ask for client certificates`, src('tls.cert'))
  }
  if (config.tls.requireClientCert && config.tls.ca === undefined) {
    throw CONFIG_INVALID('tls.ca', undefined, `must be set because tls.requireClientCert is true (${src('tls.requireClientCert')}): client certificates are checked against it`, src('tls.ca'))
  }
}
