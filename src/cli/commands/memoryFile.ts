/**
 * `engram import-memory FILE` and `engram export-memory [--out FILE]`: the JSONL memory file of
 * the knowledge-graph memory server, in and out of the daemon's store (docs/MCP.md).
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { BAD_INPUT } from '../../core/errors.ts'
import { GraphStore } from '../../mcp/GraphStore.ts'
import { formatMemoryFile, parseMemoryFile } from '../../mcp/jsonl.ts'
import { DEFAULT_NAMESPACE, GraphMapping, type Entity, type Relation } from '../../mcp/mapping.ts'
import { RestApi } from '../../client/RestApi.ts'
import { CLIENT_OPTIONS, intOption, str, type Values } from '../args.ts'
import type { Command } from '../command.ts'
import { connect } from '../connect.ts'
import { EXIT, USAGE } from '../exit.ts'
import { printJson, type CliIo } from '../io.ts'
import { Progress } from '../progress.ts'

const NAMESPACE = /^[A-Za-z0-9._-]{1,64}$/
const DEFAULT_BATCH = 5000

const OPTIONS_HELP = `  --namespace NS     the knowledge graph's namespace (default kg), as for engram mcp
  --url URL          the daemon's API (default: ENGRAM_URL, <dataDir>/api.json, http://<api.host>:<api.port>)
  --data-dir DIR     find the daemon of this data directory (its api.json)
  --config FILE      configuration file used to find the daemon`

function graphOf (values: Values, io: CliIo, command: string): GraphStore {
  const namespace = str(values, 'namespace') ?? DEFAULT_NAMESPACE
  if (!NAMESPACE.test(namespace)) throw USAGE(`--namespace must be 1 to 64 letters, digits, '.', '_' or '-', got ${JSON.stringify(namespace)}`, command)
  return new GraphStore(new RestApi(connect(values, io)), new GraphMapping(namespace))
}

export const importMemoryCommand: Command = {
  name: 'import-memory',
  summary: 'import a knowledge-graph memory file (JSONL) into the store',
  help: `Usage: engram import-memory FILE [--batch-size N] [--namespace NS]

Imports the memory file of the knowledge-graph memory server (MEMORY_FILE_PATH, memory.jsonl:
one {"type":"entity",…} or {"type":"relation",…} per line) into the daemon's store, where
engram mcp's tools see it. Batches of at most N triples, each written in one transaction;
progress goes to stderr. An entity that exists already keeps its type and gains the file's
observations; what is present already is not written twice, so importing again changes nothing.
A line that cannot be read is reported with its number and skipped.

Options:
  --batch-size N     triples per transaction (default ${DEFAULT_BATCH}, at most 10000)
${OPTIONS_HELP}
  --json             print the summary as JSON
  -h, --help         this help

Examples:
  engram import-memory ~/.npm/_npx/…/memory.jsonl
  engram import-memory memory.jsonl --data-dir /tmp/engram-b --json
`,
  options: { ...CLIENT_OPTIONS, namespace: { type: 'string' }, 'batch-size': { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run ({ values, positionals }, io) {
    const file = resolve(io.cwd, positionals[0]!)
    const batchSize = intOption(values, 'batch-size', 'import-memory') ?? DEFAULT_BATCH
    if (batchSize < 1 || batchSize > 10_000) throw USAGE(`--batch-size must be from 1 to 10000, got ${batchSize}`, 'import-memory')
    const graph = graphOf(values, io, 'import-memory')
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (e) {
      throw BAD_INPUT(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file })
    }
    const { items, skipped } = parseMemoryFile(text)
    for (const s of skipped) io.err(`import-memory: line ${s.line} skipped: ${s.reason}\n`)

    const progress = new Progress(io, 'import-memory', { unit: 'items', total: items.length })
    const typed = new Set<string>()
    let entities: Entity[] = []
    let relations: Relation[] = []
    let size = 0
    let done = 0
    const totals = { entities: 0, relations: 0, observations: 0, written: 0, existing: 0, batches: 0 }
    const flush = async (): Promise<void> => {
      if (entities.length + relations.length === 0) return
      const r = await graph.importBatch(entities, relations, typed)
      done += entities.length + relations.length
      totals.written += r.written
      totals.existing += r.existing
      totals.batches++
      progress.update(done)
      entities = []
      relations = []
      size = 0
    }
    for (const { item } of items) {
      const n = item.kind === 'entity' ? 1 + item.entity.observations.length : 1
      if (size > 0 && size + n > batchSize) await flush()
      if (item.kind === 'entity') {
        entities.push(item.entity)
        totals.entities++
        totals.observations += item.entity.observations.length
      } else {
        relations.push(item.relation)
        totals.relations++
      }
      size += n
    }
    await flush()
    progress.finish()

    const summary = { file, namespace: graph.mapping.namespace, ...totals, skippedLines: skipped.map(s => s.line) }
    if (values.json === true) printJson(io, summary)
    else {
      io.out(`imported ${totals.entities} entities (${totals.observations} observations) and ${totals.relations} relations: ` +
        `${totals.written} new triples in ${totals.batches} batch(es)` +
        (totals.existing > 0 ? `; ${totals.existing} entities existed already and kept their type` : '') +
        (skipped.length > 0 ? `; ${skipped.length} line(s) skipped` : '') + '\n')
    }
    return EXIT.ok
  }
}

export const exportMemoryCommand: Command = {
  name: 'export-memory',
  summary: 'export the knowledge graph as a memory file (JSONL)',
  help: `Usage: engram export-memory [--out FILE] [--namespace NS]

Writes the knowledge graph of engram mcp's tools in the memory file format of the
knowledge-graph memory server: one {"type":"entity",…} line per entity, then one
{"type":"relation",…} line per relation, in the order they were written. To stdout, or to
FILE (replaced atomically). Importing a file and exporting it gives the same graph.

Options:
  --out FILE         write to FILE instead of stdout
${OPTIONS_HELP}
  -h, --help         this help

Examples:
  engram export-memory > memory.jsonl
  engram export-memory --out ~/backup/memory.jsonl
`,
  options: { ...CLIENT_OPTIONS, namespace: { type: 'string' }, out: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const graph = graphOf(values, io, 'export-memory')
    const { graph: g } = await graph.readGraph()
    const text = formatMemoryFile(g)
    const out = str(values, 'out')
    if (out === undefined) {
      io.out(text)
      return EXIT.ok
    }
    const file = resolve(io.cwd, out)
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
    try {
      writeFileSync(tmp, text)
      renameSync(tmp, file)
    } catch (e) {
      rmSync(tmp, { force: true })
      throw BAD_INPUT(`cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { file })
    }
    if (values.json === true) printJson(io, { file, entities: g.entities.length, relations: g.relations.length })
    else io.err(`wrote ${g.entities.length} entities and ${g.relations.length} relations to ${file}\n`)
    return EXIT.ok
  }
}
