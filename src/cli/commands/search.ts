/** `engram search`, `engram reindex`: search all memory, rebuild the full-text index. */
import type { SearchResponse, SearchResultDto, Snippet } from '../../api/contract.ts'
import { markSnippet } from '../../text/snippet.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, intOption, str } from '../args.ts'
import type { Command } from '../command.ts'
import { connect } from '../connect.ts'
import { EXIT, USAGE } from '../exit.ts'
import { printJson, type CliIo } from '../io.ts'
import { displayTerm } from '../term.ts'

/** The snippet's text with each highlighted word in [brackets]. */
const marked = (s: Snippet): string => markSnippet(s, '[', ']')

function resultLines (r: SearchResultDto, n: number): string[] {
  const score = r.score.toFixed(3)
  switch (r.type) {
    case 'entity':
      return [`${n}. ${r.subject}  (score ${score})`, ...r.triples.map(t => {
        const shown = t.snippet !== undefined && t.snippet.field === 'object' ? marked(t.snippet) : displayTerm(t.object)
        return `     ${t.predicate}  ${shown}`
      })]
    case 'note': return [`${n}. note ${r.note.key}  (score ${score})`, `     ${r.snippet !== undefined ? marked(r.snippet) : JSON.stringify(r.note.value)}`]
    case 'episode': return [`${n}. episode ${r.episode.id}  (score ${score})`, `     ${r.snippet !== undefined ? marked(r.snippet) : JSON.stringify(r.episode.data)}`]
    case 'trace': return [`${n}. trace ${r.trace.runId} ${r.trace.type}  (score ${score})`, `     ${r.snippet !== undefined ? marked(r.snippet) : JSON.stringify(r.trace.data)}`]
  }
}

function printAnswer (io: CliIo, a: SearchResponse): void {
  io.out(a.results.flatMap((r, i) => resultLines(r, i + 1)).join('\n') + (a.results.length > 0 ? '\n' : ''))
  if (a.graph !== undefined) {
    io.out(`\nneighbourhood, ${a.graph.depth} hop${a.graph.depth === 1 ? '' : 's'}: ${a.graph.nodes.length} nodes, ${a.graph.triples.length} triples${a.graph.truncated ? ' (cut short)' : ''}\n`)
    io.out(a.graph.triples.map(t => `  ${t.subject}  ${t.predicate}  ${displayTerm(t.object)}`).join('\n') + (a.graph.triples.length > 0 ? '\n' : ''))
  }
  if (a.results.length === 0) io.err('nothing matches\n')
  if (a.matched === 'any') io.err('fewer records hold every word: records holding some of them follow\n')
  if (a.index.partial) io.err('the full-text index is catching up (a rebuild, or records a catch-up from a peer brought): records it has not reached yet are missing\n')
  if (a.index.truncated) io.err('more records matched than one search ranks: the most recent were ranked; narrow the query\n')
  if (a.semantic?.error !== undefined) io.err(`semantic search failed (${a.semantic.error}): results are by full text alone\n`)
}

export const searchCommand: Command = {
  name: 'search',
  summary: 'search all memory: ranked, with snippets; triples grouped by entity',
  help: `Usage: engram search QUERY [--kind K,…] [--namespace NS] [--limit N] [--expand K] [--mode M]

Searches triples, notes, episodes and traces by their words and prints the best matches, best
first, with the matching words in [brackets]. Triples are grouped by subject: one result per
entity. With an embedder configured (search.embedder.url, .model), results by meaning are fused
in too.

The query: words (all of them must be there; when too few records hold them all, records
holding some follow), "an exact phrase", prefix* (2 characters at least), OR, NOT or -word,
and parentheses. IRIs are split into words: user:alice finds "user alice".

Options:
  --kind K,…         only these kinds: triple, note, episode, trace
  -n, --namespace NS only records in this namespace (the part of a subject or key before ":")
  --limit N          most results (1 to 100, default 10)
  --expand K         also print the graph around the entities found, K hops deep (1 to 3)
  --mode M           auto (default: hybrid when an embedder is configured), text or hybrid
${CLIENT_OPTIONS_HELP}

Examples:
  engram search "vim editor"
  engram search '"green tea" OR coffee' --kind triple
  engram search 'deploy* -staging' --namespace project --limit 5
  engram search alice --expand 2 --json
`,
  options: {
    ...CLIENT_OPTIONS,
    kind: { type: 'string' },
    namespace: { type: 'string', short: 'n' },
    limit: { type: 'string' },
    expand: { type: 'string' },
    mode: { type: 'string' }
  },
  positionals: { min: 1, max: 1 },
  async run ({ values, positionals }, io) {
    const mode = str(values, 'mode')
    if (mode !== undefined && !['auto', 'text', 'hybrid'].includes(mode)) throw USAGE(`--mode must be auto, text or hybrid, got ${JSON.stringify(mode)}`, 'search')
    const answer = await connect(values, io).search({
      q: positionals[0]!,
      kind: str(values, 'kind'),
      namespace: str(values, 'namespace'),
      limit: intOption(values, 'limit', 'search'),
      expand: intOption(values, 'expand', 'search'),
      mode
    })
    if (values.json === true) printJson(io, answer)
    else printAnswer(io, answer)
    return EXIT.ok
  }
}

const POLL_MS = 250

export const reindexCommand: Command = {
  name: 'reindex',
  summary: 'rebuild the full-text index from the records',
  help: `Usage: engram reindex [--json]

Empties the full-text index and builds it again from every record, while the node keeps
answering (searches find what is indexed so far). Progress goes to stderr. The index is derived
data: rebuilding it changes no record and nothing is sent to other machines.

Options:
${CLIENT_OPTIONS_HELP}

Examples:
  engram reindex
  engram reindex --json
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const client = connect(values, io)
    const t0 = Date.now()
    let s = (await client.reindex()).text
    while (s.rebuilding) {
      const eta = s.etaSeconds !== undefined ? `, ${s.ratePerSecond!.toLocaleString('en')}/s, about ${s.etaSeconds} s left` : ''
      io.err(`reindexing: ${s.done.toLocaleString('en')} of ${s.upto.toLocaleString('en')}${eta}\n`)
      await new Promise(resolve => setTimeout(resolve, POLL_MS))
      s = (await client.searchIndex()).text
    }
    if (values.json === true) printJson(io, { ...s, seconds: (Date.now() - t0) / 1000 })
    else io.out(`reindexed: ${s.docs.toLocaleString('en')} records in the full-text index (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`)
    return EXIT.ok
  }
}
