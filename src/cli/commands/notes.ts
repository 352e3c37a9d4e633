/** `engram note set|get|list|delete`: notes, key → JSON value (last writer wins). */
import type { Json } from '../../core/model.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, PAGE_OPTIONS, pageOf, pageOptionsHelp, str } from '../args.ts'
import type { Command } from '../command.ts'
import { connect } from '../connect.ts'
import { EXIT } from '../exit.ts'
import { valueText } from '../input.ts'
import { pageNote, printJson } from '../io.ts'
import { cliTime } from '../time.ts'

const AS_OF_HELP = `  --as-of TIME       the note(s) as they were then: an ISO-8601 date-time, milliseconds, or a
                     duration back from now (1h, 2d); within history.retentionDays`

/** VALUE as JSON when it parses as JSON, else as a string. */
export function parseNoteValue (text: string): Json {
  try {
    return JSON.parse(text) as Json
  } catch {
    return text
  }
}

/** A value for people: strings as they are, anything else as JSON. */
const show = (v: Json): string => (typeof v === 'string' ? v : JSON.stringify(v))

export const noteSetCommand: Command = {
  name: 'note set',
  summary: 'set a note: KEY → VALUE (from an argument, a file or stdin)',
  help: `Usage: engram note set KEY VALUE
       engram note set KEY --file PATH
       engram note set KEY -                 (the value from standard input)

Sets the note KEY to VALUE. VALUE is read as JSON when it parses as JSON (a number, true,
an object…), otherwise it is a string. The latest write wins on every machine. A value from a
file or standard input is read exactly as UTF-8 text (a final newline is kept in a string);
use them for large values (a note may hold up to 1 MiB), which do not fit a command line.

Options:
  --file PATH        read the value from this file
${CLIENT_OPTIONS_HELP}

Examples:
  engram note set project:engram/goal "replicate agent memory"
  engram note set user:alice/limits '{"tokens": 4000}'
  engram note set build:count 42
  engram note set label '"42"'          (the string "42", not the number)
  engram note set project:engram/design --file design.md
  git log -1 --format=%B | engram note set project:engram/last-commit -
`,
  options: { ...CLIENT_OPTIONS, file: { type: 'string' } },
  positionals: { min: 1, max: 2 },
  async run ({ values, positionals }, io) {
    const [key, given] = positionals as [string, string | undefined]
    const text = await valueText(given, values, io, 'note set', 'VALUE')
    const note = await connect(values, io).setNote(key, parseNoteValue(text))
    if (values.json === true) printJson(io, note)
    else io.out(`set ${note.key}\n`)
    return EXIT.ok
  }
}

export const noteGetCommand: Command = {
  name: 'note get',
  summary: 'print a note\'s value',
  help: `Usage: engram note get KEY [--as-of TIME]

Prints the value of note KEY: a string as it is, any other value as JSON. Exits with 1 when
there is no such note. --json prints the note with its key, value, timestamp and origin.

Options:
${AS_OF_HELP}
${CLIENT_OPTIONS_HELP}

Examples:
  engram note get project:engram/goal
  engram note get user:alice/limits --json
  engram note get project:engram/goal --as-of 1d
`,
  options: { ...CLIENT_OPTIONS, 'as-of': { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run ({ values, positionals }, io) {
    const asOf = str(values, 'as-of')
    const note = await connect(values, io).getNote(positionals[0]!, asOf === undefined ? undefined : cliTime(asOf, 'as-of', 'note get'))
    if (values.json === true) printJson(io, note)
    else io.out(show(note.value) + '\n')
    return EXIT.ok
  }
}

export const noteListCommand: Command = {
  name: 'note list',
  summary: 'list notes (by key prefix)',
  help: `Usage: engram note list [--prefix P] [--as-of TIME] [--limit N] [--offset N]

Lists notes ordered by key, one per line: KEY, a tab, the value (strings as they are, other
values as JSON).

Options:
  --prefix P         only keys starting with P
${pageOptionsHelp('notes')}
${AS_OF_HELP}
${CLIENT_OPTIONS_HELP}

Examples:
  engram note list
  engram note list --prefix project:engram/ --json
  engram note list --as-of 2026-11-20T09:00:00Z
`,
  options: { ...CLIENT_OPTIONS, ...PAGE_OPTIONS, prefix: { type: 'string' }, 'as-of': { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const asOf = str(values, 'as-of')
    const page = await connect(values, io).listNotes({
      prefix: str(values, 'prefix'),
      asOf: asOf === undefined ? undefined : cliTime(asOf, 'as-of', 'note list'),
      ...pageOf(values, 'note list')
    })
    if (values.json === true) { printJson(io, page); return EXIT.ok }
    for (const n of page.notes) io.out(`${n.key}\t${show(n.value)}\n`)
    pageNote(io, page.notes.length, page.total, 'notes')
    return EXIT.ok
  }
}

export const noteDeleteCommand: Command = {
  name: 'note delete',
  summary: 'delete a note',
  help: `Usage: engram note delete KEY

Deletes note KEY (kept as a tombstone for sync.tombstoneTtlHours so the deletion reaches your
other machines). Exits with 1 when there is no such note.

Options:
${CLIENT_OPTIONS_HELP}

Example:
  engram note delete project:engram/goal
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 1, max: 1 },
  async run ({ values, positionals }, io) {
    const result = await connect(values, io).deleteNote(positionals[0]!)
    if (values.json === true) printJson(io, result)
    else io.out(`deleted ${result.key}\n`)
    return EXIT.ok
  }
}
