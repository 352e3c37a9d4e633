/**
 * How a failed native session closes: the reason NativeSession gives its connection when it fails,
 * and how either end tells such a reason from an ordinary close (the redial backoff grows on one).
 */

/**
 * The close reason of a session that failed (NativeSession's `fail`): the peer reads it as a refusal of its
 * session (`isFailureReason`), not as an ordinary close.
 */
export function failureReason (code: string, during: string, message: string): string {
  if (code === 'UNAUTHORIZED') return 'auth failed'
  if (code === 'PROTOCOL') return `protocol error: ${message}`
  if (code === 'TIMEOUT') return `timeout: ${message}`
  return `${during} failed: ${message}`
}

/**
 * Whether a close reason says the session failed or was refused (one `failureReason` gives) on
 * either end, rather than closed in order (a node stopping, a peer removed, a duplicate session).
 */
export function isFailureReason (reason: string | undefined): boolean {
  return reason !== undefined && (reason === 'auth failed' || /^(protocol error|timeout): /.test(reason) || reason.includes(' failed: '))
}
