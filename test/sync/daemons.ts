/**
 * engram daemons for multi-process sync tests: each node is `engram start` in a child process
 * with its own data directory, configuration file and port (0 unless given), found through its
 * api.json (test/cli/helpers.ts). Nodes are driven through the REST API (ApiClient) and the CLI.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ApiClient } from '../../src/client/ApiClient.ts'
import { dumpDifference } from '../support/dumps.ts'
import { DEFAULT_DEADLINE_MS, eventually } from '../support/eventually.ts'
import { engram, startDaemon, waitFor, type Daemon, type Result, type Sandbox } from '../cli/helpers.ts'

export const PASSPHRASE = 'multi-process-test-passphrase'

export interface Node {
  readonly name: string
  readonly url: string
  readonly dataDir: string
  readonly client: ApiClient
  readonly daemon: Daemon
  /** Runs `engram …args --url <this node>`. */
  cli (args: readonly string[]): Promise<Result>
  stop (): Promise<void>
  /** SIGKILL: no clean stop. */
  kill (): Promise<void>
}

export interface NodeOptions {
  /** Settings, nested as in the config file; merged over a passphrase and a long interval. */
  readonly config?: Record<string, Record<string, unknown>>
  readonly env?: Record<string, string>
  readonly port?: number
  /** The CLI entry to run (another version's: oldVersion.ts); default this checkout's build. */
  readonly bin?: string
}

export async function startNode (box: Sandbox, name: string, opts: NodeOptions = {}): Promise<Node> {
  const dir = join(box.root, name)
  mkdirSync(dir, { recursive: true })
  const { sync, ...rest } = opts.config ?? {}
  const config = { sync: { passphrase: PASSPHRASE, intervalSeconds: 3600, ...sync }, ...rest }
  const file = join(dir, 'config.json5')
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 })
  const dataDir = join(dir, 'data')
  const daemon = await startDaemon(dataDir, { ...box.env, ...opts.env }, ['--config', file, ...(opts.port !== undefined ? ['--port', String(opts.port)] : [])], opts.bin)
  const client = new ApiClient(daemon.url, { timeoutMs: 60_000 })
  return {
    name,
    url: daemon.url,
    dataDir,
    client,
    daemon,
    cli: args => engram([...args, '--url', daemon.url], box.env, { timeoutMs: 60_000 }),
    async stop () {
      const r = await daemon.stop('SIGTERM')
      if (r.code !== 0) throw new Error(`${name} stopped with ${r.code ?? r.signal}: ${daemon.stderr()}`)
    },
    async kill () { await daemon.stop('SIGKILL') }
  }
}

/** Each node pairs every other one (peer names are node names). */
export async function pairMesh (nodes: readonly Node[]): Promise<void> {
  for (const a of nodes) for (const b of nodes) if (a !== b) await a.client.pairPeer(b.name, b.url)
}

/** Every node syncs with all its peers, `rounds` times; throws on any failed peer. */
export async function syncRounds (nodes: readonly Node[], rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    for (const n of nodes) {
      const r = await n.client.syncNow()
      for (const x of r.results) if (!x.ok) throw new Error(`${n.name} ← ${x.peer}: ${x.error ?? '?'} (${x.code ?? '?'})`)
    }
  }
}

/** The canonical dump of a stopped node's store file (every record, tombstones included). */
export { dumpFile } from '../support/dumps.ts'

/** Describes how two dumps differ (for failure messages). */
export const dumpDiff = (a: readonly string[], b: readonly string[]): string => dumpDifference(a, b, ['the first', 'the second'])

export { waitFor }

/** Polls the async `probe` until it returns a value (test/support/eventually.ts, never less than its default deadline). */
export async function poll<T> (probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  return await eventually(probe, what, { ms: Math.max(ms, DEFAULT_DEADLINE_MS), everyMs: 25 })
}
