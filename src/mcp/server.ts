/**
 * One MCP session of `engram mcp`: the tools (memoryTools.ts, engramTools.ts, searchTools.ts), the resource
 * `memory://knowledge-graph`, and `notifications/resources/updated` for a client that subscribed
 * to it, sent when the graph changes in the store, whoever changed it: this session, another
 * agent on this machine, or another machine through sync (DaemonEvents).
 *
 * Built on the SDK's low-level Server so that tools are listed with exactly the JSON schemas
 * written in this module's tools; arguments are checked against them with the SDK's JSON
 * Schema validator before a tool runs, then taken as the memory server takes them (undeclared
 * properties dropped, lone surrogates refused: arguments.ts). A failure is a tool result with
 * `isError` and a message, as the memory server answers.
 */
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import {
  CallToolRequestSchema, ListResourcesRequestSchema, ListResourceTemplatesRequestSchema, ListToolsRequestSchema,
  ReadResourceRequestSchema, SubscribeRequestSchema, UnsubscribeRequestSchema, ErrorCode, McpError,
  type CallToolResult, type Tool as ListedTool
} from '@modelcontextprotocol/sdk/types.js'
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv'
import type { JsonSchemaType, JsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js'
import { isEngramError } from '../core/errors.ts'
import type { Logger } from '../util/log.ts'
import { packageVersion } from '../util/version.ts'
import { illFormedPath, stripUndeclared } from './arguments.ts'
import type { Compat, MemoryServerRelease } from './compat.ts'
import type { DaemonEvents } from './daemonEvents.ts'
import { ENGRAM_TOOLS } from './engramTools.ts'
import { GraphMissingEntity } from './GraphStore.ts'
import { memoryTools } from './memoryTools.ts'
import { SEARCH_TOOLS } from './searchTools.ts'
import type { Tool, ToolContext, ToolOutput } from './tool.ts'

export const GRAPH_URI = 'memory://knowledge-graph'
export const PROVENANCE_KEY = 'engram/provenance'

/** Delay that gathers the changes of one burst (a delete of several entities) into one notification. */
const NOTIFY_COALESCE_MS = 25
/** Longest a subscribe request waits for the daemon's change stream to connect. */
const SUBSCRIBE_WAIT_MS = 5000

const INSTRUCTIONS = 'This memory is engram: one store shared by every agent on this machine and kept in step with the ' +
  'user\'s other machines. The knowledge-graph tools work as in the memory server; each result\'s _meta ' +
  `"${PROVENANCE_KEY}" tells when and on which machine every returned record was written. ` +
  'Notes, episodes and traces have their own tools; search_memory searches all of it; sync_status shows how the machines are in step.'

export interface SessionOptions {
  readonly ctx: ToolContext
  readonly events: DaemonEvents
  readonly log: Logger
  /** Also put the provenance in the text content of graph results (for clients that show only text). */
  readonly provenanceText?: boolean
}

type Validate = JsonSchemaValidator<Record<string, unknown>>

/** Every tool of a release, with its argument validator; built once per release. */
interface Toolset { readonly tools: readonly Tool[], readonly validators: ReadonlyMap<string, Validate> }

const validator = new AjvJsonSchemaValidator()
const toolsets = new Map<MemoryServerRelease, Toolset>()

function toolset (compat: Compat): Toolset {
  let set = toolsets.get(compat.release)
  if (set === undefined) {
    const tools = [...memoryTools(compat), ...ENGRAM_TOOLS, ...SEARCH_TOOLS]
    set = { tools, validators: new Map(tools.map(t => [t.name, validator.getValidator<Record<string, unknown>>(t.inputSchema as JsonSchemaType)])) }
    toolsets.set(compat.release, set)
  }
  return set
}

/** The tools as tools/list shows them. */
function listedTools (compat: Compat): ListedTool[] {
  return toolset(compat).tools.map(t => ({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: t.inputSchema as ListedTool['inputSchema'],
    ...(t.outputSchema !== undefined ? { outputSchema: t.outputSchema as ListedTool['outputSchema'] } : {}),
    annotations: { ...t.annotations }
  }))
}

const toolError = (text: string): CallToolResult => ({ content: [{ type: 'text', text }], isError: true })

function describeError (e: unknown): string {
  if (e instanceof GraphMissingEntity) return e.message
  if (isEngramError(e)) return `${e.message} (${e.code})`
  return e instanceof Error ? e.message : String(e)
}

function toResult (out: ToolOutput, provenanceText: boolean): CallToolResult {
  const content: CallToolResult['content'] = [{ type: 'text', text: out.text ?? JSON.stringify(out.structured, null, 2) }]
  if (out.provenance === undefined) return { content, structuredContent: out.structured }
  if (provenanceText) {
    content.push({ type: 'text', text: 'When and on which machine each record was written:\n' + JSON.stringify(out.provenance, null, 2) })
  }
  return { content, structuredContent: out.structured, _meta: { [PROVENANCE_KEY]: out.provenance } }
}

/** A Server for one client connection. Call the returned `dispose` when the connection ends. */
export function createSession (opts: SessionOptions): { server: Server, dispose: () => void } {
  const server = new Server(
    { name: 'engram', title: 'engram memory', version: packageVersion() },
    { capabilities: { tools: {}, resources: { subscribe: true } }, instructions: INSTRUCTIONS })
  const { tools, validators } = toolset(opts.ctx.compat)
  const byName = new Map(tools.map(t => [t.name, t]))
  const subscribed = new Set<string>()

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listedTools(opts.ctx.compat) }))

  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const { name } = request.params
    const tool = byName.get(name)
    if (tool === undefined) return toolError(`MCP error ${ErrorCode.InvalidParams}: Tool ${name} not found`)
    const checked = validators.get(name)!(request.params.arguments ?? {})
    if (!checked.valid) return toolError(`Input validation error: Invalid arguments for tool ${name}: ${checked.errorMessage}`)
    const args = stripUndeclared(tool.inputSchema, checked.data) as Record<string, unknown>
    const bad = illFormedPath(args)
    if (bad !== undefined) return toolError(`${bad}: must be well-formed Unicode (it holds a lone surrogate, which engram cannot store)`)
    try {
      return toResult(await tool.run(args, opts.ctx), opts.provenanceText === true)
    } catch (e) {
      if (!isEngramError(e) && !(e instanceof GraphMissingEntity)) opts.log.warn(`tool ${name} failed`, { error: e instanceof Error ? e.stack : String(e) })
      return toolError(describeError(e))
    }
  })

  server.setRequestHandler(ListResourcesRequestSchema, () => ({
    resources: [{
      uri: GRAPH_URI,
      name: 'knowledge-graph',
      title: 'Knowledge Graph',
      description: 'The full knowledge graph with all entities and relations',
      mimeType: 'application/json'
    }]
  }))
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({ resourceTemplates: [] }))

  server.setRequestHandler(ReadResourceRequestSchema, async (request) => {
    if (request.params.uri !== GRAPH_URI) throw new McpError(ErrorCode.InvalidParams, `Resource ${request.params.uri} not found`)
    const g = await opts.ctx.graph.readGraph()
    return {
      contents: [{ uri: GRAPH_URI, mimeType: 'application/json', text: JSON.stringify(g.graph, null, 2), _meta: { [PROVENANCE_KEY]: g.provenance } }]
    }
  })

  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    subscribed.add(request.params.uri)
    // From here on every change reaches this session: the subscription holds once the stream is up.
    if (request.params.uri === GRAPH_URI) await opts.events.whenConnected(SUBSCRIBE_WAIT_MS)
    return {}
  })
  server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    subscribed.delete(request.params.uri)
    return {}
  })

  let pending: NodeJS.Timeout | undefined
  const notify = (): void => {
    if (!subscribed.has(GRAPH_URI) || pending !== undefined) return
    pending = setTimeout(() => {
      pending = undefined
      server.sendResourceUpdated({ uri: GRAPH_URI }).catch(e => opts.log.debug('could not send resources/updated', { error: String(e) }))
    }, NOTIFY_COALESCE_MS)
  }
  opts.events.on('change', notify)
  opts.events.on('resync', notify)

  return {
    server,
    dispose: () => {
      clearTimeout(pending)
      opts.events.off('change', notify)
      opts.events.off('resync', notify)
    }
  }
}
