/**
 * The minimum strength of the shared secrets (p2p.seed, sync.passphrase), checked before a node
 * starts (load.ts, assertStartable). The handshakes never let anyone test a guess offline
 * (sync/cpace.ts), but anyone who can reach a node may try guesses online, one per handshake,
 * throttled per address: a secret must not be among the first few thousand anyone would try.
 *
 * The rule: at least 16 characters, at least 10 of them different. A generated secret
 * (`engram secret new`: 32 characters, 192 random bits) or a passphrase of four or more words
 * passes; a word, a name with a digit, or a short phrase (`hunter2`, `a-shared-seed`) does not.
 */
import { randomBytes } from 'node:crypto'

export const SECRET_MIN_LENGTH = 16
export const SECRET_MIN_DISTINCT = 10

/** The rule in words, for messages and docs. */
export const SECRET_RULE = `at least ${SECRET_MIN_LENGTH} characters, at least ${SECRET_MIN_DISTINCT} of them different`

/** Why `secret` is too weak, or undefined when it passes. */
export function secretWeakness (secret: string): string | undefined {
  const chars = [...secret]
  if (chars.length < SECRET_MIN_LENGTH) return `it has ${chars.length} characters`
  const distinct = new Set(chars).size
  if (distinct < SECRET_MIN_DISTINCT) return `it has only ${distinct} different characters`
  return undefined
}

/** A new secret: 24 random bytes, base64url (32 letters, digits, "-" and "_"), valid for p2p.seed and sync.passphrase alike. */
export function newSecret (): string {
  for (;;) {
    const s = randomBytes(24).toString('base64url')
    if (secretWeakness(s) === undefined) return s
  }
}
