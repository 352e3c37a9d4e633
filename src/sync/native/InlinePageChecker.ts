/**
 * The in-process twin of WorkerPageChecker (PageChecker.ts): the same checks
 * (protocol/native/pageCheck.ts), run when asked, in this thread, their result passed through the
 * form that crosses threads (checkedPageTransfer.ts) as the worker's is. Deterministic: the
 * simulations use it, so a session with a page checker is tested without a thread.
 */
import type { SignatureVerifier } from '../../core/signing.ts'
import { checkChangesBody } from '../../protocol/native/pageCheck.ts'
import { sendCheck, takeCheck } from './checkedPageTransfer.ts'
import type { PageCheck, PageChecker } from './PageChecker.ts'

export class InlinePageChecker implements PageChecker {
  readonly minBytes: number
  readonly minLeft: number
  /** Pages checked. */
  checked = 0
  private readonly verifier: SignatureVerifier | undefined

  /** `verifier`: the engine's (absent: signatures are not checked, as the engine does not check them). */
  constructor (verifier: SignatureVerifier | undefined, minBytes = 0, minLeft = 0) {
    this.verifier = verifier
    this.minBytes = minBytes
    this.minLeft = minLeft
  }

  async check (body: Uint8Array): Promise<PageCheck> {
    await Promise.resolve()
    this.checked++
    return takeCheck(structuredClone(sendCheck(checkChangesBody(body, this.verifier))))
  }

  async close (): Promise<void> {}
}
