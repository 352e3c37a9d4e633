/**
 * Watching the configuration file of a running node (docs/CONFIGURATION.md, "Changing the
 * configuration of a running node").
 *
 * The file is polled (fs.watchFile: it survives editors that replace the file, and works for a
 * file that does not exist yet). On a change it is loaded again, by the caller's `reload`, with
 * the same environment and flags; the keys that can change at run time (HOT_KEYS) are taken,
 * each change is logged, and `onChange` is told. A changed key that needs a restart is logged
 * as such. A file that fails to load or validate is logged and ignored: the node keeps the
 * configuration it has.
 */
import { unwatchFile, watchFile, type Stats } from 'node:fs'
import { valueOf } from '../config/load.ts'
import { CONFIG_KEYS, SCHEMA, type ConfigKey, type EngramConfig } from '../config/schema.ts'
import { hidden } from '../config/values.ts'
import type { Logger } from '../util/log.ts'

/** Keys a running node applies without a restart. */
export const HOT_KEYS: readonly ConfigKey[] = [
  'sync.intervalSeconds', 'sync.autoSync', 'sync.conflictStrategy', 'sync.maxTriplesPerSync', 'sync.syncTimeoutMs',
  'sync.nativeP2pPreferred', 'sync.singleValuedPredicates', 'sync.passphrase', 'sync.retryBaseMs', 'sync.legacyRemoteClients',
  'sync.requireSignatures', 'sync.revocationQuorum', 'history.retentionDays'
]

export interface ConfigWatchOptions {
  readonly file: string
  /** Loads the configuration again (file, environment, flags); throws when it is invalid. */
  readonly reload: () => EngramConfig
  readonly current: () => EngramConfig
  /** Receives the configuration with the hot keys applied, and the keys that changed. */
  readonly onChange: (next: EngramConfig, changed: readonly ConfigKey[]) => void
  readonly log: Logger
  /** Polling interval of the file (default 2000 ms). */
  readonly intervalMs?: number
}

export interface ConfigWatch {
  /** Reads the file now (the watcher calls it on every change). */
  check (): void
  close (): void
}

const show = (key: ConfigKey, v: unknown): string => {
  if (v === undefined) return '(unset)'
  if (SCHEMA[key].secret === true) return hidden(v)
  return Array.isArray(v) ? `[${v.join(',')}]` : String(v)
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/** `base` with every hot key taken from `next`. */
export function withHotKeys (base: EngramConfig, next: EngramConfig): EngramConfig {
  const out = structuredClone(base) as unknown as Record<string, Record<string, unknown>>
  for (const key of HOT_KEYS) {
    const [section, leaf] = key.split('.') as [string, string]
    const v = valueOf(next, key)
    if (v === undefined) delete out[section]![leaf]
    else out[section]![leaf] = structuredClone(v)
  }
  return out as unknown as EngramConfig
}

export function watchConfig (opts: ConfigWatchOptions): ConfigWatch {
  const { log } = opts
  const check = (): void => {
    let next: EngramConfig
    try {
      next = opts.reload()
    } catch (e) {
      log.error(`the configuration file changed but is not valid; keeping the current configuration: ${e instanceof Error ? e.message : String(e)}`, { file: opts.file })
      return
    }
    const current = opts.current()
    const changed = CONFIG_KEYS.filter(k => !same(valueOf(current, k), valueOf(next, k)))
    const hot = changed.filter(k => HOT_KEYS.includes(k))
    const cold = changed.filter(k => !HOT_KEYS.includes(k))
    for (const k of hot) log.info(`configuration: ${k} changed from ${show(k, valueOf(current, k))} to ${show(k, valueOf(next, k))}`, { file: opts.file })
    if (cold.length > 0) log.warn(`configuration: ${cold.join(', ')} changed; restart the node to apply ${cold.length === 1 ? 'it' : 'them'}`, { file: opts.file })
    if (hot.length > 0) opts.onChange(withHotKeys(current, next), hot)
  }
  const listener = (cur: Stats, prev: Stats): void => {
    if (cur.mtimeMs === prev.mtimeMs && cur.size === prev.size && cur.ino === prev.ino) return
    check()
  }
  watchFile(opts.file, { interval: opts.intervalMs ?? 2000, persistent: false }, listener)
  return { check, close: () => unwatchFile(opts.file, listener) }
}
