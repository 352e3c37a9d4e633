/**
 * The mailbox in the composition root (docs/DISCOVERY.md "Mailbox"): a member's `MailboxSync` over
 * its QUIC transport's relays, and a relay's mailbox (`p2p.mailbox.enabled` on `engram relay`):
 * `mailbox.db` in the data directory (`SqliteMailbox`) answered through `MailboxHost` to admitted
 * members. The one place that names the SQLite mailbox and ties the protocol to the transport.
 */
import { join } from 'node:path'
import type { EngramConfig } from '../config/schema.ts'
import type { SeedKeys } from '../core/seedKeys.ts'
import type { Engine } from '../engine/Engine.ts'
import { decodeAnswer, MAILBOX_PROTOCOL, MAX_MAILBOX_FRAME } from '../protocol/mailbox/messages.ts'
import type { ConflictPolicy } from '../replication/applyPage.ts'
import { SqliteMailbox } from '../store/mailbox/SqliteMailbox.ts'
import { MailboxHost } from '../sync/mailbox/MailboxHost.ts'
import { MailboxSync } from '../sync/mailbox/MailboxSync.ts'
import type { QuicTransport } from '../transport/libp2p/QuicTransport.ts'
import type { RelayServiceOptions } from '../transport/libp2p/relay/relayRequests.ts'
import type { Logger } from '../util/log.ts'

const HOUR_MS = 3_600_000

function service (t: QuicTransport, log: Logger): RelayServiceOptions {
  return { protocol: MAILBOX_PROTOCOL, maxFrame: MAX_MAILBOX_FRAME, timeoutMs: Math.max(t.handshakeTimeoutMs, 30_000), log: (level, message, details) => { log[level](message, details) } }
}

/** A member's mailbox side when the node has relays and a seed; not started. */
export function createMailboxSync (o: { config: EngramConfig, transport: QuicTransport, engine: Engine, keys: SeedKeys | undefined, log: Logger, conflicts?: ConflictPolicy }): MailboxSync | undefined {
  if (o.keys === undefined || o.config.p2p.relays.length === 0) return undefined
  const log = o.log.child({ part: 'mailbox' })
  const t = o.transport
  return new MailboxSync({
    engine: o.engine,
    keys: o.keys,
    log,
    intervalMs: o.config.p2p.relayPollMs,
    ...(o.conflicts !== undefined ? { conflicts: o.conflicts } : {}),
    link: {
      relays: () => t.admittedRelays(),
      exchange: async (relay, request, maxFrames) => await t.requestRelay(relay, {
        ...service(t, log),
        maxFrames,
        isLast: f => { const a = decodeAnswer(f); return a.op !== 'page' }
      }, request)
    }
  })
}

/** Serves a mailbox on a started relay transport when `p2p.mailbox.enabled`; returns its closer. */
export async function serveMailbox (config: EngramConfig, transport: QuicTransport, log: Logger): Promise<(() => void) | undefined> {
  const m = config.p2p.mailbox
  if (!m.enabled) return undefined
  const box = new SqliteMailbox(join(config.dataDir, 'mailbox.db'), { maxBytes: m.maxBytes, retentionMs: m.retentionHours * HOUR_MS })
  const mlog = log.child({ part: 'mailbox' })
  const host = new MailboxHost(box, mlog)
  await transport.serveRelayService(service(transport, mlog), (peer, request) => host.answer(peer, request))
  const { pages, bytes } = box.usage()
  mlog.info('mailbox open: holding sealed pages for offline members', { pages, bytes, maxBytes: m.maxBytes, retentionHours: m.retentionHours })
  return () => { box.close() }
}
