/**
 * The configuration file: nested JSON5, e.g.
 *
 *   { api: { port: 19090 }, p2p: { enabled: true, seed: "pxq43I5-VkpQyUxNktffx2LzWJXAU6S1" }, sync: { peers: ["10.0.0.5:19091"] } }
 *
 * read into (key path, value) pairs. Dotted names (`"p2p.enabled": true`) are accepted too.
 * Unknown keys and sections that are not objects are CONFIG_INVALID, naming the nearest key.
 */
import { readFileSync } from 'node:fs'
import JSON5 from 'json5'
import { CONFIG_INVALID, EngramError, CONFIG_UNUSABLE } from '../core/errors.ts'
import { nearest } from '../util/nearest.ts'
import { CONFIG_KEYS, SCHEMA, type ConfigKey } from './schema.ts'

export interface FileEntry {
  readonly key: ConfigKey
  readonly value: unknown
}

/** Section names: every proper prefix of a key ('api', 'p2p', 'sync', …). */
const SECTIONS = new Set(CONFIG_KEYS.flatMap(k => {
  const parts = k.split('.')
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('.'))
}))

function fileError (path: string, problem: string): EngramError {
  return CONFIG_UNUSABLE(`config file ${path}: ${problem}`, { path })
}

/**
 * Reads and flattens the file. Returns undefined when the file does not exist and `required` is
 * false (the default location is optional; a file named with --config or ENGRAM_CONFIG is not).
 */
export function readConfigFile (path: string, required: boolean, namedBy?: string): FileEntry[] | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && !required) return undefined
    if (code === 'ENOENT') throw fileError(path, `does not exist (named by ${namedBy ?? 'the caller'}); create it or point ${namedBy ?? 'the option'} at an existing file`)
    throw fileError(path, `cannot be read: ${(e as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON5.parse(text)
  } catch (e) {
    const { lineNumber, columnNumber } = e as { lineNumber?: number, columnNumber?: number }
    const where = lineNumber !== undefined ? ` (line ${lineNumber}, column ${columnNumber ?? 0})` : ''
    throw fileError(path, `is not valid JSON5: ${(e as Error).message.replace(/^JSON5: /, '').replace(/ at \d+:\d+$/, '')}${where}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw fileError(path, 'must hold one object, e.g. { p2p: { enabled: true, seed: "…" } }')
  }
  const out: FileEntry[] = []
  flatten(parsed as Record<string, unknown>, '', `file:${path}`, out)
  return out
}

function flatten (obj: Record<string, unknown>, prefix: string, source: string, out: FileEntry[]): void {
  for (const [name, value] of Object.entries(obj)) {
    const path = prefix + name
    if (Object.hasOwn(SCHEMA, path)) {
      out.push({ key: path as ConfigKey, value })
    } else if (SECTIONS.has(path)) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        const keys = CONFIG_KEYS.filter(k => k.startsWith(path + '.')).map(k => k.slice(path.length + 1))
        throw CONFIG_INVALID(path, value, `must be an object with keys ${keys.join(', ')}`, source)
      }
      flatten(value as Record<string, unknown>, path + '.', source, out)
    } else {
      throw CONFIG_INVALID(path, value, unknownKeyHint(path), source)
    }
  }
}

export function unknownKeyHint (path: string): string {
  if (path === 'cortex' || path.startsWith('cortex.')) {
    return 'unknown key; engram\'s file has no "cortex" section: put p2p, sync and discovery at the top level'
  }
  const guess = nearest(path, [...CONFIG_KEYS, ...SECTIONS])
  return guess !== undefined ? `unknown key; did you mean ${guess}?` : 'unknown key; see docs/CONFIGURATION.md or run engram config print for the known keys'
}
