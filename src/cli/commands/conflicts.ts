/** `engram conflicts` and `engram conflicts resolve`: conflicts kept by the keep-both strategy. */
import type { Json } from '../../core/model.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, str } from '../args.ts'
import type { Command } from '../command.ts'
import { connect } from '../connect.ts'
import { EXIT, USAGE } from '../exit.ts'
import { columns, printJson } from '../io.ts'

/** A record of a conflict, short: a note's value, a triple's object. */
function shown (record: Json): string {
  const r = record as { kind?: string, value?: unknown, object?: { kind?: string, value?: unknown, lang?: string } }
  const v = r.kind === 'note' ? r.value : r.object?.kind === 'string' || r.object?.kind === 'node' ? r.object.value : r.object
  const text = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? 'null'
  return text.length > 40 ? `${text.slice(0, 39)}…` : text
}

export const conflictsCommand: Command = {
  name: 'conflicts',
  summary: 'list sync conflicts kept by the keep-both strategy',
  help: `Usage: engram conflicts [--json]
       engram conflicts resolve ID --keep kept|other

Lists the conflicts sync met with sync.conflictStrategy keep-both: a note that had two
different values (KEPT is the one that stayed current, OTHER the one that lost), or a
single-valued predicate with two live triples (KEPT is the local one, OTHER the incoming one;
both stay until resolved). A conflict resolved on another node disappears here once its
resolution arrives.

Options:
${CLIENT_OPTIONS_HELP}

Examples:
  engram conflicts
  engram conflicts --json
  engram conflicts resolve 3f2a…9c --keep other
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const r = await connect(values, io).conflicts()
    if (values.json === true) { printJson(io, r); return EXIT.ok }
    if (r.conflicts.length === 0) { io.err('no conflicts\n'); return EXIT.ok }
    io.out(columns([
      ['ID', 'KIND', 'KEY', 'KEPT', 'OTHER', 'PEER', 'DETECTED'],
      ...r.conflicts.map(c => [c.id, c.kind, c.key, shown(c.kept), shown(c.other), c.peer, c.detectedAt])
    ]))
    return EXIT.ok
  }
}

export const conflictsResolveCommand: Command = {
  name: 'conflicts resolve',
  summary: 'resolve a conflict: keep one of its two values',
  help: `Usage: engram conflicts resolve ID --keep kept|other

Resolves conflict ID (see engram conflicts). A note gets the chosen value again as a new
write; for a triple conflict the other triple is deleted. The resolution syncs to every node
like any write.

Options:
  --keep kept|other  the value to keep
${CLIENT_OPTIONS_HELP}

Examples:
  engram conflicts resolve 3f2a9c0d4e5b6a7f8091a2b3c4d5e6f7 --keep kept
  engram conflicts resolve 3f2a9c0d4e5b6a7f8091a2b3c4d5e6f7 --keep other
`,
  options: { ...CLIENT_OPTIONS, keep: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run ({ values, positionals }, io) {
    const keep = str(values, 'keep')
    if (keep !== 'kept' && keep !== 'other') throw USAGE('--keep must be kept or other', 'conflicts resolve')
    const r = await connect(values, io).resolveConflict(positionals[0]!, keep)
    if (values.json === true) printJson(io, r)
    else io.out(`resolved ${r.resolved.id} (${r.resolved.kind} ${r.resolved.key}): kept ${shown(keep === 'kept' ? r.resolved.kept : r.resolved.other)}\n`)
    return EXIT.ok
  }
}
