/** `engram add`, `engram query`, `engram delete`: triples. */
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, intOption, pageOptionsHelp, str, type Values } from '../args.ts'
import type { TripleDto } from '../../api/dto.ts'
import type { PatternQuery } from '../../client/ApiClient.ts'
import type { Command } from '../command.ts'
import { connect } from '../connect.ts'
import { EXIT, USAGE } from '../exit.ts'
import { columns, printJson, type CliIo } from '../io.ts'
import { displayTerm, termFromText, termQueryText, TERM_TYPES } from '../term.ts'
import { cliTime } from '../time.ts'

const TERM_OPTIONS = {
  type: { type: 'string' },
  lang: { type: 'string' }
} as const

const PATTERN_OPTIONS = {
  subject: { type: 'string', short: 's' },
  predicate: { type: 'string', short: 'p' },
  object: { type: 'string', short: 'o' },
  namespace: { type: 'string', short: 'n' },
  ...TERM_OPTIONS
} as const

/** The help lines of PATTERN_OPTIONS. */
const PATTERN_OPTIONS_HELP = `  -s, --subject S    subject
  -p, --predicate P  predicate
  -o, --object O     object (a string literal unless --type says otherwise)
  --type T           type of --object: ${TERM_TYPES.join(' | ')}
  --lang L           language tag of a string --object
  -n, --namespace N  subject namespace: the part of the subject before its first ":"`

function patternFrom (v: Values, command: string): PatternQuery {
  const object = str(v, 'object')
  if (object === undefined && (str(v, 'type') !== undefined || str(v, 'lang') !== undefined)) {
    throw USAGE('--type and --lang describe --object; give --object too', command)
  }
  return {
    subject: str(v, 'subject'),
    predicate: str(v, 'predicate'),
    object: object === undefined ? undefined : termQueryText(object, str(v, 'type'), str(v, 'lang'), command),
    namespace: str(v, 'namespace')
  }
}

export const addCommand: Command = {
  name: 'add',
  summary: 'add a triple (subject predicate object); prints its id',
  help: `Usage: engram add SUBJECT PREDICATE OBJECT [--type T] [--lang L]

Adds one triple and prints its id (the BLAKE3 content id: the same triple has the same id on
every machine). Adding a triple that is already there asserts it again (a new stamp), so it
stays even over a delete made elsewhere before it that has not reached this machine yet.

OBJECT is a string literal unless --type says otherwise.

Options:
  --type T           node | string | number | boolean | datetime | json (default: string)
  --lang L           language tag of a string, e.g. en, pt-BR
${CLIENT_OPTIONS_HELP}

Examples:
  engram add user:alice prefers:editor vim
  engram add user:alice knows user:bob --type node
  engram add user:alice age 42 --type number
  engram add user:alice greeting bonjour --lang fr
  engram add event:1 at 2026-11-20T09:30:00Z --type datetime
  engram add user:alice settings '{"theme":"dark"}' --type json
  engram add account:1 balance --type number -- -5     (a negative number goes after --)
`,
  options: { ...CLIENT_OPTIONS, ...TERM_OPTIONS },
  positionals: { min: 3, max: 3 },
  async run ({ values, positionals }, io) {
    const [s, p, o] = positionals as [string, string, string]
    const object = termFromText(o, str(values, 'type'), str(values, 'lang'), 'add')
    const triple = await connect(values, io).addTriple(s, p, object)
    if (values.json === true) printJson(io, triple)
    else io.out(triple.id + '\n')
    return EXIT.ok
  }
}

export const queryCommand: Command = {
  name: 'query',
  summary: 'list triples matching a pattern',
  help: `Usage: engram query [--subject S] [--predicate P] [--object O [--type T] [--lang L]]
                    [--namespace N] [--origin NODE] [--as-of TIME] [--limit N] [--offset N]

Lists the triples matching every given field (all triples when none is given), ordered by
subject, predicate and id: one per line, "ID SUBJECT PREDICATE OBJECT". String objects are
shown quoted, node objects bare. --json adds each triple's provenance.

Options:
${PATTERN_OPTIONS_HELP}
  --origin NODE      only triples written by this node (engram nodes lists them)
  --as-of TIME       the triples as they were then: an ISO-8601 date-time, milliseconds, or a
                     duration back from now (1h, 2d); within history.retentionDays
${pageOptionsHelp('triples')}
${CLIENT_OPTIONS_HELP}

Examples:
  engram query --subject user:alice
  engram query --predicate knows --object user:bob --type node
  engram query --namespace user --limit 10 --json
  engram query --origin 12D3KooW…
  engram query --subject user:alice --as-of 2026-11-20T09:00:00Z
  engram query --as-of 1h
`,
  options: { ...CLIENT_OPTIONS, ...PATTERN_OPTIONS, origin: { type: 'string' }, 'as-of': { type: 'string' }, limit: { type: 'string' }, offset: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const asOf = str(values, 'as-of')
    const page = await connect(values, io).queryTriples({
      ...patternFrom(values, 'query'),
      origin: str(values, 'origin'),
      asOf: asOf === undefined ? undefined : cliTime(asOf, 'as-of', 'query'),
      limit: intOption(values, 'limit', 'query') ?? 100,
      offset: intOption(values, 'offset', 'query')
    })
    if (values.json === true) { printJson(io, page); return EXIT.ok }
    io.out(columns(page.triples.map(t => [t.id, t.subject, t.predicate, displayTerm(t.object)])))
    const shown = page.triples.length
    if (shown === 0) io.err(page.total === 0 ? 'no triples match\n' : `no triples at offset ${page.offset} (${page.total} match)\n`)
    else if (shown < page.total) io.err(`${shown} of ${page.total} triples (from offset ${page.offset}); use --limit and --offset for more\n`)
    return EXIT.ok
  }
}

/** Triples a dry run shows. */
const DRY_RUN_SHOWN = 20

export const deleteCommand: Command = {
  name: 'delete',
  summary: 'delete a triple by id, or every triple matching a pattern',
  help: `Usage: engram delete ID
       engram delete [--subject S] [--predicate P] [--object O [--type T]] [--namespace N]
                     [--dry-run] [--yes]

Deletes one triple by id, or every triple matching the pattern (at least one field is
required). A deletion is kept as a tombstone for sync.tombstoneTtlHours so that it reaches
your other machines, and a copy of the old triple cannot bring it back: a delete here is a
delete on every machine this node syncs with.

When a pattern matches more than one triple, it asks first on a terminal, and elsewhere
deletes only with --yes. --dry-run deletes nothing: it prints how many triples match, and the
first ${DRY_RUN_SHOWN} of them.

Options:
${PATTERN_OPTIONS_HELP}
  --dry-run          show what would be deleted, delete nothing
  -y, --yes          delete without asking, however many triples match
${CLIENT_OPTIONS_HELP}

Examples:
  engram delete 3f1c…e9a0        (an id printed by engram add or engram query)
  engram delete --subject user:alice --predicate prefers:editor
  engram delete --namespace scratch --dry-run
  engram delete --namespace scratch --yes
`,
  options: { ...CLIENT_OPTIONS, ...PATTERN_OPTIONS, 'dry-run': { type: 'boolean' }, yes: { type: 'boolean', short: 'y' } },
  positionals: { min: 0, max: 1 },
  async run ({ values, positionals }, io) {
    const pattern = patternFrom(values, 'delete')
    const hasPattern = Object.values(pattern).some(x => x !== undefined)
    const id = positionals[0]
    if (id !== undefined && hasPattern) throw USAGE('give either an ID or a pattern, not both', 'delete')
    if (id === undefined && !hasPattern) throw USAGE('give the ID of a triple, or a pattern (--subject, --predicate, --object, --namespace)', 'delete')
    const client = connect(values, io)
    if (id !== undefined) {
      if (values['dry-run'] === true) {
        const t = await client.getTriple(id)
        return dryRun(io, values, { triples: [t], total: 1 })
      }
      const result = await client.deleteTriple(id)
      printDeleted(io, values, result)
      return EXIT.ok
    }
    const matching = await client.queryTriples({ ...pattern, limit: DRY_RUN_SHOWN })
    if (values['dry-run'] === true) return dryRun(io, values, matching)
    if (matching.total > 1 && values.yes !== true && !await confirmed(io, matching.total, describePattern(pattern))) {
      io.err('nothing deleted\n')
      return EXIT.failed
    }
    printDeleted(io, values, await client.deleteTriples(pattern))
    return EXIT.ok
  }
}

const plural = (n: number): string => `${n} triple${n === 1 ? '' : 's'}`

function printDeleted (io: CliIo, values: Values, result: { deleted: number }): void {
  if (values.json === true) printJson(io, result)
  else io.out(`deleted ${plural(result.deleted)}\n`)
}

function dryRun (io: CliIo, values: Values, matching: { triples: readonly TripleDto[], total: number }): number {
  if (values.json === true) {
    printJson(io, { dryRun: true, matching: matching.total, triples: matching.triples })
    return EXIT.ok
  }
  io.out(columns(matching.triples.map(t => [t.id, t.subject, t.predicate, displayTerm(t.object)])))
  const more = matching.total > matching.triples.length ? ` (the first ${matching.triples.length} shown)` : ''
  io.err(`dry run: would delete ${plural(matching.total)}${more}, here and on every machine this node syncs with; nothing deleted\n`)
  return EXIT.ok
}

const describePattern = (p: PatternQuery): string =>
  Object.entries(p).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${String(v)}`).join(' ')

/** Asks on the terminal; without one, the answer is no (and says how to confirm). */
async function confirmed (io: CliIo, n: number, pattern: string): Promise<boolean> {
  const what = `${plural(n)} match ${pattern}`
  if (io.ask === undefined) {
    throw USAGE(`${what}; deleting them deletes them on every machine this node syncs with: add --yes to delete them, or --dry-run to see them`, 'delete')
  }
  const answer = await io.ask(`${what}. Delete them here and on every machine this node syncs with? [y/N] `)
  return /^y(es)?$/i.test(answer.trim())
}
