/**
 * Values a command takes from its arguments, a file (`--file PATH`) or standard input (`-`), so
 * that a value of any size (a 1 MiB note) never has to fit the command line, whose arguments
 * are limited to 128 KiB each on Linux ("Argument list too long"). Text is read as UTF-8,
 * exactly (a final newline is kept).
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { str, type Values } from './args.ts'
import { USAGE } from './exit.ts'
import type { CliIo } from './io.ts'

/** The value of positional `given` ('-' for stdin) or of `--file`; exactly one of them. */
export async function valueText (given: string | undefined, values: Values, io: CliIo, command: string, what: string): Promise<string> {
  const file = str(values, 'file')
  if (file !== undefined && given !== undefined) throw USAGE(`give ${what} either as an argument or with --file, not both`, command)
  if (file !== undefined) return readTextFile(file, io, command)
  if (given === '-') {
    if (io.readStdin === undefined) throw USAGE(`${what} "-" reads standard input, which this command cannot read here`, command)
    return decode(await io.readStdin(), 'standard input', command)
  }
  if (given === undefined) throw USAGE(`give ${what}, or --file PATH, or - to read standard input`, command)
  return given
}

function readTextFile (file: string, io: CliIo, command: string): string {
  const path = resolve(io.cwd, file)
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (e) {
    throw USAGE(`--file ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`}`, command)
  }
  return decode(bytes, path, command)
}

function decode (bytes: Buffer, from: string, command: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    throw USAGE(`${from} is not UTF-8 text`, command)
  }
}
