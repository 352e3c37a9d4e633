/**
 * `engram …args` run by the dispatcher the binary runs (src/cli/run.ts) in the test process: no
 * stdin, no terminal. For the many cases of one kind whose outcome the binary's process only
 * carries to its exit code and output streams; each kind is checked through the binary too.
 * (Apart from helpers.ts, which many test files import without needing the CLI's modules.)
 */
import { runCli } from '../../src/cli/run.ts'
import type { Result } from '../support/daemon.ts'

export async function inProcess (args: readonly string[], env: Record<string, string>, cwd: string): Promise<Result> {
  let stdout = ''
  let stderr = ''
  const code = await runCli(args, { env, cwd, out: t => { stdout += t }, err: t => { stderr += t } })
  return { code, signal: null, stdout, stderr }
}
