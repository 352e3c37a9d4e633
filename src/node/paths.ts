/**
 * The layout of a node's data directory:
 *
 *   <dataDir>/engram.db      the store (SQLite; -wal and -shm beside it while open)
 *   <dataDir>/identity.key   the node's Ed25519 private key (protobuf, mode 0600)
 *   <dataDir>/api.json       {url, pid, nodeId} of the running daemon's REST API (removed on stop)
 *   <dataDir>/api.token      the API token (apiToken.ts, mode 0600)
 *   <dataDir>/dashboard.html the page `engram ui` opens: on to the dashboard with the token (mode 0600)
 *   <dataDir>/vectors.db     semantic search's vectors (SQLite; only with search.embedder.*; derived: may be deleted)
 *   <dataDir>/window.bin     the gossip window index as saved at the last stop or checkpoint (only with p2p.enabled; derived: may be deleted)
 *
 * The directory itself defaults to the XDG data directory (`$XDG_DATA_HOME/engram`, else
 * `~/.local/share/engram`) and is created with mode 0700; a node sets it, and the files in it, to
 * owner-only modes at every start (permissions.ts).
 */
import { mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

export { defaultDataDir } from '../util/xdg.ts'

export interface DataPaths {
  readonly dir: string
  readonly db: string
  readonly identity: string
  readonly apiInfo: string
  readonly apiToken: string
  readonly dashboardLink: string
  readonly vectors: string
  readonly window: string
}

export function dataPaths (dataDir: string): DataPaths {
  return {
    dir: dataDir,
    db: join(dataDir, 'engram.db'),
    identity: join(dataDir, 'identity.key'),
    apiInfo: join(dataDir, 'api.json'),
    apiToken: join(dataDir, 'api.token'),
    dashboardLink: join(dataDir, 'dashboard.html'),
    vectors: join(dataDir, 'vectors.db'),
    window: join(dataDir, 'window.bin')
  }
}

/** Creates the data directory (and parents) when missing; a new directory gets mode 0700. */
export function ensureDataDir (dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
}

/** Bytes of the store file and its write-ahead log (0 for a file that is not there). */
export function storeFileBytes (db: string): number {
  let n = 0
  for (const f of [db, `${db}-wal`]) {
    try { n += statSync(f).size } catch { /* not there */ }
  }
  return n
}
