/**
 * engram's own MCP tools, beside the knowledge graph: notes (set, get, search), episodes
 * (record, list), traces (append, list) and sync status. Every record they return carries its
 * stamp (`hlc`), the machine that wrote it (`origin`), the stamp's time and its `provenance` as
 * the REST API shows it (the origin's name, the peer it came through, whether it is signed).
 */
import type { NoteDto } from '../api/dto.ts'
import { isEngramError } from '../core/errors.ts'
import type { Json, JsonObject } from '../core/model.ts'
import { arr, defineTool, obj, READ_ONLY, root, str, type JsonSchema, type Tool, type ToolAnnotations } from './tool.ts'

const nullable = (s: JsonSchema): JsonSchema => ({ anyOf: [s, { type: 'null' }] })

const STAMP_FIELDS = {
  hlc: str('The stamp of the write (hybrid logical clock, sortable as text)'),
  origin: str('The node (machine) that wrote it')
  // Each record also carries `provenance` as the REST API shows it (docs/MCP.md). The schemas are
  // open and leave it undeclared: declared in every record schema it would cost the tool list ~90 tokens.
} as const

const note: JsonSchema = obj({ key: str(), value: {}, ...STAMP_FIELDS, updated_at: str('When it was written') })
const episode: JsonSchema = obj({ id: str(), data: { type: 'object' }, ...STAMP_FIELDS, updated_at: str('When it was written') })
const trace: JsonSchema = obj({ id: str(), runId: str(), type: str(), data: {}, ...STAMP_FIELDS, created_at: str('When it was written') })
const int = (description: string, min: number, max: number): JsonSchema => ({ type: 'integer', minimum: min, maximum: max, description })

const WRITE: ToolAnnotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false }
const OVERWRITE: ToolAnnotations = { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false }

const json = (v: unknown): string => JSON.stringify(v, null, 2)

export const noteSet = defineTool<{ key: string, value: Json }>({
  name: 'note_set',
  title: 'Set Note',
  description: 'Set a note: a key and any JSON value. The latest write wins, on this machine and on the user\'s other machines. ' +
    'Use keys with a namespace prefix, e.g. "project:engram/goal".',
  inputSchema: root(obj({ key: str('The note\'s key (1 to 1024 bytes)'), value: { description: 'Any JSON value' } })),
  outputSchema: root(obj({ note })),
  annotations: OVERWRITE,
  async run ({ key, value }, { api }) {
    const n = await api.setNote(key, value)
    return { structured: { note: n }, text: json(n) }
  }
})

export const noteGet = defineTool<{ key: string }>({
  name: 'note_get',
  title: 'Get Note',
  description: 'Read a note by its key, with when and on which machine it was last written. Answers null when there is no such note.',
  inputSchema: root(obj({ key: str('The note\'s key') })),
  outputSchema: root(obj({ note: nullable(note) })),
  annotations: READ_ONLY,
  async run ({ key }, { api }) {
    const n = await api.getNote(key)
    return { structured: { note: n ?? null }, text: n === undefined ? `No note with key ${JSON.stringify(key)}` : json(n) }
  }
})

const SCAN_PAGE = 1000

export const noteSearch = defineTool<{ prefix?: string, query?: string, limit?: number }>({
  name: 'note_search',
  title: 'Search Notes',
  description: 'Find notes by key prefix and/or by text contained in the key or the value (case-insensitive), ordered by key.',
  inputSchema: root(obj({
    prefix: str('Only keys that start with this'),
    query: str('Only notes whose key or value (as JSON text) contains this'),
    limit: int('Most notes to return (default 20)', 1, 1000)
  }, { required: [] })),
  outputSchema: root(obj({ notes: arr(note), total: { type: 'integer', description: 'How many notes match' } })),
  annotations: READ_ONLY,
  async run ({ prefix, query, limit = 20 }, { api }) {
    if (query === undefined) {
      const page = await api.listNotes({ prefix, limit, offset: 0 })
      return { structured: { notes: page.items, total: page.total } }
    }
    const q = query.toLowerCase()
    const notes: NoteDto[] = []
    let total = 0
    for (let offset = 0; ; offset += SCAN_PAGE) {
      const page = await api.listNotes({ prefix, limit: SCAN_PAGE, offset })
      for (const n of page.items) {
        if (!n.key.toLowerCase().includes(q) && !JSON.stringify(n.value).toLowerCase().includes(q)) continue
        total++
        if (notes.length < limit) notes.push(n)
      }
      if (page.items.length < SCAN_PAGE || offset + SCAN_PAGE >= page.total) break
    }
    return { structured: { notes, total } }
  }
})

interface EpisodeArgs {
  id?: string
  summary?: string
  agent?: string
  sessionId?: string
  tags?: string[]
  startedAt?: string
  endedAt?: string
  data?: JsonObject
}

export const episodeRecord = defineTool<EpisodeArgs>({
  name: 'episode_record',
  title: 'Record Episode',
  description: 'Record an episode: what happened in a session (a summary, the agent, tags, times, any other data). ' +
    'Episodes are never lost in a merge between machines. Giving the id of an existing episode replaces its data.',
  inputSchema: root(obj({
    id: str('The episode id (1 to 256 bytes); generated when absent'),
    summary: str('What happened'),
    agent: str('The agent that ran the session'),
    sessionId: str('The session\'s id'),
    tags: arr(str(), 'Tags'),
    startedAt: str('When the session started (ISO 8601)'),
    endedAt: str('When the session ended (ISO 8601)'),
    data: { type: 'object', description: 'Any other fields' }
  }, { required: [] })),
  outputSchema: root(obj({ episode })),
  annotations: WRITE,
  async run ({ id, data, ...fields }, { api }) {
    const body: JsonObject = { ...data }
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) body[k] = v as Json
    const e = await api.putEpisode(id, body)
    return { structured: { episode: e }, text: json(e) }
  }
})

export const episodeList = defineTool<{ prefix?: string, limit?: number, offset?: number }>({
  name: 'episode_list',
  title: 'List Episodes',
  description: 'List recorded episodes, newest first, optionally only ids with a prefix.',
  inputSchema: root(obj({
    prefix: str('Only episode ids that start with this'),
    limit: int('Most episodes to return (default 20)', 1, 1000),
    offset: int('Episodes to skip first', 0, Number.MAX_SAFE_INTEGER)
  }, { required: [] })),
  outputSchema: root(obj({ episodes: arr(episode), total: { type: 'integer' } })),
  annotations: READ_ONLY,
  async run ({ prefix, limit = 20, offset = 0 }, { api }) {
    const page = await api.listEpisodes({ prefix, limit, offset })
    return { structured: { episodes: page.items, total: page.total } }
  }
})

export const traceAppend = defineTool<{ runId: string, type: string, data: Json }>({
  name: 'trace_append',
  title: 'Append Trace',
  description: 'Append an entry to the execution log of a run (a tool call, a decision, an error). Entries are never changed.',
  inputSchema: root(obj({
    runId: str('The run this entry belongs to'),
    type: str('The kind of entry, e.g. "tool_call"'),
    data: { description: 'Any JSON value' }
  })),
  outputSchema: root(obj({ trace })),
  annotations: WRITE,
  async run ({ runId, type, data }, { api }) {
    const t = await api.appendTrace(runId, type, data)
    return { structured: { trace: t }, text: json(t) }
  }
})

export const traceList = defineTool<{ runId?: string, limit?: number, offset?: number }>({
  name: 'trace_list',
  title: 'List Traces',
  description: 'List execution-log entries, oldest first, of one run or of all runs.',
  inputSchema: root(obj({
    runId: str('Only entries of this run'),
    limit: int('Most entries to return (default 100)', 1, 10_000),
    offset: int('Entries to skip first', 0, Number.MAX_SAFE_INTEGER)
  }, { required: [] })),
  outputSchema: root(obj({ traces: arr(trace), total: { type: 'integer' } })),
  annotations: READ_ONLY,
  async run ({ runId, limit = 100, offset = 0 }, { api }) {
    const page = await api.listTraces({ runId, limit, offset })
    return { structured: { traces: page.items, total: page.total } }
  }
})

interface PeerView { name?: string, lastSyncAt?: string, [k: string]: unknown }

const lagSeconds = (at: string | undefined, now: number): number | null =>
  at === undefined || Number.isNaN(Date.parse(at)) ? null : Math.max(0, Math.round((now - Date.parse(at)) / 1000))

export const syncStatus = defineTool<Record<string, never>>({
  name: 'sync_status',
  title: 'Sync Status',
  description: 'How this memory is kept in step with the user\'s other machines: the sync mode, the peers, ' +
    'when each last synced and how long ago (lag, seconds).',
  inputSchema: root({ type: 'object', properties: {} }),
  outputSchema: root(obj({
    mode: str('native, polled, or none'),
    reason: str('Why this mode'),
    nodeId: str('This node'),
    peers: arr({ type: 'object' }),
    lastSyncAt: nullable(str('The last successful sync with any peer')),
    lagSeconds: nullable({ type: 'integer', description: 'Seconds since lastSyncAt' }),
    p2p: { type: 'object' }
  }, { required: ['mode', 'nodeId', 'peers', 'lastSyncAt', 'lagSeconds'] })),
  annotations: READ_ONLY,
  async run (_args, { api }) {
    const now = Date.now()
    const [status, sync, p2p] = await Promise.all([
      api.status(),
      api.getOptional<{ mode?: string, reason?: string, peers?: PeerView[], [k: string]: unknown }>('/api/v1/sync/status'),
      api.getOptional<Record<string, unknown>>('/api/v1/p2p/status').catch(e => {
        if (isEngramError(e) && e.code === 'NOT_FOUND') return { enabled: false }
        throw e
      })
    ])
    const peers = (sync?.peers ?? []).map(p => ({ ...p, lagSeconds: lagSeconds(p.lastSyncAt, now) }))
    const last = peers.map(p => p.lastSyncAt).filter((t): t is string => typeof t === 'string').sort().at(-1)
    const out = {
      ...sync,
      mode: sync?.mode ?? 'none',
      reason: sync?.reason ?? 'this node does not run sync: its records stay on this machine',
      nodeId: status.nodeId,
      peers,
      lastSyncAt: last ?? null,
      lagSeconds: lagSeconds(last, now),
      p2p: p2p ?? { enabled: false }
    }
    return { structured: out }
  }
})

export const ENGRAM_TOOLS: readonly Tool[] = [noteSet, noteGet, noteSearch, episodeRecord, episodeList, traceAppend, traceList, syncStatus]
