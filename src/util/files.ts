/**
 * Creating a file that must never be overwritten, atomically and durably: the content goes to a
 * temporary file created with the final mode and synced, which is then hard-linked to the final
 * name (the link fails when the name exists). A reader sees no file or the whole file, and two
 * processes creating the same file at once end up sharing the first one's.
 *
 * Replacing a file atomically and durably (`replaceFile`): the same temporary file, renamed over
 * the old one, so a reader (or a crash) sees the old file or the new one whole.
 */
import { randomBytes } from 'node:crypto'
import { closeSync, fsyncSync, linkSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
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

/** Writes `bytes` to `path` in place of what is there (if anything), with `mode`, without blocking the event loop. */
export async function replaceFile (path: string, bytes: Uint8Array, mode: number): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const fh = await open(tmp, 'wx', mode)
  try {
    await fh.writeFile(bytes)
    await fh.sync()
  } catch (e) {
    await fh.close()
    await rm(tmp, { force: true })
    throw e
  }
  await fh.close()
  try {
    await rename(tmp, path)
  } catch (e) {
    await rm(tmp, { force: true })
    throw e
  }
  syncDir(dirname(path))
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
