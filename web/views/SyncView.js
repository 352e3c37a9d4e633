/**
 * Sync at a glance, live: this node, every peer, catch-ups in flight, the activity chart,
 * gossip, the mailbox when the node uses one, and recent warnings. Everything comes from the live status stream (lib/live.js); this
 * view asks the node for nothing itself.
 */
import { html } from '../lib/html.js'
import { useLive, useNow } from '../lib/live.js'
import { peerRows } from '../lib/peers.js'
import { ActivityChart } from '../components/ActivityChart.js'
import { CatchUp } from '../components/CatchUp.js'
import { GossipCard } from '../components/GossipCard.js'
import { MailboxCard } from '../components/MailboxCard.js'
import { NodeCard } from '../components/NodeCard.js'
import { PeerTable } from '../components/PeerTable.js'
import { RecentLog } from '../components/RecentLog.js'

export function SyncView () {
  const live = useLive()
  const now = useNow()
  const s = live.snapshot
  if (s === undefined) return html`<p class="loading">Connecting to the node…</p>`
  const rows = peerRows(s)
  const catchUps = rows.filter(r => r.catchUp !== null)
  const log = Array.isArray(s.log) ? s.log : []
  return html`
    <div class="sync-view">
      <div class="cards">
        <${NodeCard} snapshot=${s} now=${now} />
        <${GossipCard} p2p=${s.p2p} />
        ${s.mailbox != null && html`<${MailboxCard} mailbox=${s.mailbox} />`}
      </div>
      ${catchUps.length > 0 && html`
        <section class="card catchups" aria-label="catch-ups">
          <h2>Catch-ups</h2>
          ${catchUps.map(r => html`<${CatchUp} key=${r.key} name=${r.name} catchUp=${r.catchUp} />`)}
        </section>`}
      <section class="card" aria-label="peers">
        <h2>Peers</h2>
        <${PeerTable} rows=${rows} log=${log} now=${now} />
      </section>
      <section class="card" aria-label="activity">
        <h2>Activity</h2>
        <${ActivityChart} points=${live.points} windowSeconds=${live.windowSeconds} skewMs=${live.skewMs} />
      </section>
      <section class="card" aria-label="warnings and errors">
        <h2>Warnings and errors</h2>
        <${RecentLog} log=${log} />
      </section>
    </div>`
}
