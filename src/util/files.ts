/**
 * Creating a file that must never be overwritten, atomically and durably: the content goes to a
 * temporary file created with the final mode and synced, which is then hard-linked to the final
 * name (the link fails when the name exists). A reader sees no file or the whole file, and two
 * processes creating the same file at once end up sharing the first one's.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, linkSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

/** Creates `path` with `bytes` and `mode`; false when it exists already (nothing is changed). */
export function createFileOnce (path: string, bytes: Uint8Array | string, mode: number): boolean {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const fd = openSync(tmp, 'wx', mode)
  try {
    writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(tmp, path)
    syncDir(dirname(path))
    return true
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw e
  } finally {
    unlinkSync(tmp)
  }
}

/** Makes a new directory entry durable (best effort: not every platform can sync a directory). */
function syncDir (dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch { /* not supported here */ } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
