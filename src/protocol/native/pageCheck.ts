/**
 * The checks of one `changes` page from a peer, all of them, as one pure step: its frame body
 * decoded (messages.ts decodeBody), every row checked (rows.ts checkRowAt: shape, limits, content
 * ids computed), its seals read (rows.ts sealsOf) and, with a verifier, the signatures of all its
 * batches checked (core/seals.ts verifyPage). What comes out is what the apply needs: the page as
 * a ChangesMessage, and the verified signatures for the record gate (Provenance.acceptVerified).
 *
 * This is the work that may run off the session's thread (sync/native/PageChecker.ts): it reads
 * nothing but its input, and a refusal is the same PROTOCOL error, naming the same field, that the
 * session's own checks (PageIntake.ts) give.
 */
import { isEngramError, PROTOCOL, type EngramError } from '../../core/errors.ts'
import { verifyPage, type VerifiedPage } from '../../core/seals.ts'
import type { SignatureVerifier } from '../../core/signing.ts'
import { decodeBody, type ChangesMessage, type DecodeOptions } from './messages.ts'
import { checkRows, sealsOf } from './rows.ts'

/** A page whose every check passed. */
export interface CheckedPage {
  readonly msg: ChangesMessage
  /** Its signatures, every batch checked (absent: no verifier, or an unsigned page). */
  readonly verified?: VerifiedPage
}

/** A page refused: the error, and the step that refused it (the session's `fail` names it). */
export interface RefusedPage {
  readonly during: 'decode' | 'changes'
  readonly error: EngramError
}

export type PageCheck = { readonly ok: true, readonly page: CheckedPage } | ({ readonly ok: false } & RefusedPage)

/**
 * Checks the body of a `changes` frame (messages.ts frameBody). Never throws: a body that is not a
 * valid `changes` message is refused `during: 'decode'` (a valid message of another type too:
 * the caller asked for a page), a bad row or seal `during: 'changes'`.
 */
export function checkChangesBody (body: Uint8Array, verifier: SignatureVerifier | undefined, opts: Pick<DecodeOptions, 'maxPageRecords'> = {}): PageCheck {
  let decoded
  try {
    decoded = decodeBody(body, { ...opts, deferRecords: true })
  } catch (e) {
    return { ok: false, during: 'decode', error: asProtocol(e) }
  }
  if (!('unchecked' in decoded)) return { ok: false, during: 'decode', error: PROTOCOL(`${decoded.t} came where a changes page was expected`, { field: 't' }) }
  try {
    const { unchecked, nodes, batches, ...envelope } = decoded
    const records = checkRows(nodes, unchecked, 'changes.records')
    const seals = sealsOf(batches, unchecked, 'changes.records')
    const msg: ChangesMessage = { ...envelope, records, ...(seals !== undefined ? { seals } : {}) }
    if (seals === undefined || verifier === undefined || seals.batches.length === 0) return { ok: true, page: { msg } }
    return { ok: true, page: { msg, verified: verifyPage(records, seals, verifier) } }
  } catch (e) {
    return { ok: false, during: 'changes', error: asProtocol(e) }
  }
}

function asProtocol (e: unknown): EngramError {
  if (isEngramError(e)) return e
  return PROTOCOL(`changes: cannot be read (${e instanceof Error ? e.message : String(e)})`, { field: 'changes' })
}
