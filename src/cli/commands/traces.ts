/** `engram trace append|get|list`: the execution log, append-only, grouped by run. */
import { preview } from '../../core/errors.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, PAGE_OPTIONS, pageOf, pageOptionsHelp, str } from '../args.ts'
import type { Command } from '../command.ts'
import { connect } from '../connect.ts'
import { EXIT } from '../exit.ts'
import { valueText } from '../input.ts'
import { columns, pageNote, printJson } from '../io.ts'
import { parseNoteValue } from './notes.ts'

export const traceAppendCommand: Command = {
  name: 'trace append',
  summary: 'append an entry to the execution log of a run',
  help: `Usage: engram trace append RUN TYPE DATA
       engram trace append RUN TYPE --file PATH
       engram trace append RUN TYPE -        (DATA from standard input)

Appends an entry of type TYPE to the log of run RUN and prints its id. DATA is read as JSON
when it parses as JSON, otherwise it is a string (at most 256 KiB). Entries are never changed
or removed: the log is append-only on every machine.

Options:
  --file PATH        read DATA from this file
${CLIENT_OPTIONS_HELP}

Examples:
  engram trace append run-1 tool_call '{"tool": "grep", "args": ["-r", "TODO"]}'
  engram trace append run-1 note "build passed"
  cargo test 2>&1 | tail -20 | engram trace append run-1 test_output -
`,
  options: { ...CLIENT_OPTIONS, file: { type: 'string' } },
  positionals: { min: 2, max: 3 },
  async run ({ values, positionals }, io) {
    const [run, type, given] = positionals as [string, string, string | undefined]
    const data = parseNoteValue(await valueText(given, values, io, 'trace append', 'DATA'))
    const trace = await connect(values, io).appendTrace(run, type, data)
    if (values.json === true) printJson(io, trace)
    else io.out(trace.id + '\n')
    return EXIT.ok
  }
}

export const traceGetCommand: Command = {
  name: 'trace get',
  summary: 'print an entry of the execution log',
  help: `Usage: engram trace get ID

Prints the log entry ID (as engram trace append and engram trace list print it): its run, type,
time and origin, then its data as JSON. Exits with 1 when there is no such entry.

Options:
${CLIENT_OPTIONS_HELP}

Examples:
  engram trace get ee8290c6cacc2983dd6e5d452bb8c8633964d043c0ea8d953b83c4aea5b79850
  engram trace get ee8290c6… --json
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 1, max: 1 },
  async run ({ values, positionals }, io) {
    const t = await connect(values, io).getTrace(positionals[0]!)
    if (values.json === true) { printJson(io, t); return EXIT.ok }
    io.out(columns([['id', t.id], ['run', t.runId], ['type', t.type], ['created', t.created_at], ['origin', t.origin]]) + JSON.stringify(t.data, null, 2) + '\n')
    return EXIT.ok
  }
}

export const traceListCommand: Command = {
  name: 'trace list',
  summary: 'list the execution log, oldest first',
  help: `Usage: engram trace list [--run RUN] [--limit N] [--offset N]

Lists log entries, oldest first, of one run or of all runs: time, run, type, data, id.

Options:
  --run RUN          only the entries of this run
${pageOptionsHelp('entries')}
${CLIENT_OPTIONS_HELP}

Examples:
  engram trace list --run run-1
  engram trace list --limit 20 --json
`,
  options: { ...CLIENT_OPTIONS, ...PAGE_OPTIONS, run: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const page = await connect(values, io).listTraces({
      runId: str(values, 'run'),
      ...pageOf(values, 'trace list')
    })
    if (values.json === true) { printJson(io, page); return EXIT.ok }
    io.out(columns(page.traces.map(t => [t.created_at, t.runId, t.type, preview(t.data, 60), t.id])))
    pageNote(io, page.traces.length, page.total, 'log entries')
    return EXIT.ok
  }
}
