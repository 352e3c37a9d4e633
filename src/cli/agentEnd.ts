/**
 * `agentEnd()`, for agents that embed engram as a library but run the node as a daemon: tells
 * the daemon an agent session ended (POST /api/v1/hooks/agent-end), so that with
 * sync.autoSync on it syncs with every peer. The daemon is found like the CLI finds it
 * (connect.ts): `url`, ENGRAM_URL, the api.json of `dataDir` (or of the configured data
 * directory), then api.host:api.port.
 *
 *   import { agentEnd } from 'engram'
 *   await agentEnd({ agent: 'coder', sessionId: '42' })   // → { triggered: true, reason: '…' }
 */
import type { Env } from '../util/xdg.ts'
import type { AgentEndResult } from '../client/ApiClient.ts'
import { ApiClient } from '../client/ApiClient.ts'
import { resolveTarget } from './connect.ts'

export interface AgentEndOptions {
  /** The daemon's API; default: found as the CLI finds it. */
  readonly url?: string
  readonly dataDir?: string
  /** Environment to read ENGRAM_URL and the configuration from (default process.env). */
  readonly env?: Env
  readonly agent?: string
  readonly sessionId?: string
  readonly timeoutMs?: number
}

export async function agentEnd (opts: AgentEndOptions = {}): Promise<AgentEndResult> {
  const env = opts.env ?? process.env
  const target = resolveTarget({ url: opts.url, 'data-dir': opts.dataDir }, { env, cwd: process.cwd(), out: () => {}, err: () => {} })
  const client = new ApiClient(target.url, { timeoutMs: opts.timeoutMs ?? 10_000, tls: target.tls, token: target.token })
  return await client.agentEnd({ ...(opts.agent !== undefined ? { agent: opts.agent } : {}), ...(opts.sessionId !== undefined ? { sessionId: opts.sessionId } : {}) })
}
