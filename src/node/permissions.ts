/**
 * Secrets at rest: a node's data directory is mode 0700 and every file in it that holds data or
 * a key is 0600, whatever modes they had before (a directory made by hand with 0755, a database
 * copied in from a backup with 0644). `secureDataDir` tightens what is there, before the store is
 * opened and again after (SQLite gives a new database, and its -wal and -shm files, the modes of
 * the process's umask; later -wal and -shm files take the database's mode). Each change is
 * reported, so the node can say what it did. Files of another owner are left alone (chmod would
 * fail): the node says so and goes on.
 */
import { chmodSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { DataPaths } from './paths.ts'

/** Files of the data directory that must be readable by their owner only. */
export const PRIVATE_FILES = ['engram.db', 'engram.db-wal', 'engram.db-shm', 'vectors.db', 'vectors.db-wal', 'vectors.db-shm', 'api.token', 'api.json', 'daemon.log', 'window.bin'] as const

export interface ModeChange {
  readonly path: string
  /** Octal, e.g. '755'. */
  readonly from: string
  readonly to: string
}

export interface SecureResult {
  readonly changed: readonly ModeChange[]
  /** Paths whose mode is too wide and could not be changed, with why. */
  readonly failed: readonly { readonly path: string, readonly error: string }[]
}

const octal = (mode: number): string => (mode & 0o777).toString(8).padStart(3, '0')

/** Sets the data directory to 0700 and its private files to 0600 where they are wider. */
export function secureDataDir (paths: Pick<DataPaths, 'dir'>): SecureResult {
  if (process.platform === 'win32') return { changed: [], failed: [] }
  const changed: ModeChange[] = []
  const failed: { path: string, error: string }[] = []
  const tighten = (path: string, mode: number): void => {
    let st
    try { st = statSync(path) } catch { return }
    if ((st.mode & 0o777) === mode || (st.mode & 0o077) === 0) return
    try {
      chmodSync(path, mode)
      changed.push({ path, from: octal(st.mode), to: octal(mode) })
    } catch (e) {
      failed.push({ path, error: (e as Error).message })
    }
  }
  tighten(paths.dir, 0o700)
  for (const f of PRIVATE_FILES) tighten(join(paths.dir, f), 0o600)
  return { changed, failed }
}

/** Tells the log what `secureDataDir` changed, and what it could not. */
export function reportSecured (r: SecureResult, log: { warn (msg: string, fields?: Record<string, unknown>): void }): void {
  for (const c of r.changed) log.warn(`${c.path} could be read by other users (mode ${c.from}); set its mode to ${c.to}`)
  for (const f of r.failed) log.warn(`${f.path} can be read by other users and its mode could not be changed (${f.error}); make it readable by its owner only`)
}
