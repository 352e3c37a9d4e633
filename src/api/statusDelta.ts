/**
 * What changed between two snapshots of a JSON value, as a list of changes the live status
 * stream sends instead of the whole snapshot (StatusFeed.ts; the page applies them in
 * web/lib/delta.js):
 *
 *   [path, value]   the member at `path` is now `value` (added or changed)
 *   [path]          the member at `path` is gone
 *
 * A path is the keys from the root (object member names, array indexes). Objects are compared
 * member by member and arrays of the same length element by element, so a counter that moved
 * deep inside is sent alone; an array whose length changed is sent whole. Pure.
 */

export type JsonPath = ReadonlyArray<string | number>
export type Change = readonly [path: JsonPath] | readonly [path: JsonPath, value: unknown]

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
/** The member `k` of `o`, undefined when it has none of its own. */
const member = (o: Record<string, unknown>, k: string): unknown => (Object.hasOwn(o, k) ? o[k] : undefined)

/** The changes that turn `before` into `after` (none when they are equal). */
export function diffSnapshots (before: unknown, after: unknown): Change[] {
  const out: Change[] = []
  walk(before, after, [], out)
  return out
}

function walk (a: unknown, b: unknown, path: Array<string | number>, out: Change[]): void {
  if (a === b) return
  if (isObject(a) && isObject(b)) {
    // a member whose value is undefined is absent, as in JSON
    for (const [k, v] of Object.entries(a)) if (v !== undefined && member(b, k) === undefined) out.push([[...path, k]])
    for (const [k, v] of Object.entries(b)) {
      if (v === undefined) continue
      if (member(a, k) !== undefined) walk(a[k], v, [...path, k], out)
      else out.push([[...path, k], v])
    }
    return
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < b.length; i++) walk(a[i], b[i], [...path, i], out)
    return
  }
  // a primitive that changed, a type that changed, an array that grew or shrank
  out.push([path, b])
}

/** Whether every change of `changes` is at a path that passes through one of `keys`. */
export function onlyUnder (changes: readonly Change[], keys: ReadonlySet<string>): boolean {
  return changes.every(([path]) => path.some(k => typeof k === 'string' && keys.has(k)))
}
