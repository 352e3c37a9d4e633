/**
 * Where a session's received `changes` pages are checked (protocol/native/pageCheck.ts: decoded,
 * every row checked and its id computed, every signature verified) when that work may run beside
 * the session's own thread: the port. The session hands over a page's frame body and gets the
 * checked page back, or the refusal its own checks would have given (same error, same code, same
 * field); it applies what comes back in the order the pages were received (PageIntake.ts).
 *
 * Two implementations: WorkerPageChecker.ts, a worker thread (node:worker_threads) the node starts
 * on the first page it is given, so a catch-up's next page is checked on the second core while
 * the previous one commits; and InlinePageChecker.ts, the same checks in process, for the
 * deterministic simulations. The session gives it only pages of a catch-up with more than
 * `minLeft` entries to come (the page before said so: not a catch-up's first page, nor a small
 * copy, a resume or a live page — the node's worker takes them only while more than 100,000
 * entries are to come: WorkerPageChecker.ts MIN_WORKER_LEFT), and only pages of at least `minBytes`: a smaller page is not
 * worth the hop. The session checks every other page itself, as it does without a checker.
 */
import type { PageCheck } from '../../protocol/native/pageCheck.ts'

export type { PageCheck } from '../../protocol/native/pageCheck.ts'

export interface PageChecker {
  /** Frame bodies (messages.ts frameBody) of at least this many bytes go to `check`; smaller pages are checked by the session. */
  readonly minBytes: number
  /** Pages go to `check` only while the page before left more than this many entries of the peer's feed after it (`end` − `to`). */
  readonly minLeft: number
  /**
   * Checks the body of a `changes` frame, which is handed over (the caller no longer reads it).
   * Resolves with the page checked or refused; rejects only when the checker itself failed (a
   * worker that died, or did not answer within its time limit): an error that is not the peer's.
   */
  check (body: Uint8Array): Promise<PageCheck>
  /** Stops the checker; pages still being checked are rejected. It starts again on the next `check`. */
  close (): Promise<void>
}
