/** The shape of one CLI command. Each lives in src/cli/commands/ and is listed in run.ts. */
import type { Options, Parsed } from './args.ts'
import type { CliIo } from './io.ts'

export interface Command {
  /** Words that select it: 'add', 'note set', 'config print'. */
  readonly name: string
  /** One line for the command list. */
  readonly summary: string
  /** Full --help text: usage, options, examples. */
  readonly help: string
  readonly options: Options
  readonly positionals: { readonly min: number, readonly max: number }
  /** Runs the command; resolves to the exit code. */
  run (args: Parsed, io: CliIo): Promise<number>
}
