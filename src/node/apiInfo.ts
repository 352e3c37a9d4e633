/**
 * `<dataDir>/api.json`: how a running daemon tells local clients where its REST API is.
 *
 *   {"url": "http://127.0.0.1:19090", "pid": 4242, "nodeId": "12D3KooW…", "startedAt": "…"}
 *
 * With TLS on, also `"tls": {"ca", "cert", "key"}`: the paths of the daemon's TLS files, so that a
 * CLI on this machine trusts the daemon's CA (and presents its certificate when client
 * certificates are required) without the ENGRAM_SYNC_TLS_* variables in its shell.
 *
 * Written atomically (temporary file, then rename) once the API is listening, so a reader sees
 * either no file or a complete one, and the API is up whenever the file is there. Removed on a
 * clean stop. A file left behind by a crash names a process that no longer runs: readers check
 * the pid and ignore such a file.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { isIPv6 } from 'node:net'
import { dataPaths } from './paths.ts'

export interface ApiInfo {
  readonly url: string
  readonly pid: number
  readonly nodeId: string
  readonly startedAt: string
  /** The daemon's TLS files (absolute paths), when it serves https. */
  readonly tls?: { readonly ca?: string, readonly cert?: string, readonly key?: string }
}

export function writeApiInfo (dataDir: string, info: ApiInfo): void {
  const path = dataPaths(dataDir).apiInfo
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  writeFileSync(tmp, JSON.stringify(info) + '\n', { mode: 0o600 })
  renameSync(tmp, path)
}

/** The file's content, or undefined when it is absent or unreadable. */
export function readApiInfo (dataDir: string): ApiInfo | undefined {
  try {
    const v = JSON.parse(readFileSync(dataPaths(dataDir).apiInfo, 'utf8')) as Partial<ApiInfo>
    if (typeof v.url !== 'string' || typeof v.pid !== 'number') return undefined
    const tls = typeof v.tls === 'object' && v.tls !== null ? tlsPaths(v.tls) : undefined
    return { url: v.url, pid: v.pid, nodeId: String(v.nodeId ?? ''), startedAt: String(v.startedAt ?? ''), ...(tls !== undefined ? { tls } : {}) }
  } catch {
    return undefined
  }
}

/** The string paths of a `tls` entry (anything else is ignored). */
function tlsPaths (t: Record<string, unknown>): ApiInfo['tls'] {
  const out: Record<string, string> = {}
  for (const k of ['ca', 'cert', 'key']) if (typeof t[k] === 'string') out[k] = t[k]
  return out
}

/** The file's content when the process it names is still running. */
export function readLiveApiInfo (dataDir: string): ApiInfo | undefined {
  const info = readApiInfo(dataDir)
  return info !== undefined && isRunning(info.pid) ? info : undefined
}

/** Removes the file if it still describes this daemon (a newer daemon's file is left alone). */
export function removeApiInfo (dataDir: string, mine: Pick<ApiInfo, 'pid' | 'url'>): void {
  const info = readApiInfo(dataDir)
  if (info !== undefined && (info.pid !== mine.pid || info.url !== mine.url)) return
  try { unlinkSync(dataPaths(dataDir).apiInfo) } catch { /* already gone */ }
}

export function isRunning (pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The host part of a URL that reaches an API listening on `host` from this machine. */
export function urlHost (host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1'
  if (host === '::') return '[::1]'
  return isIPv6(host) ? `[${host}]` : host
}
