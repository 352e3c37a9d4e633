/**
 * Reading and checking one configuration value against its schema entry. Values from the JSON5
 * file arrive typed; values from the environment and from flags arrive as text and are parsed
 * first (booleans as true/false/1/0, lists comma-separated). Every failure is CONFIG_INVALID
 * naming the key, the value, where it came from and what is allowed.
 */
import { homedir } from 'node:os'
import { resolve } from 'node:path'
import { CONFIG_INVALID, type EngramError } from '../core/errors.ts'
import { parseHostPort } from '../core/address.ts'
import { SCHEMA, type ConfigKey, type ConfigValue, type KeySpec } from './schema.ts'

export interface RawValue {
  readonly value: unknown
  /** 'file:<path>', 'env:<NAME>' or 'flag:--x'. */
  readonly source: string
  /** True when the value is text to parse (environment, flags). */
  readonly text: boolean
  /** Directory that relative paths are resolved against. */
  readonly baseDir: string
}

export interface ValueContext {
  readonly home?: string
}

/** What a key allows, in words (used in messages and in the docs). */
export function allowedText (spec: KeySpec): string {
  switch (spec.type) {
    case 'string': return spec.patternText ?? 'a non-empty string'
    case 'path': return 'a file system path (absolute, relative or starting with ~/)'
    case 'enum': return `one of ${(spec.values ?? []).join(', ')}`
    case 'integer': return spec.rangeText ?? `an integer from ${spec.min} to ${spec.max}`
    case 'number': return spec.rangeText ?? `a number from ${spec.min} to ${spec.max}`
    case 'boolean': return 'true or false (in the environment also 1 or 0)'
    case 'strings': return `a list of ${spec.patternText ?? 'non-empty strings'} (in the environment comma-separated)`
    case 'peers': return 'a list of "host:port" addresses, IPv6 as "[::1]:19091" (in the environment comma-separated)'
  }
}

/** Shown in place of a secret value (nothing about it, not even its length). */
export function hidden (_value: unknown): string {
  return '<hidden>'
}

/**
 * The checked value of `key`, or undefined when the input unsets an optional key (null in the
 * file, an empty variable or flag).
 */
export function readValue (key: ConfigKey, raw: RawValue, ctx: ValueContext = {}): ConfigValue | undefined {
  const spec = SCHEMA[key]
  const shown = spec.secret === true ? hidden(raw.value) : raw.value
  const fail = (problem?: string): EngramError =>
    CONFIG_INVALID(key, shown, problem === undefined ? `must be ${allowedText(spec)}` : `${problem}; must be ${allowedText(spec)}`, raw.source)

  let v = raw.value
  if (v === null || (raw.text && v === '' && !isList(spec))) {
    if (spec.default === undefined) return undefined
    throw fail('cannot be empty')
  }
  if (raw.text) {
    if (typeof v !== 'string') throw fail()
    v = parseText(spec, v)
    if (v === undefined) throw fail()
  }

  switch (spec.type) {
    case 'string': case 'enum': case 'path': {
      if (typeof v !== 'string' || v === '') throw fail()
      if (spec.type === 'enum' && !(spec.values ?? []).includes(v)) throw fail()
      if (spec.pattern !== undefined && !spec.pattern.test(v)) throw fail()
      return spec.type === 'path' ? resolvePath(v, raw.baseDir, ctx.home) : v
    }
    case 'integer': case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) throw fail()
      if (spec.type === 'integer' && !Number.isInteger(v)) throw fail()
      if ((spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max)) throw fail()
      return v
    }
    case 'boolean':
      if (typeof v !== 'boolean') throw fail()
      return v
    case 'strings': case 'peers': {
      if (!Array.isArray(v)) throw fail()
      const out: string[] = []
      for (const [i, el] of v.entries()) {
        if (typeof el !== 'string' || el.trim() === '') throw fail(`element ${i} (${JSON.stringify(el) ?? String(el)}) is not a non-empty string`)
        const s = el.trim()
        if (spec.pattern !== undefined && !spec.pattern.test(s)) throw fail(`element ${i} ${spec.secret === true ? '(hidden)' : JSON.stringify(s)} is not ${spec.patternText ?? 'allowed'}`)
        if (spec.type === 'peers') {
          const parsed = parseHostPort(s)
          if (!parsed.ok) throw fail(`element ${i} "${s}": ${parsed.problem}`)
        }
        out.push(s)
      }
      return out
    }
  }
}

const isList = (spec: KeySpec): boolean => spec.type === 'strings' || spec.type === 'peers'

/** Text (environment, flag) to a typed value, or undefined when it does not parse. */
function parseText (spec: KeySpec, s: string): unknown {
  const t = s.trim()
  switch (spec.type) {
    case 'integer': return /^[+-]?\d+$/.test(t) ? Number(t) : undefined
    case 'number': return /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t) ? Number(t) : undefined
    case 'boolean': {
      const l = t.toLowerCase()
      if (l === 'true' || l === '1') return true
      if (l === 'false' || l === '0') return false
      return undefined
    }
    case 'strings': case 'peers':
      return t === '' ? [] : t.split(',').map(x => x.trim()).filter(x => x !== '')
    default:
      return s
  }
}

/** `~` and `~/x` expand to the home directory; relative paths resolve against `baseDir`. */
export function resolvePath (p: string, baseDir: string, home?: string): string {
  if (p === '~' || p.startsWith('~/')) return resolve(home ?? homedir(), p.slice(2))
  return resolve(baseDir, p)
}
