/**
 * The CLI's dispatcher: picks the command from the first words of argv, parses its options,
 * runs it, and turns any error into one line `engram: <message> (<CODE>)` and an exit code
 * (exit.ts).
 */
import { nearest } from '../util/nearest.ts'
import { packageVersion } from '../util/version.ts'
import { parse } from './args.ts'
import type { Command } from './command.ts'
import { errorLine, exitCodeFor, EXIT, USAGE } from './exit.ts'
import type { CliIo } from './io.ts'

/**
 * Every command, in the order of the command list: the words that select it, and its module,
 * loaded only when the command runs or its help is shown. An `engram add` loads add's module and
 * what it imports, not the daemon, the MCP server or the other commands (in the build, each
 * module is a chunk of its own: scripts/build-cli.ts).
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'start', load: async () => (await import('./commands/start.ts')).startCommand },
  { name: 'stop', load: async () => (await import('./commands/stop.ts')).stopCommand },
  { name: 'add', load: async () => (await import('./commands/triples.ts')).addCommand },
  { name: 'query', load: async () => (await import('./commands/triples.ts')).queryCommand },
  { name: 'delete', load: async () => (await import('./commands/triples.ts')).deleteCommand },
  { name: 'search', load: async () => (await import('./commands/search.ts')).searchCommand },
  { name: 'reindex', load: async () => (await import('./commands/search.ts')).reindexCommand },
  { name: 'note set', load: async () => (await import('./commands/notes.ts')).noteSetCommand },
  { name: 'note get', load: async () => (await import('./commands/notes.ts')).noteGetCommand },
  { name: 'note list', load: async () => (await import('./commands/notes.ts')).noteListCommand },
  { name: 'note delete', load: async () => (await import('./commands/notes.ts')).noteDeleteCommand },
  { name: 'show', load: async () => (await import('./commands/provenance.ts')).showCommand },
  { name: 'history', load: async () => (await import('./commands/provenance.ts')).historyCommand },
  { name: 'revert', load: async () => (await import('./commands/provenance.ts')).revertCommand },
  { name: 'episode record', load: async () => (await import('./commands/episodes.ts')).episodeRecordCommand },
  { name: 'episode get', load: async () => (await import('./commands/episodes.ts')).episodeGetCommand },
  { name: 'episode list', load: async () => (await import('./commands/episodes.ts')).episodeListCommand },
  { name: 'trace append', load: async () => (await import('./commands/traces.ts')).traceAppendCommand },
  { name: 'trace get', load: async () => (await import('./commands/traces.ts')).traceGetCommand },
  { name: 'trace list', load: async () => (await import('./commands/traces.ts')).traceListCommand },
  { name: 'status', load: async () => (await import('./commands/status.ts')).statusCommand },
  { name: 'ui', load: async () => (await import('./commands/ui.ts')).uiCommand },
  { name: 'config print', load: async () => (await import('./commands/config.ts')).configPrintCommand },
  { name: 'export', load: async () => (await import('./commands/dump.ts')).exportCommand },
  { name: 'import', load: async () => (await import('./commands/dump.ts')).importCommand },
  { name: 'mcp', load: async () => (await import('./commands/mcp.ts')).mcpCommand },
  { name: 'import-memory', load: async () => (await import('./commands/memoryFile.ts')).importMemoryCommand },
  { name: 'export-memory', load: async () => (await import('./commands/memoryFile.ts')).exportMemoryCommand },
  { name: 'sync status', load: async () => (await import('./commands/sync.ts')).syncStatusCommand },
  { name: 'sync now', load: async () => (await import('./commands/sync.ts')).syncNowCommand },
  { name: 'sync pair', load: async () => (await import('./commands/sync.ts')).syncPairCommand },
  { name: 'sync unpair', load: async () => (await import('./commands/sync.ts')).syncUnpairCommand },
  { name: 'sync pause', load: async () => (await import('./commands/sync.ts')).syncPauseCommand },
  { name: 'sync resume', load: async () => (await import('./commands/sync.ts')).syncResumeCommand },
  { name: 'peers', load: async () => (await import('./commands/peers.ts')).peersCommand },
  { name: 'relay', load: async () => (await import('./commands/relay.ts')).relayCommand },
  { name: 'relay key', load: async () => (await import('./commands/relay.ts')).relayKeyCommand },
  { name: 'nodes', load: async () => (await import('./commands/trust.ts')).nodesCommand },
  { name: 'revoke', load: async () => (await import('./commands/trust.ts')).revokeCommand },
  { name: 'revocations', load: async () => (await import('./commands/trust.ts')).revocationsCommand },
  { name: 'refused', load: async () => (await import('./commands/trust.ts')).refusedCommand },
  { name: 'conflicts', load: async () => (await import('./commands/conflicts.ts')).conflictsCommand },
  { name: 'conflicts resolve', load: async () => (await import('./commands/conflicts.ts')).conflictsResolveCommand },
  { name: 'hook agent-end', load: async () => (await import('./commands/hook.ts')).hookAgentEndCommand },
  { name: 'tls init', load: async () => (await import('./commands/tls.ts')).tlsInitCommand },
  { name: 'tls issue', load: async () => (await import('./commands/tls.ts')).tlsIssueCommand },
  { name: 'secret new', load: async () => (await import('./commands/secret.ts')).secretNewCommand }
]

export interface CommandEntry {
  /** Words that select it (the command's own name: checked when it loads). */
  readonly name: string
  load (): Promise<Command>
}

/** The command of an entry, loaded. */
async function load (entry: CommandEntry): Promise<Command> {
  const command = await entry.load()
  if (command.name !== entry.name) throw new Error(`the command list names "${entry.name}" but its module answers "${command.name}"`)
  return command
}

/** Commands with subcommands: `note set`, `config print`. */
const GROUPS = new Set(COMMANDS.filter(c => c.name.includes(' ')).map(c => c.name.split(' ')[0]!))

export async function mainHelp (): Promise<string> {
  const list = (await Promise.all(COMMANDS.map(load))).map(c => [c.name, c.summary] as const)
  const width = Math.max(...list.map(([n]) => n.length))
  return `engram ${packageVersion()}: a local memory store for AI agents, replicated peer to peer

Usage: engram <command> [options]

Commands:
${list.map(([n, s]) => `  ${n.padEnd(width)}  ${s}`).join('\n')}

Every command takes --help (with examples); commands that print data take --json.
Commands other than start, stop, config print and tls talk to a running daemon, found by
--url, ENGRAM_URL, <dataDir>/api.json (with --data-dir) or http://<api.host>:<api.port>.

Exit codes: 0 ok, 1 failed (e.g. not found), 2 usage error or invalid input,
3 daemon not reachable, 78 configuration error.

Get started:
  engram start &
  engram add user:alice prefers:editor vim
  engram query --subject user:alice
  engram search "alice editor"
`
}

/** The first example of a command's --help. */
function firstExample (c: Command): string | undefined {
  const after = c.help.split(/Examples?:\n/)[1]
  return after?.split('\n').find(l => /^\s+\S/.test(l))?.trim()
}

async function groupHelp (group: string): Promise<string> {
  const cmds = await Promise.all(COMMANDS.filter(c => c.name.startsWith(group + ' ')).map(load))
  const examples = cmds.map(firstExample).filter((e): e is string => e !== undefined)
  return `Usage: engram ${group} <${cmds.map(c => c.name.split(' ')[1]).join('|')}> …\n\n` +
    cmds.map(c => `  engram ${c.name.padEnd(14)}  ${c.summary}`).join('\n') +
    `\n\nRun engram ${group} <subcommand> --help for its options and examples.\n` +
    `\nExamples:\n${examples.map(e => `  ${e}`).join('\n')}\n`
}

/** The usage error of an unknown command, with the command probably meant. */
function unknownCommand (first: string, name: string): Error {
  const inGroup = GROUPS.has(first)
  // words a user may type: every command, and the groups alone (`note`, `sync`)
  const words = [...new Set([...COMMANDS.map(c => c.name), ...GROUPS])]
  const guess = inGroup
    ? nearest(name, COMMANDS.filter(c => c.name.startsWith(first + ' ')).map(c => c.name))
    : nearest(first, words)
  const hint = guess === undefined ? '' : ` (did you mean "engram ${guess}"?)`
  return USAGE(`unknown command "${inGroup ? name : first}"${hint}`, inGroup ? first : undefined)
}

export async function runCli (argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const first = argv[0]
    if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
      if (first === undefined) { io.err(await mainHelp()); return EXIT.usage }
      io.out(await mainHelp())
      return EXIT.ok
    }
    if (first === '--version' || first === '-v' || first === 'version') {
      io.out(packageVersion() + '\n')
      return EXIT.ok
    }
    let name = first
    let rest = argv.slice(1)
    // A group that is a command too (`conflicts`, `conflicts resolve`): the command unless a subcommand follows.
    const alone = COMMANDS.some(c => c.name === first) && !COMMANDS.some(c => c.name === `${first} ${argv[1] ?? ''}`)
    if (GROUPS.has(first) && !alone) {
      const sub = argv[1]
      if (sub === undefined || sub === '--help' || sub === '-h') {
        if (sub === undefined) { io.err(await groupHelp(first)); return EXIT.usage }
        io.out(await groupHelp(first))
        return EXIT.ok
      }
      name = `${first} ${sub}`
      rest = argv.slice(2)
    }
    const entry = COMMANDS.find(c => c.name === name)
    if (entry === undefined) throw unknownCommand(first, name)
    const command = await load(entry)
    // a word after a command of a group that takes none (`relay kee`) is a mistyped subcommand
    const word = argv[1]
    if (alone && GROUPS.has(first) && command.positionals.max === 0 && word !== undefined && !word.startsWith('-')) {
      throw unknownCommand(first, `${first} ${word}`)
    }
    const args = parse(command.name, rest, command.options, command.positionals)
    if (args.values.help === true) {
      io.out(command.help)
      return EXIT.ok
    }
    return await command.run(args, io)
  } catch (e) {
    io.err(errorLine(e) + '\n')
    return exitCodeFor(e)
  }
}
