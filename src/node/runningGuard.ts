/**
 * One daemon per data directory: before a node starts on a directory, the daemon its api.json
 * names is asked for its health. One that answers means the directory is in use, and the start
 * is refused with where that daemon runs; a file whose daemon does not answer is stale (a crash,
 * a reused pid) and the start goes on.
 */
import { CONFLICT } from '../core/errors.ts'
import { tlsFetch, type ClientTls } from '../tls/client.ts'
import { readLiveApiInfo } from './apiInfo.ts'

/** Refuses to start a second daemon on a data directory whose daemon is running and answering. */
export async function refuseIfRunning (dataDir: string, tls: ClientTls | undefined): Promise<void> {
  const info = readLiveApiInfo(dataDir)
  if (info === undefined) return
  try {
    const res = await tlsFetch(new URL('/api/v1/health', info.url), { signal: AbortSignal.timeout(2000) }, tls)
    await res.body?.cancel()
  } catch {
    return // the file is stale: its process is something else now, or the API is gone
  }
  throw CONFLICT(
    `another engram node (pid ${info.pid}) is already running on ${dataDir} at ${info.url}; stop it first, or start this one with another --data-dir`,
    { dataDir, pid: info.pid, url: info.url })
}
