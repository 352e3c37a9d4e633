/** `engram secret new`: a strong shared secret for p2p.seed or sync.passphrase. */
import { SECRET_RULE, newSecret } from '../../config/secretStrength.ts'
import { COMMON_OPTIONS } from '../args.ts'
import type { Command } from '../command.ts'
import { EXIT } from '../exit.ts'
import { printJson } from '../io.ts'

export const secretNewCommand: Command = {
  name: 'secret new',
  summary: 'print a new strong shared secret (for p2p.seed or sync.passphrase)',
  help: `Usage: engram secret new [--json]

Prints a new random secret: 32 letters, digits, "-" and "_" (192 random bits), valid for
p2p.seed and for sync.passphrase. Set the same one on every node of yours; it is never sent
over the network. A node refuses to start with a weaker secret (${SECRET_RULE}).

Options:
  --json         print {"secret": "…"}
  -h, --help     this help

Examples:
  engram secret new
  ENGRAM_P2P_SEED="$(engram secret new)" engram start
`,
  options: { ...COMMON_OPTIONS, json: { type: 'boolean' } },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const secret = newSecret()
    if (values.json === true) printJson(io, { secret })
    else io.out(secret + '\n')
    return EXIT.ok
  }
}
