/** `engram episode record|get|list`: episodes, records of past sessions (merged by union). */
import { INVALID_INPUT, preview } from '../../core/errors.ts'
import type { Json, JsonObject } from '../../core/model.ts'
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, PAGE_OPTIONS, pageOf, pageOptionsHelp, str, type Values } from '../args.ts'
import type { Command } from '../command.ts'
import { connect } from '../connect.ts'
import { EXIT, USAGE } from '../exit.ts'
import { valueText } from '../input.ts'
import { columns, pageNote, printJson, type CliIo } from '../io.ts'

/** The data of `--data JSON` (or `--data -`, `--file PATH`): a JSON object. */
async function dataOption (values: Values, io: CliIo): Promise<JsonObject> {
  const given = str(values, 'data')
  if (given === undefined && str(values, 'file') === undefined) return {}
  const text = await valueText(given, values, io, 'episode record', '--data')
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch {
    throw USAGE('--data must be a JSON object, e.g. \'{"files": 3}\'', 'episode record')
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw INVALID_INPUT('data', 'must be a JSON object')
  return v as JsonObject
}

export const episodeRecordCommand: Command = {
  name: 'episode record',
  summary: 'record an episode: what happened in a session',
  help: `Usage: engram episode record [ID] [--summary S] [--agent A] [--session ID] [--tag T]…
                             [--started-at T] [--ended-at T] [--data JSON | --file PATH]

Records an episode and prints its id. Without ID one is generated (ep-<uuid>); with the ID of
an episode that exists, its data is replaced. The options are fields of the episode's data, on
top of --data (a JSON object; --data - reads it from standard input, --file from a file).
Episodes are merged by union between machines: a merge never removes one.

Options:
  --summary S        what happened
  --agent A          the agent that ran the session
  --session ID       the session's id (data.sessionId)
  --tag T            a tag; repeatable
  --started-at T     when the session started (ISO 8601)
  --ended-at T       when it ended (ISO 8601)
  --data JSON        other fields, a JSON object (- reads standard input)
  --file PATH        read --data from this file
${CLIENT_OPTIONS_HELP}

Examples:
  engram episode record --agent coder --summary "fixed the build" --tag ci
  engram episode record coder:session-42 --data '{"files": 3, "summary": "refactor"}'
  jq -n '{summary: "imported"}' | engram episode record --data -
`,
  options: {
    ...CLIENT_OPTIONS,
    summary: { type: 'string' },
    agent: { type: 'string' },
    session: { type: 'string' },
    tag: { type: 'string', multiple: true },
    'started-at': { type: 'string' },
    'ended-at': { type: 'string' },
    data: { type: 'string' },
    file: { type: 'string' }
  },
  positionals: { min: 0, max: 1 },
  async run ({ values, positionals }, io) {
    const data: JsonObject = await dataOption(values, io)
    const fields: Record<string, Json | undefined> = {
      summary: str(values, 'summary'),
      agent: str(values, 'agent'),
      sessionId: str(values, 'session'),
      tags: values.tag as string[] | undefined,
      startedAt: str(values, 'started-at'),
      endedAt: str(values, 'ended-at')
    }
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) data[k] = v
    const episode = await connect(values, io).putEpisode(positionals[0], data)
    if (values.json === true) printJson(io, episode)
    else io.out(episode.id + '\n')
    return EXIT.ok
  }
}

export const episodeGetCommand: Command = {
  name: 'episode get',
  summary: 'print an episode',
  help: `Usage: engram episode get ID

Prints the episode ID: its id, when and on which node it was last written, then its data as
JSON. Exits with 1 when there is no such episode.

Options:
${CLIENT_OPTIONS_HELP}

Examples:
  engram episode get coder:session-42
  engram episode get coder:session-42 --json
`,
  options: CLIENT_OPTIONS,
  positionals: { min: 1, max: 1 },
  async run ({ values, positionals }, io) {
    const e = await connect(values, io).getEpisode(positionals[0]!)
    if (values.json === true) { printJson(io, e); return EXIT.ok }
    io.out(columns([['id', e.id], ['updated', e.updated_at], ['origin', e.origin]]) + JSON.stringify(e.data, null, 2) + '\n')
    return EXIT.ok
  }
}

export const episodeListCommand: Command = {
  name: 'episode list',
  summary: 'list episodes, newest first',
  help: `Usage: engram episode list [--prefix P] [--limit N] [--offset N]

Lists episodes, newest first: id, when it was last written, and its summary (or its data).

Options:
  --prefix P         only ids starting with P
${pageOptionsHelp('episodes')}
${CLIENT_OPTIONS_HELP}

Examples:
  engram episode list
  engram episode list --prefix coder: --limit 10 --json
`,
  options: { ...CLIENT_OPTIONS, ...PAGE_OPTIONS, prefix: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const page = await connect(values, io).listEpisodes({
      prefix: str(values, 'prefix'),
      ...pageOf(values, 'episode list')
    })
    if (values.json === true) { printJson(io, page); return EXIT.ok }
    io.out(columns(page.episodes.map(e => [e.id, e.updated_at, typeof e.data.summary === 'string' ? e.data.summary : preview(e.data, 80)])))
    pageNote(io, page.episodes.length, page.total, 'episodes')
    return EXIT.ok
  }
}
