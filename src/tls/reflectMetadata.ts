/**
 * The smallest Reflect metadata API that @peculiar/x509's dependency injection container
 * (tsyringe) needs: `getMetadata`, `getOwnMetadata` and `defineMetadata` on classes. It is
 * installed only when no polyfill (reflect-metadata, core-js) is present, and must be imported
 * before @peculiar/x509 (src/tls/x509.ts does both, in that order).
 */
type Target = object
type MetadataReflect = typeof Reflect & {
  getMetadata?: (key: unknown, target: Target) => unknown
  getOwnMetadata?: (key: unknown, target: Target) => unknown
  defineMetadata?: (key: unknown, value: unknown, target: Target) => void
}

const R = Reflect as MetadataReflect
if (typeof R.getMetadata !== 'function') {
  const store = new WeakMap<Target, Map<unknown, unknown>>()
  const own = (key: unknown, target: Target): unknown => store.get(target)?.get(key)
  Object.defineProperties(R, {
    getOwnMetadata: { value: own, configurable: true, writable: true },
    getMetadata: {
      value: (key: unknown, target: Target): unknown => {
        for (let t: Target | null = target; t !== null; t = Object.getPrototypeOf(t) as Target | null) {
          const m = store.get(t)
          if (m?.has(key) === true) return m.get(key)
        }
        return undefined
      },
      configurable: true,
      writable: true
    },
    defineMetadata: {
      value: (key: unknown, value: unknown, target: Target): void => {
        let m = store.get(target)
        if (m === undefined) { m = new Map(); store.set(target, m) }
        m.set(key, value)
      },
      configurable: true,
      writable: true
    }
  })
}

export {}
