/**
 * The one daemon launcher of the tests: running the built `engram` binary (dist/src/cli/main.js,
 * built by `npm run build`, which `npm test` runs first) as a child process, and starting a
 * daemon for tests to talk to (test/sync/daemons.ts and test/native/daemons.ts build on it).
 * Every wait is bounded by a deadline generous enough for a loaded machine, and a daemon that
 * does not come up is reported with its log.
 * Every child runs with the V8 flags and the environment the `engram` executable's `#!` line
 * gives (cli/launch.ts DAEMON_V8_FLAGS, DAEMON_ENV), as when a user runs it, so a daemon does not
 * start Node.js a second time.
 * Every child gets an environment without ENGRAM_* variables and with HOME and the XDG
 * directories inside a temporary directory, so no test touches the user's files.
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable, Writable } from 'node:stream'
import { after } from 'node:test'
import { fileURLToPath } from 'node:url'
import { DAEMON_V8_FLAGS, withDaemonEnv } from '../../src/cli/launch.ts'
import { DEFAULT_DEADLINE_MS, eventually } from './eventually.ts'

export const BIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))

export interface Result {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface Sandbox {
  readonly root: string
  readonly env: Record<string, string>
  remove (): void
}

export function sandbox (): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'engram-cli-'))
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('ENGRAM_')) env[k] = v
  Object.assign(env, { HOME: root, XDG_CONFIG_HOME: join(root, 'config'), XDG_DATA_HOME: join(root, 'data') })
  delete env.NODE_OPTIONS
  delete env.NODE_TEST_CONTEXT
  return { root, env, remove: () => rmSync(root, { recursive: true, force: true }) }
}

/**
 * Every daemon this test file started and that is still running. Whatever a test did (a start
 * that failed half-way, an assertion before its cleanup), none outlives the file: a running
 * child would keep the test process — and the whole suite — waiting forever.
 */
const running = new Set<ChildProcess>()
after(() => { for (const child of running) child.kill('SIGKILL') })

/** Runs `engram …args` to completion. */
export function engram (args: readonly string[], env: Record<string, string>, opts: { timeoutMs?: number, input?: string | Buffer } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...DAEMON_V8_FLAGS, BIN, ...args], { env: withDaemonEnv(env), stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 2 * DEFAULT_DEADLINE_MS })
    // without input, stdin is closed at once (as when nothing is piped in)
    child.stdin.end(opts.input)
    collect(child, resolve, reject)
  })
}

/**
 * Runs `engram …args` on a terminal (a pseudo-terminal made by script(1)), as a person at a
 * shell does: its stdin and stderr are terminals; `input` is typed on it. Answers what the
 * terminal showed (stdout and stderr together, with the echo of the input).
 */
export function engramOnTerminal (args: readonly string[], env: Record<string, string>, opts: { timeoutMs?: number, input?: string } = {}): Promise<Result> {
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`
  const command = [process.execPath, ...DAEMON_V8_FLAGS, BIN, ...args].map(quote).join(' ')
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qefc', command, '/dev/null'], { env: withDaemonEnv(env), stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 2 * DEFAULT_DEADLINE_MS })
    child.stdin.end(opts.input ?? '')
    collect(child, resolve, reject)
  })
}

/** Resolves with the child's exit and everything it printed. */
function collect (child: ChildProcessByStdio<Writable, Readable, Readable>, resolve: (r: Result) => void, reject: (e: Error) => void): void {
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  child.on('error', reject)
  child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
}

/**
 * Polls `cond` every 20 ms until it is truthy (test/support/eventually.ts, never less than its
 * default deadline). A condition that throws fails at once.
 */
export async function waitFor<T> (cond: () => T | undefined | false, ms: number, what: string | (() => string)): Promise<T> {
  let failed: { error: unknown } | undefined
  const v = await eventually(() => { try { return cond() } catch (error) { failed = { error }; return true as T } }, what, { ms: Math.max(ms, DEFAULT_DEADLINE_MS), everyMs: 20 })
  if (failed !== undefined) throw failed.error
  return v
}

export interface Daemon {
  readonly child: ChildProcess
  readonly url: string
  readonly dataDir: string
  stderr (): string
  /** Sends `signal` and resolves with the exit code once the process has exited. */
  stop (signal?: NodeJS.Signals): Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

/**
 * Starts `engram start --data-dir DIR --port 0 …extra` (`bin`: another version's CLI entry) and
 * waits for DIR/api.json, which the daemon writes (atomically) once its API listens: from then on
 * the URL in it answers.
 */
export async function startDaemon (dataDir: string, env: Record<string, string>, extra: readonly string[] = [], bin: string = BIN): Promise<Daemon> {
  const child = spawn(process.execPath, [...DAEMON_V8_FLAGS, bin, 'start', '--data-dir', dataDir, '--port', '0', ...extra], { env: withDaemonEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  running.add(child)
  child.once('exit', () => running.delete(child))
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  child.stdout.resume()
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>(resolve => {
    // 'close', not 'exit': by then everything the daemon wrote on stderr has been read, so a
    // test can assert its last lines (at 'exit' its pipes may still hold some)
    child.on('close', (code, signal) => resolve({ code, signal }))
  })
  let exit: { code: number | null, signal: NodeJS.Signals | null } | undefined
  void exited.then(e => { exit = e })
  const infoFile = join(dataDir, 'api.json')
  try {
    const url = await waitFor(() => {
      if (exit !== undefined) throw new Error(`daemon exited with ${exit.code ?? exit.signal} before listening: ${stderr}`)
      if (!existsSync(infoFile)) return undefined
      const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { url: string, pid: number }
      return info.pid === child.pid ? info.url : undefined
    }, 20_000, () => `${infoFile} from the daemon; its log so far:\n${stderr}`)
    return {
      child,
      url,
      dataDir,
      stderr: () => stderr,
      async stop (signal = 'SIGTERM') {
        if (exit === undefined) child.kill(signal)
        return exited
      }
    }
  } catch (e) {
    child.kill('SIGKILL')
    throw e
  }
}

/** A daemon in a sandbox of its own: what most test files start before their tests. */
export interface InSandbox {
  readonly box: Sandbox
  readonly daemon: Daemon
  /** Stops the daemon (SIGTERM unless told) and removes the sandbox, whatever the stop did. */
  close (signal?: NodeJS.Signals): Promise<void>
}

/**
 * Starts a daemon in a new sandbox, its data directory `<sandbox>/<dir>` (default `node`),
 * with `extra` arguments to `engram start`. A start that fails leaves no sandbox behind.
 */
export async function daemonInSandbox (extra: readonly string[] = [], dir = 'node'): Promise<InSandbox> {
  const box = sandbox()
  try {
    const daemon = await startDaemon(join(box.root, dir), box.env, extra)
    return {
      box,
      daemon,
      async close (signal) {
        try { await daemon.stop(signal) } finally { box.remove() }
      }
    }
  } catch (e) {
    box.remove()
    throw e
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export function closedPort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}
