/**
 * How a native sync session that failed says so when it closes its connection: the close
 * reason (`auth failed`, `protocol error: …`, `timeout: …`, `<step> failed: …`), and how either
 * end tells such a reason from an ordinary close (a node stopping, a peer removed, a duplicate
 * session), which the redial backoff and the peer events depend on.
 */
/**
 * The close reason of a session that failed (`fail`): the peer reads it as a refusal of its
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
