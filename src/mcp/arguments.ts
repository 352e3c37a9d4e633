/**
 * How a tool's arguments are taken once they passed its input schema, as the memory server takes
 * them (its schemas are zod objects, which drop what they do not declare):
 *
 *   - properties an object schema does not declare are dropped, at every depth, so an agent
 *     that adds a field of its own (`{name, entityType, observations, importance: 3}`) gets the
 *     write done and a result that matches the tool's output schema (a closed object) instead of
 *     one a strict client rejects. An object schema without `properties` is free-form JSON
 *     (a note's value, an episode's data) and is kept whole.
 *   - a string with a lone surrogate (half of a UTF-16 pair) is refused, naming where it is:
 *     engram stores text as UTF-8, which cannot hold one. The memory server writes it escaped
 *     into its file and keeps it.
 */
import type { JsonSchema } from './tool.ts'

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** `value` without the object properties `schema` does not declare (a copy; `value` is unchanged). */
export function stripUndeclared (schema: JsonSchema, value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = schema.items
    return isObject(items) ? value.map(v => stripUndeclared(items, v)) : value
  }
  if (!isObject(value)) return value
  const properties = schema.properties
  if (!isObject(properties)) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    const sub = properties[k]
    if (isObject(sub)) out[k] = stripUndeclared(sub, v)
  }
  return out
}

/** The path (`entities[0].name`) of the first string or key with a lone surrogate, or undefined. */
export function illFormedPath (value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.isWellFormed() ? undefined : path
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = illFormedPath(value[i], `${path}[${i}]`)
      if (p !== undefined) return p
    }
    return undefined
  }
  if (!isObject(value)) return undefined
  for (const [k, v] of Object.entries(value)) {
    // A key with a lone surrogate is shown JSON-escaped (it cannot be printed as it is).
    const name = k.isWellFormed() ? k : JSON.stringify(k)
    const at = path === '' ? name : `${path}.${name}`
    if (!k.isWellFormed()) return at
    const p = illFormedPath(v, at)
    if (p !== undefined) return p
  }
  return undefined
}
