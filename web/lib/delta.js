/**
 * Applies the changes of a live status `delta` event to the snapshot the page holds (the node
 * makes them in src/api/statusDelta.ts): `[path, value]` sets the member at `path` (object keys
 * and array indexes from the root), `[path]` removes it. Returns a new snapshot that shares every
 * part the changes did not touch, so a component sees a new object exactly where something changed.
 */

/**
 * @param {any} snapshot
 * @param {ReadonlyArray<[Array<string | number>, unknown?]>} changes
 * @returns {any}
 */
export function applyChanges (snapshot, changes) {
  let root = snapshot
  /** @type {Set<object>} containers copied by this call (changed in place after their first copy) */
  const copied = new Set()
  /** @param {any} v */
  const copy = (v) => {
    const c = Array.isArray(v) ? [...v] : { ...v }
    copied.add(c)
    return c
  }
  for (const change of changes) {
    const [path] = change
    if (path.length === 0) { root = change[1]; continue }
    if (!copied.has(root)) root = copy(root)
    let node = root
    for (let i = 0; i < path.length - 1; i++) {
      const k = path[i]
      const child = Object.hasOwn(node, k) ? node[k] : undefined
      const own = typeof child === 'object' && child !== null ? (copied.has(child) ? child : copy(child)) : copy({})
      set(node, k, own)
      node = own
    }
    const last = path[path.length - 1]
    if (change.length > 1) set(node, last, change[1])
    else if (Array.isArray(node)) node.splice(Number(last), 1)
    else delete node[last]
  }
  return root
}

/**
 * Sets a member as its own, whatever its name (even `__proto__`, as JSON.parse would).
 * @param {any} node
 * @param {string | number} key
 * @param {unknown} value
 */
function set (node, key, value) {
  Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true })
}
