/**
 * The API token (`<dataDir>/api.token`, mode 0600): 32 random bytes, base64url, created at a
 * node's first start. With `api.requireToken` every program on the machine must send it
 * (`Authorization: Bearer <token>`, api/guard.ts); engram's CLI and MCP server read it from the
 * data directory of the daemon they talk to, and `engram ui` hands it to the dashboard in the
 * page address's fragment (never sent over the network). Only the user (and root) can read the
 * file, so other local users cannot use the API.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { STORE_CORRUPT } from '../core/errors.ts'
import { createFileOnce } from '../util/files.ts'
import { dataPaths } from './paths.ts'

const TOKEN = /^[A-Za-z0-9_-]{43}$/

/** The token of the node in `dataDir`, creating it when there is none. */
export function loadOrCreateApiToken (dataDir: string): { token: string, created: boolean } {
  const existing = readApiToken(dataDir)
  if (existing !== undefined) return { token: existing, created: false }
  const token = randomBytes(32).toString('base64url')
  if (createFileOnce(dataPaths(dataDir).apiToken, token + '\n', 0o600)) return { token, created: true }
  const raced = readApiToken(dataDir)
  if (raced === undefined) throw STORE_CORRUPT(`${dataPaths(dataDir).apiToken} exists but holds no API token; remove it, and the next start creates a new one`, { path: dataPaths(dataDir).apiToken })
  return { token: raced, created: false }
}

/** The token in `dataDir`, or undefined when there is none (or the file cannot be read). */
export function readApiToken (dataDir: string): string | undefined {
  try {
    const t = readFileSync(dataPaths(dataDir).apiToken, 'utf8').trim()
    return TOKEN.test(t) ? t : undefined
  } catch {
    return undefined
  }
}
