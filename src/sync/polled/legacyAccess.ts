/**
 * Who may pull with the unsigned legacy delta shape from another machine (`sync.legacyRemoteClients`,
 * off by default; docs/SECURITY.md). Engram nodes sign every delta request (auth.ts); older
 * polled clients cannot, and from this machine they are answered as they are. From another
 * machine such a client is let in only when all of these hold:
 *
 *   - the node opted in (`sync.legacyRemoteClients`);
 *   - the request came over TLS (the API serves HTTPS), so what it carries is not sent in clear;
 *   - it carries `sync.passphrase` in its Authorization header, as such clients send a
 *     credential: `Bearer <passphrase>` or the passphrase alone. It is compared in constant time;
 *     each miss is a 401 that counts towards the client's budget of refused authentications
 *     (429 past it), so guesses are online only, and slow.
 *
 * It then gets the legacy shape only (LegacyDelta.ts): it can read, never write, and cannot use
 * the exact shape, which stays for nodes that sign. Pure: the caller gives what the socket said.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest()

/** Why an unsigned request from another machine is refused, or undefined to let it in. */
export function legacyRemoteRefusal (headers: Record<string, string | string[] | undefined>, overTls: boolean, passphrase: string | undefined): string | undefined {
  if (!overTls) {
    return 'an unsigned request from another machine is answered only over TLS (sync.legacyRemoteClients): serve the API over HTTPS (tls.cert, tls.key, tls.ca) and give the client an https:// URL'
  }
  if (passphrase === undefined || passphrase === '') {
    return 'an unsigned request from another machine needs sync.passphrase, which is not set on this node'
  }
  const auth = headers.authorization
  const given = typeof auth === 'string' ? auth.replace(/^Bearer\s+/i, '') : undefined
  if (given === undefined || given === '') {
    return 'an unsigned request from another machine must carry sync.passphrase in its Authorization header ("Bearer <passphrase>")'
  }
  if (!timingSafeEqual(digest(given), digest(passphrase))) return 'the passphrase in its Authorization header is not this node\'s sync.passphrase'
  return undefined
}
