/**
 * What native sync tells discovery's peer book when a session ends (src/discovery/PeerDialer.ts):
 * the session's error, and whether the seed handshake refused it (another seed).
 */
import type { DialerEvent } from '../../discovery/PeerDialer.ts'
import type { NativeSession } from './NativeSession.ts'

/** The event of a session that ended: its error, and whether the seed handshake refused it. */
export function endedEvent (session: NativeSession, reason: string | undefined, addr: string | undefined, healthy: boolean): DialerEvent {
  const base = { type: 'session-ended' as const, nodeId: session.peer, ...(addr !== undefined ? { addr } : {}) }
  if (healthy) return base
  const error = session.error?.message ?? `the session ended${session.info().openedAt === undefined ? ' during the handshake' : ''}: ${reason ?? 'closed'}`
  const refused = session.error?.code === 'UNAUTHORIZED' || reason === 'auth failed'
  return { ...base, error, ...(refused ? { refused } : {}) }
}
