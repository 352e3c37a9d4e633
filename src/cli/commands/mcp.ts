/** `engram mcp`: an MCP server over the running daemon, for any MCP-capable agent (docs/MCP.md). */
import { bool, CLIENT_OPTIONS, intOption, str } from '../args.ts'
import type { Command } from '../command.ts'
import { EXIT, USAGE } from '../exit.ts'
import { COMPAT, MEMORY_SERVER_RELEASES, type MemoryServerRelease } from '../../mcp/compat.ts'

const NAMESPACE = /^[A-Za-z0-9._-]{1,64}$/

/** Where the daemon is, without --json (nothing is printed as data). */
const { json: _json, ...DAEMON_OPTIONS } = CLIENT_OPTIONS

export const mcpCommand: Command = {
  name: 'mcp',
  summary: 'serve the memory to MCP clients (drop-in for the knowledge-graph memory server)',
  help: `Usage: engram mcp [--http [--port N]] [--start-daemon] [--namespace NS] [--provenance]
                  [--compat released|next]

Runs an MCP (Model Context Protocol) server for AI agents, on stdio by default. It is a client
of the running engram daemon: every agent that starts its own engram mcp shares the daemon's
one store, and the store is synced to your other machines.

Tools: the nine of the knowledge-graph memory server (create_entities, create_relations,
add_observations, delete_entities, delete_observations, delete_relations, read_graph,
search_nodes, open_nodes), same names, inputs and outputs, plus note_set, note_get,
note_search, episode_record, episode_list, trace_append, trace_list and sync_status.
Resource: memory://knowledge-graph, with resources/updated notifications when the graph
changes here or arrives from another machine. See docs/MCP.md.

If no daemon answers, it exits with 3 and says how to start one; with --start-daemon it starts
one (engram start with the same --data-dir and --config, logging to <dataDir>/daemon.log),
which keeps running after the MCP server ends. With --data-dir, only that directory's daemon is
used (one it starts listens on a free port, published in <dataDir>/api.json).

Over --http, a session without a request for 30 minutes is closed, and when all 64 are in use a
new client takes the place of the one idle the longest; such a client gets 404 and starts anew.

Options:
  --http             serve Streamable HTTP on 127.0.0.1 (at /mcp) instead of stdio
  --port N           port of --http (default 19092; 0 picks a free one, printed on stderr)
  --start-daemon     start a daemon when none is running
  --namespace NS     the knowledge graph's namespace (default kg): separate graphs in one store
  --provenance       also write when and where each record was written into the text of results
  --compat R         follow the memory server's released behaviour (released, the default) or
                     that of its next release (next): relations to missing entities refused,
                     deletes that say what they did not find, search queries of at most 2,048
                     characters
  --url URL          the daemon's API (default: ENGRAM_URL, <dataDir>/api.json, http://<api.host>:<api.port>)
  --data-dir DIR     find the daemon of this data directory (its api.json)
  --config FILE      configuration file used to find the daemon
  -h, --help         this help

Register it in an MCP client (e.g. claude_desktop_config.json):
  {"mcpServers": {"memory": {"command": "engram", "args": ["mcp", "--start-daemon"]}}}

Examples:
  engram mcp
  engram mcp --start-daemon
  engram mcp --http --port 19092
  engram mcp --data-dir /tmp/engram-b --namespace project-x
  engram mcp --compat next
`,
  options: {
    ...DAEMON_OPTIONS,
    http: { type: 'boolean' },
    port: { type: 'string' },
    'start-daemon': { type: 'boolean' },
    namespace: { type: 'string' },
    provenance: { type: 'boolean' },
    compat: { type: 'string' }
  },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const namespace = str(values, 'namespace') ?? 'kg'
    if (!NAMESPACE.test(namespace)) throw USAGE(`--namespace must be 1 to 64 letters, digits, '.', '_' or '-', got ${JSON.stringify(namespace)}`, 'mcp')
    const port = intOption(values, 'port', 'mcp')
    if (port !== undefined && !bool(values, 'http')) throw USAGE('--port is the port of --http; give --http too', 'mcp')
    if (port !== undefined && port > 65535) throw USAGE(`--port must be from 0 to 65535, got ${port}`, 'mcp')
    const release = str(values, 'compat') ?? 'released'
    if (!(MEMORY_SERVER_RELEASES as readonly string[]).includes(release)) {
      throw USAGE(`--compat must be one of ${MEMORY_SERVER_RELEASES.join(', ')}, got ${JSON.stringify(release)}`, 'mcp')
    }
    // Loaded only here, so that the other commands start fast.
    const { runMcp } = await import('../mcp/run.ts')
    const { DEFAULT_MCP_PORT } = await import('../../mcp/http.ts')
    await runMcp(values, io, {
      httpPort: bool(values, 'http') ? (port ?? DEFAULT_MCP_PORT) : undefined,
      namespace,
      startDaemon: bool(values, 'start-daemon'),
      provenanceText: bool(values, 'provenance'),
      compat: COMPAT[release as MemoryServerRelease]
    })
    return EXIT.ok
  }
}
