/** Temporary directories and config files for the configuration tests. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isEngramError, type EngramError } from '../../src/core/errors.ts'

export interface TempDir {
  readonly path: string
  /** Writes `text` to `name` inside the directory and returns its path. */
  file (name: string, text: string): string
  remove (): void
}

export function tempDir (): TempDir {
  const path = mkdtempSync(join(tmpdir(), 'engram-config-'))
  return {
    path,
    file (name, text) {
      const p = join(path, name)
      writeFileSync(p, text)
      return p
    },
    remove () { rmSync(path, { recursive: true, force: true }) }
  }
}

/** Runs `fn`, which must throw CONFIG_INVALID with a one-line message; returns the error. */
export function configError (fn: () => unknown): EngramError {
  try {
    fn()
  } catch (e) {
    if (!isEngramError(e) || e.code !== 'CONFIG_INVALID') throw e
    if (e.message.includes('\n')) throw new Error(`message is not one line: ${e.message}`)
    return e
  }
  throw new Error('expected CONFIG_INVALID, but nothing was thrown')
}
