/**
 * Argument parsing on node:util parseArgs, strict: an unknown option, a missing value or a
 * wrong number of arguments is a usage error (exit 2) that names the command to get help on,
 * and, for a mistyped option, the option that was probably meant.
 */
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util'
import { nearest } from '../util/nearest.ts'
import { USAGE } from './exit.ts'

export type Options = ParseArgsOptionsConfig
export type Values = Record<string, string | boolean | string[] | undefined>

export interface Parsed {
  readonly values: Values
  readonly positionals: string[]
}

/** Options every command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' }
} as const satisfies Options

/** Options of commands that talk to a daemon: where to find it, and how to print. */
export const CLIENT_OPTIONS = {
  ...COMMON_OPTIONS,
  url: { type: 'string' },
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  json: { type: 'boolean' }
} as const satisfies Options

/** The --help lines of CLIENT_OPTIONS. */
export const CLIENT_OPTIONS_HELP = `  --url URL          the daemon's API (default: ENGRAM_URL, <dataDir>/api.json, http://<api.host>:<api.port>)
  --data-dir DIR     find the daemon of this data directory (its api.json)
  --config FILE      configuration file used to find the daemon
  --json             print JSON
  -h, --help         this help`

export function parse (command: string, argv: readonly string[], options: Options, positionals: { min: number, max: number }): Parsed {
  let parsed: Parsed
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true }) as Parsed
  } catch (e) {
    const message = (e as Error).message.replace(/\s*To specify a positional argument.*$/s, '').replace(/\.$/, '')
    throw USAGE(message + didYouMeanOption(e, options), command)
  }
  if (parsed.values.help === true) return parsed
  const n = parsed.positionals.length
  if (n < positionals.min) throw USAGE(`${command}: expected ${positionals.min === positionals.max ? positionals.min : `at least ${positionals.min}`} argument(s), got ${n}`, command)
  if (n > positionals.max) throw USAGE(`${command}: unexpected argument ${JSON.stringify(parsed.positionals[positionals.max])}`, command)
  return parsed
}

/** " (did you mean --limit?)" for an unknown long option close to a known one, else "". */
function didYouMeanOption (e: unknown, options: Options): string {
  if ((e as { code?: string }).code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return ''
  const given = /Unknown option '--([^'=]+)/.exec((e as Error).message)?.[1]
  const guess = given === undefined ? undefined : nearest(given, Object.keys(options))
  return guess === undefined ? '' : ` (did you mean --${guess}?)`
}

export const str = (v: Values, name: string): string | undefined => {
  const x = v[name]
  return typeof x === 'string' ? x : undefined
}

export const bool = (v: Values, name: string): boolean => v[name] === true

/** Options of the commands that list a page: --limit N, --offset N. */
export const PAGE_OPTIONS = {
  limit: { type: 'string' },
  offset: { type: 'string' }
} as const satisfies Options

/** The --help lines of PAGE_OPTIONS, for a list of `noun`. */
export const pageOptionsHelp = (noun: string): string => `  --limit N          most ${noun} to print (default 100)
  --offset N         ${noun} to skip first`

/** The page --limit and --offset ask for (default limit 100). */
export function pageOf (v: Values, command: string): { limit: number, offset?: number } {
  const offset = intOption(v, 'offset', command)
  return { limit: intOption(v, 'limit', command) ?? 100, ...(offset !== undefined ? { offset } : {}) }
}

/** A non-negative integer option, or undefined when absent. */
export function intOption (v: Values, name: string, command: string): number | undefined {
  const s = str(v, name)
  if (s === undefined) return undefined
  if (!/^\d+$/.test(s)) throw USAGE(`--${name} must be a non-negative integer, got ${JSON.stringify(s)}`, command)
  return Number(s)
}
