/**
 * `engram mcp` as MCP clients see it: the SDK's real Client over StdioClientTransport, spawning
 * the built binary (dist/src/cli/main.js; `npm test` builds first) against a daemon that the
 * test started (test/cli/helpers.ts). REST calls check what the tools did to the store.
 */
import assert from 'node:assert/strict'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { BIN } from '../cli/helpers.ts'

export interface McpProcess {
  readonly client: Client
  stderr (): string
  close (): Promise<void>
}

/** Spawns `engram mcp …args` and connects an MCP client to it. */
export async function connectMcp (args: readonly string[], env: Record<string, string>): Promise<McpProcess> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', ...args], env, stderr: 'pipe' })
  let stderr = ''
  transport.stderr?.on('data', (d: Buffer) => { stderr += d.toString('utf8') })
  const client = new Client({ name: 'engram-test', version: '1.0.0' })
  try {
    await client.connect(transport)
  } catch (e) {
    await transport.close().catch(() => {})
    throw new Error(`could not connect to engram mcp: ${(e as Error).message}; stderr: ${stderr}`)
  }
  return { client, stderr: () => stderr, close: () => client.close() }
}

export type ToolResult = CallToolResult

/** Calls a tool and asserts it succeeded. */
export async function call (client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  const r = await client.callTool({ name, arguments: args }) as ToolResult
  assert.notEqual(r.isError, true, `${name} failed: ${JSON.stringify(r.content)}`)
  return r
}

/** Calls a tool and asserts it failed; answers its message. */
export async function callFails (client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const r = await client.callTool({ name, arguments: args }) as ToolResult
  assert.equal(r.isError, true, `${name} should fail: ${JSON.stringify(r)}`)
  const first = r.content[0]
  assert.ok(first !== undefined && first.type === 'text')
  return first.text
}

/** The text of a result's first content item. */
export function text (r: ToolResult): string {
  const first = r.content[0]
  assert.ok(first !== undefined && first.type === 'text')
  return first.text
}

/** A JSON request to the daemon's REST API. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- answers are checked field by field
export async function rest (base: string, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  const t = await res.text()
  assert.ok(res.ok, `${method} ${path} answered ${res.status}: ${t}`)
  return JSON.parse(t)
}

/** The live triples of a subject, as [predicate, object] pairs sorted. */
export async function triplesOf (base: string, subject: string): Promise<[string, unknown][]> {
  const r = await rest(base, 'POST', '/api/v1/query', { subject, limit: 10_000 })
  return (r.matches as { predicate: string, object: unknown }[]).map(t => [t.predicate, t.object] as [string, unknown])
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
}
