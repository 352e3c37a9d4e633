/**
 * The files of sync TLS: where `engram tls init` puts the CA (`ca.crt`, `ca.key`), writing new
 * files (keys with mode 0600, never over an existing file), and reading the PEM files the
 * configuration names (`tls.cert`, `tls.key`, `tls.ca`) with errors that name the key and path.
 */
import { closeSync, fsyncSync, openSync, readFileSync, statSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CONFIG_INVALID, CONFLICT } from '../core/errors.ts'
import { defaultConfigFile, type Env } from '../util/xdg.ts'

export const CA_CERT_FILE = 'ca.crt'
export const CA_KEY_FILE = 'ca.key'

/** `$XDG_CONFIG_HOME/engram/tls`, or `~/.config/engram/tls`. */
export function defaultTlsDir (env: Env): string {
  return join(dirname(defaultConfigFile(env)), 'tls')
}

/** Writes a file that must not exist yet (CONFLICT when it does), durably, with `mode`. */
export function writeNewFile (path: string, content: string, mode: number): void {
  let fd: number
  try {
    fd = openSync(path, 'wx', mode)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw CONFLICT(`${path} exists already; move it away first (engram never overwrites keys or certificates)`, { path })
    }
    throw e
  }
  try {
    writeSync(fd, content)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** A PEM file named by config `key`; CONFIG_INVALID naming the key and path when it cannot be read. */
export function readPemFile (key: string, path: string): string {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw CONFIG_INVALID(key, path, code === 'ENOENT' ? 'no such file (engram tls init and engram tls issue make these files)' : `cannot be read (${code ?? String(e)})`)
  }
  if (!text.includes('-----BEGIN ')) throw CONFIG_INVALID(key, path, 'is not a PEM file (-----BEGIN …-----)')
  return text
}

/** A private key file must not be readable by group or others (a copy lets someone pose as this node). */
export function assertPrivateFile (key: string, path: string): void {
  if (process.platform === 'win32') return
  const mode = statSync(path).mode & 0o777
  if ((mode & 0o077) !== 0) {
    throw CONFIG_INVALID(key, path, `can be read or written by group or others (mode ${mode.toString(8).padStart(3, '0')}); run: chmod 600 ${path}`)
  }
}
