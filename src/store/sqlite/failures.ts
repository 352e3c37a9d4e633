/**
 * SQLite failures as engram errors: corruption becomes STORE_CORRUPT, every other SQLite error
 * STORE_UNAVAILABLE (with SQLite's own code and message kept in the details). Errors that are
 * not SQLite's (a resolver's, a validation error) pass through unchanged.
 */
import { isEngramError, STORE_CORRUPT, STORE_UNAVAILABLE } from '../../core/errors.ts'

interface SqliteError extends Error {
  code: 'ERR_SQLITE_ERROR'
  errcode: number
  errstr: string
}

const isSqliteError = (e: unknown): e is SqliteError =>
  e instanceof Error && (e as Partial<SqliteError>).code === 'ERR_SQLITE_ERROR'

/** SQLITE_CORRUPT and SQLITE_NOTADB, with their extended codes. */
const CORRUPT = new Set([11, 26])

export function storeError (e: unknown, file: string, doing: string): unknown {
  if (isEngramError(e) || !isSqliteError(e)) return e
  const details = { file, sqliteCode: e.errcode, sqliteError: e.errstr }
  if (CORRUPT.has(e.errcode & 0xff)) {
    return STORE_CORRUPT(`the store ${file} is damaged (${e.message}) while ${doing}; ` +
      'restore it from a backup or let peers fill a new one', details, e)
  }
  return STORE_UNAVAILABLE(`the store ${file} failed while ${doing}: ${e.message}`, details, e)
}
