/**
 * A writer child killed in the middle of its writes, for the crash tests (crash.test.ts,
 * powercut.test.ts). The child prints one line per write; the parent waits (event-driven,
 * bounded by a deadline) until the lines say it has gone far enough, lets it go on for `extraMs`
 * more (a random moment inside the next writes: validating, writing or committing), then kills
 * it with SIGKILL and returns every line it printed.
 */
import { spawn } from 'node:child_process'

export interface KillOptions {
  /** The child's script (run with this Node) and its arguments. */
  readonly script: string
  readonly args: readonly string[]
  /** True once the lines printed so far are far enough. */
  readonly reached: (lines: readonly string[]) => boolean
  /** How far the child got, for the failure message when it never reached that. */
  readonly got: (lines: readonly string[]) => string
  readonly extraMs: number
  readonly deadlineMs: number
  readonly fail: (why: string) => never
}

const turn = (): Promise<void> => new Promise(resolve => setImmediate(resolve))

export async function runAndKill (o: KillOptions): Promise<string[]> {
  const child = spawn(process.execPath, [o.script, ...o.args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  let buffered = ''
  let stderr = ''
  let exited = false
  let progress = (): void => {}
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk
    const parts = buffered.split('\n')
    buffered = parts.pop()!
    lines.push(...parts)
    progress()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const exit = new Promise<void>(resolve => child.on('exit', () => { exited = true; progress(); resolve() }))
  let deadline: NodeJS.Timeout | undefined
  try {
    const outcome = await new Promise<string>(resolve => {
      progress = () => {
        if (o.reached(lines)) resolve('reached')
        else if (exited) resolve(`the writer exited early: ${stderr}`)
      }
      deadline = setTimeout(() => resolve(`${o.got(lines)} within ${o.deadlineMs} ms`), o.deadlineMs)
      progress()
    })
    if (outcome !== 'reached') o.fail(outcome)
    const killAt = performance.now() + o.extraMs
    while (!exited && performance.now() < killAt) await turn()
  } finally {
    clearTimeout(deadline)
    if (!exited) child.kill('SIGKILL')
    await exit
  }
  return lines
}
