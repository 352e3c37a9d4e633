/** `engram hook agent-end`: for an agent's session-end hook; syncs when sync.autoSync is on. */
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP, str } from '../args.ts'
import type { Command } from '../command.ts'
import { connect } from '../connect.ts'
import { EXIT } from '../exit.ts'
import { printJson } from '../io.ts'

export const hookAgentEndCommand: Command = {
  name: 'hook agent-end',
  summary: 'tell the node an agent session ended (syncs when sync.autoSync is on)',
  help: `Usage: engram hook agent-end [--agent NAME] [--session ID]

Call this from an agent's end-of-session hook. With sync.autoSync on, the node syncs with
every peer shortly after (several sessions ending together make one sync). Prints whether a
sync was triggered, and why not. Exits with 0 either way (3 when no daemon answers).

Options:
  --agent NAME       the agent, for the node's log
  --session ID       the session id
${CLIENT_OPTIONS_HELP}

Examples:
  engram hook agent-end
  engram hook agent-end --agent coder --session 42
`,
  options: { ...CLIENT_OPTIONS, agent: { type: 'string' }, session: { type: 'string' } },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const agent = str(values, 'agent')
    const sessionId = str(values, 'session')
    const r = await connect(values, io).agentEnd({ ...(agent !== undefined ? { agent } : {}), ...(sessionId !== undefined ? { sessionId } : {}) })
    if (values.json === true) printJson(io, r)
    else io.out(r.triggered ? `sync triggered: ${r.reason}\n` : `no sync: ${r.reason}\n`)
    return EXIT.ok
  }
}
