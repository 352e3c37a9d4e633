/**
 * What a command runs against: its arguments' environment, where it prints, its standard input,
 * and the terminal when there is one. main.ts passes the real process; tests may pass their own
 * (without stdin or a terminal: a command then reads no input and asks nothing).
 */
import { createInterface } from 'node:readline/promises'
import type { Env } from '../util/xdg.ts'

export interface CliIo {
  readonly env: Env
  readonly cwd: string
  /** Writes data (what a command prints as its result). */
  readonly out: (text: string) => void
  /** Writes messages for people (notes, warnings, the daemon's log). */
  readonly err: (text: string) => void
  /** All of standard input, as bytes (a `-` argument). */
  readonly readStdin?: () => Promise<Buffer>
  /** Present when stderr is a terminal: its width, for progress bars redrawn in place. */
  readonly errTerminal?: { readonly columns: () => number }
  /** Asks a question on the terminal and answers the line typed; absent when stdin is not a terminal. */
  readonly ask?: (question: string) => Promise<string>
}

export function processIo (): CliIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    out: text => { process.stdout.write(text) },
    err: text => { process.stderr.write(text) },
    readStdin: async () => {
      const chunks: Buffer[] = []
      for await (const c of process.stdin) chunks.push(c as Buffer)
      return Buffer.concat(chunks)
    },
    // a terminal that does not report its width (0) is taken as 80 columns
    ...(process.stderr.isTTY ? { errTerminal: { columns: () => (process.stderr.columns > 0 ? process.stderr.columns : 80) } } : {}),
    ...(process.stdin.isTTY
      ? {
          ask: async (question: string) => {
            const rl = createInterface({ input: process.stdin, output: process.stderr })
            try { return await rl.question(question) } finally { rl.close() }
          }
        }
      : {})
  }
}

/** Prints a value as JSON, one document, pretty when `pretty`. */
export function printJson (io: CliIo, value: unknown, pretty = true): void {
  io.out(JSON.stringify(value, null, pretty ? 2 : undefined) + '\n')
}

/** On stderr, what a page printed leaves out: "no notes", "20 of 311 notes; use --limit and --offset for more". */
export function pageNote (io: CliIo, shown: number, total: number, noun: string): void {
  if (shown === 0) io.err(`no ${noun}\n`)
  else if (shown < total) io.err(`${shown} of ${total} ${noun}; use --limit and --offset for more\n`)
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function columns (rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length) })
  return rows.map(r => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + (rows.length > 0 ? '\n' : '')
}
