/**
 * `engram show`, `engram history`, `engram revert`: who wrote a record, what it was before, and
 * going back. (Revocations, nodes and refused records are in trust.ts.)
 */
import type { Json } from '../../core/model.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, bool, str } from '../args.ts'
import type { StateView } from '../../api/contract.ts'
import type { Command } from '../command.ts'
import { connect } from '../connect.ts'
import { EXIT, USAGE } from '../exit.ts'
import { columns, printJson } from '../io.ts'
import { displayTerm } from '../term.ts'
import { cliTime } from '../time.ts'

const KIND_OPTION = { kind: { type: 'string' } } as const
const KIND_HELP = '  --kind K           triple | note | episode | trace, when ID could name two records'
const KINDS = ['triple', 'note', 'episode', 'trace']

function kindOf (v: Record<string, unknown>, command: string): string | undefined {
  const kind = str(v as never, 'kind')
  if (kind !== undefined && !KINDS.includes(kind)) throw USAGE(`--kind must be one of ${KINDS.join(', ')}`, command)
  return kind
}

/** `name (node id)`, or the node id alone when it gave no name. */
export const who = (node: string | null, name: string | null | undefined): string =>
  node === null ? '-' : name === null || name === undefined ? node : `${name} (${node})`

/** What a state holds, in one line. */
export function content (s: Record<string, Json>, kind: string): string {
  if (s.deleted === true) return 'deleted'
  switch (kind) {
    case 'triple': return `${String(s.subject)} ${String(s.predicate)} ${displayTerm(s.object as Json)}`
    case 'note': return JSON.stringify(s.value)
    case 'episode': return JSON.stringify(s.data)
    default: return `${String(s.runId)} ${String(s.type)} ${JSON.stringify(s.data)}`
  }
}

function signedText (s: StateView): string {
  const p = s.provenance
  if (!p.signed) return 'no (unsigned: written before its origin signed, or by an older version)'
  return p.signer === p.origin ? `yes, by ${who(p.signer ?? null, p.signer_name)}` : `yes, by ${who(p.signer ?? null, p.signer_name)} (a deletion it derived)`
}

export const showCommand: Command = {
  name: 'show',
  summary: 'show a record and who wrote it: origin, machine name, time, signature, the peer it came through',
  help: `Usage: engram show ID [--kind K]

Shows a record in its current state (a deleted one too) with its provenance: the node that
wrote it and the name it gave itself, when, whether its signature verified (and whose), and
the peer it arrived through. ID is a triple id, a note key, an episode id or a trace id.

Options:
${KIND_HELP}
${CLIENT_OPTIONS_HELP}

Examples:
  engram show 2fd806d8a83db84ebf53cafa20a834ffdb051eb9dddb8c054893e807a22229c4
  engram show project:engram/goal --json
`,
  options: { ...CLIENT_OPTIONS, ...KIND_OPTION },
  positionals: { min: 1, max: 1 },
  async run ({ values, positionals }, io) {
    const r = await connect(values, io).showRecord(positionals[0]!, kindOf(values, 'show'))
    if (values.json === true) { printJson(io, r); return EXIT.ok }
    const s = r.state
    const p = s.provenance
    io.out(columns([
      ['kind', r.kind],
      ['key', r.key],
      [r.kind === 'note' ? 'value' : 'content', content(s, r.kind)],
      ['written', `${p.time} by ${who(p.origin, p.origin_name)}`],
      ['signed', signedText(s)],
      ['via', p.via === null ? 'written on this node' : who(p.via, p.via_name)],
      ['states', `${r.states} held here (engram history ${r.key})`]
    ]))
    return EXIT.ok
  }
}

export const historyCommand: Command = {
  name: 'history',
  summary: 'list every state of a record: who changed what, when, from which machine',
  help: `Usage: engram history ID [--kind K]

Lists every state of a record this node holds, newest first: when it was written and by which
node (with the name it gave itself), whether it was signed, the peer it came through, and what
it held. Replaced states are kept for history.retentionDays (the same rule on every node); a
node holds the states it has seen. ID is a triple id, a note key, an episode id or a trace id.

Options:
${KIND_HELP}
${CLIENT_OPTIONS_HELP}

Examples:
  engram history project:engram/goal
  engram history 2fd806d8…29c4 --json
`,
  options: { ...CLIENT_OPTIONS, ...KIND_OPTION },
  positionals: { min: 1, max: 1 },
  async run ({ values, positionals }, io) {
    const h = await connect(values, io).history(positionals[0]!, kindOf(values, 'history'))
    if (values.json === true) { printJson(io, h); return EXIT.ok }
    io.out(columns([
      ['TIME', 'BY', 'VIA', 'SIGNED', 'STATE'],
      ...h.states.map(s => [
        s.provenance.time,
        who(s.provenance.origin, s.provenance.origin_name),
        s.provenance.via === null ? 'here' : who(s.provenance.via, s.provenance.via_name),
        s.provenance.signed ? 'yes' : 'no',
        `${content(s, h.kind)}${s.current ? ' (current)' : ''}`
      ])
    ]))
    return EXIT.ok
  }
}

export const revertCommand: Command = {
  name: 'revert',
  summary: 'undo: a record back to its previous state, or everything one node wrote in a time window',
  help: `Usage: engram revert ID [--kind K] [--dry-run]
       engram revert --origin NODE --since TIME [--until TIME] [--dry-run]

Writes earlier states back as new writes, which sync to every machine and win there like any
write. With ID: the record goes back to the state before its last change (a deleted triple is
added back, an added one deleted, a note gets its earlier value). With --origin: every record
NODE changed in the window goes back to the latest state it had that NODE did not write then
(records NODE created are deleted; episodes cannot be deleted and traces never change, so those
are listed as skipped). TIME is an ISO-8601 date-time, milliseconds, or a duration back from now
(30m, 1h, 2d); the window must lie within history.retentionDays.

Options:
  --origin NODE      the node whose writes to undo (engram nodes lists them)
  --since TIME       start of the window
  --until TIME       end of the window (default: now)
  --dry-run          show what would be written, write nothing
${KIND_HELP}
${CLIENT_OPTIONS_HELP}

Examples:
  engram revert project:engram/goal
  engram revert --origin 12D3KooW… --since 1h --dry-run
  engram revert --origin 12D3KooW… --since 2026-11-20T09:00:00Z --until 2026-11-20T10:00:00Z
`,
  options: { ...CLIENT_OPTIONS, ...KIND_OPTION, origin: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, 'dry-run': { type: 'boolean' } },
  positionals: { min: 0, max: 1 },
  async run ({ values, positionals }, io) {
    const id = positionals[0]
    const origin = str(values, 'origin')
    if ((id === undefined) === (origin === undefined)) throw USAGE('give either ID (one record) or --origin NODE --since TIME (a window)', 'revert')
    const sinceText = str(values, 'since')
    const untilText = str(values, 'until')
    if (origin !== undefined && sinceText === undefined) throw USAGE('--origin needs --since TIME', 'revert')
    if (id !== undefined && (sinceText !== undefined || untilText !== undefined)) throw USAGE('--since and --until go with --origin', 'revert')
    const dryRun = bool(values, 'dry-run')
    const r = await connect(values, io).revert(id !== undefined
      ? { id, kind: kindOf(values, 'revert'), dryRun }
      : { origin, since: cliTime(sinceText!, 'since', 'revert'), ...(untilText !== undefined ? { until: cliTime(untilText, 'until', 'revert') } : {}), dryRun })
    if (values.json === true) { printJson(io, r); return EXIT.ok }
    const verb = r.dryRun ? 'would write' : 'wrote'
    io.out(columns(r.written.map(w => [w.kind, w.key, content(w, w.kind)])))
    io.err(`${verb} ${r.written.length} state${r.written.length === 1 ? '' : 's'}; ${r.unchanged} already as asked` +
      `${r.skipped.length > 0 ? `; skipped ${r.skipped.length}: ${r.skipped.map(s => `${s.kind} ${s.key} (${s.why})`).join(', ')}` : ''}\n`)
    return EXIT.ok
  }
}
