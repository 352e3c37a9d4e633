/**
 * Where a node keeps its saved gossip window index (protocol/native/windowFile.ts): a file in
 * the data dir (`fileWindowSaves`, node/paths.ts names it), or memory for simulations and tests
 * (`MemoryWindowSaves`). Derived data: losing it costs a rebuild at the next start, nothing else.
 */
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { replaceFile } from '../../util/files.ts'

export interface WindowSaves {
  /** The bytes last written, or undefined when there are none. Throws when they cannot be read. */
  read (): Uint8Array | undefined
  /** As read, without blocking the event loop while they are read. */
  load (): Promise<Uint8Array | undefined>
  /** Replaces what was written (atomically: a crash leaves the old bytes or the new). */
  write (bytes: Uint8Array): Promise<void>
}

/** The saved index in a file of its own (mode 0600: it names the records' keys). */
export function fileWindowSaves (path: string): WindowSaves {
  return {
    read: () => {
      try {
        return readFileSync(path)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw e
      }
    },
    load: async () => {
      try {
        return await readFile(path)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw e
      }
    },
    write: bytes => replaceFile(path, bytes, 0o600)
  }
}

export class MemoryWindowSaves implements WindowSaves {
  bytes: Uint8Array | undefined
  /** Writes so far. */
  writes = 0

  read (): Uint8Array | undefined {
    return this.bytes
  }

  load (): Promise<Uint8Array | undefined> {
    return Promise.resolve(this.bytes)
  }

  write (bytes: Uint8Array): Promise<void> {
    this.bytes = bytes
    this.writes++
    return Promise.resolve()
  }
}
