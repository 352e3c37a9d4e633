/**
 * The CLI's dispatcher: picks the command from the first words of argv, parses its options,
 * runs it, and turns any error into one line `engram: <message> (<CODE>)` and an exit code
 * (exit.ts).
 */
import { nearest } from '../util/nearest.ts'
import { packageVersion } from '../util/version.ts'
import { parse } from './args.ts'
import type { Command } from './command.ts'
import { configPrintCommand } from './commands/config.ts'
import { conflictsCommand, conflictsResolveCommand } from './commands/conflicts.ts'
import { hookAgentEndCommand } from './commands/hook.ts'
import { syncNowCommand, syncPairCommand, syncPauseCommand, syncResumeCommand, syncStatusCommand, syncUnpairCommand } from './commands/sync.ts'
import { mcpCommand } from './commands/mcp.ts'
import { exportMemoryCommand, importMemoryCommand } from './commands/memoryFile.ts'
import { noteDeleteCommand, noteGetCommand, noteListCommand, noteSetCommand } from './commands/notes.ts'
import { exportCommand, importCommand } from './commands/dump.ts'
import { episodeGetCommand, episodeListCommand, episodeRecordCommand } from './commands/episodes.ts'
import { reindexCommand, searchCommand } from './commands/search.ts'
import { startCommand } from './commands/start.ts'
import { stopCommand } from './commands/stop.ts'
import { peersCommand } from './commands/peers.ts'
import { relayCommand, relayKeyCommand } from './commands/relay.ts'
import { tlsInitCommand, tlsIssueCommand } from './commands/tls.ts'
import { secretNewCommand } from './commands/secret.ts'
import { statusCommand } from './commands/status.ts'
import { uiCommand } from './commands/ui.ts'
import { traceAppendCommand, traceGetCommand, traceListCommand } from './commands/traces.ts'
import { addCommand, deleteCommand, queryCommand } from './commands/triples.ts'
import { historyCommand, revertCommand, showCommand } from './commands/provenance.ts'
import { nodesCommand, refusedCommand, revocationsCommand, revokeCommand } from './commands/trust.ts'
import { errorLine, exitCodeFor, EXIT, USAGE } from './exit.ts'
import type { CliIo } from './io.ts'

export const COMMANDS: readonly Command[] = [
  startCommand, stopCommand, addCommand, queryCommand, deleteCommand, searchCommand, reindexCommand,
  noteSetCommand, noteGetCommand, noteListCommand, noteDeleteCommand,
  showCommand, historyCommand, revertCommand,
  episodeRecordCommand, episodeGetCommand, episodeListCommand,
  traceAppendCommand, traceGetCommand, traceListCommand,
  statusCommand, uiCommand, configPrintCommand,
  exportCommand, importCommand,
  mcpCommand, importMemoryCommand, exportMemoryCommand,
  syncStatusCommand, syncNowCommand, syncPairCommand, syncUnpairCommand, syncPauseCommand, syncResumeCommand,
  peersCommand, relayCommand, relayKeyCommand, nodesCommand, revokeCommand, revocationsCommand, refusedCommand,
  conflictsCommand, conflictsResolveCommand, hookAgentEndCommand,
  tlsInitCommand, tlsIssueCommand, secretNewCommand
]

/** Commands with subcommands: `note set`, `config print`. */
const GROUPS = new Set(COMMANDS.filter(c => c.name.includes(' ')).map(c => c.name.split(' ')[0]!))

export function mainHelp (): string {
  const list = COMMANDS.map(c => [c.name, c.summary] as const)
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

function groupHelp (group: string): string {
  const cmds = COMMANDS.filter(c => c.name.startsWith(group + ' '))
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
      if (first === undefined) { io.err(mainHelp()); return EXIT.usage }
      io.out(mainHelp())
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
        if (sub === undefined) { io.err(groupHelp(first)); return EXIT.usage }
        io.out(groupHelp(first))
        return EXIT.ok
      }
      name = `${first} ${sub}`
      rest = argv.slice(2)
    }
    const command = COMMANDS.find(c => c.name === name)
    if (command === undefined) throw unknownCommand(first, name)
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
