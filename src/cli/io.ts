/**
 * What a command runs against: its arguments' environment and where it prints. main.ts passes
 * the real process; tests may pass their own.
 */
import type { Env } from '../util/xdg.ts'

export interface CliIo {
  readonly env: Env
  readonly cwd: string
  /** Writes data (what a command prints as its result). */
  readonly out: (text: string) => void
  /** Writes messages for people (notes, warnings, the daemon's log). */
  readonly err: (text: string) => void
}

export function processIo (): CliIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    out: text => { process.stdout.write(text) },
    err: text => { process.stderr.write(text) }
  }
}

/** Prints a value as JSON, one document, pretty when `pretty`. */
export function printJson (io: CliIo, value: unknown, pretty = true): void {
  io.out(JSON.stringify(value, null, pretty ? 2 : undefined) + '\n')
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function columns (rows: readonly (readonly string[])[]): string {
  const widths: number[] = []
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length) })
  return rows.map(r => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + (rows.length > 0 ? '\n' : '')
}
