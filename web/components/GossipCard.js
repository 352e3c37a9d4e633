/**
 * Native sync's gossip (docs/PROTOCOL.md §3): rounds, pending announcements, the window set and
 * the last bloom filter, with the totals of successful and failed syncs and what the limits on
 * peers refused.
 */
import { html } from '../lib/html.js'
import { num } from '../lib/format.js'

/** @param {{ p2p: any }} props */
export function GossipCard ({ p2p }) {
  if (p2p === null || p2p === undefined || p2p.gossip_stats === undefined) {
    return html`
      <section class="card gossip" aria-label="gossip">
        <h2>Gossip</h2>
        <p class="muted">Native P2P sync is off on this node (p2p.enabled); peers are synced by polling, if any.</p>
      </section>`
  }
  const g = p2p.gossip_stats
  const s = p2p.sync_stats
  const refused = Object.entries(p2p.refused ?? {}).filter(([, v]) => typeof v === 'number' && v > 0)
  return html`
    <section class="card gossip" aria-label="gossip">
      <h2>Gossip</h2>
      <dl>
        <dt>Round</dt><dd data-field="round">${num(g.round)}</dd>
        <dt>Pending</dt><dd>${num(g.pending_announcements)} announcements</dd>
        <dt>Window</dt><dd>${num(g.known_ids)} recent ids</dd>
        <dt>Bloom filter</dt><dd>${num(g.bloom_filter_items)} items, ${(g.bloom_filter_fpr * 100).toFixed(2)} % false positives</dd>
        <dt>Syncs</dt><dd>${num(s.total_successful_syncs)} successful, ${num(s.total_failed_syncs)} failed</dd>
        <dt>Connected</dt><dd data-field="connected">${num(p2p.peer_count)} ${p2p.peer_count === 1 ? 'peer' : 'peers'}, port ${p2p.port}</dd>
        ${refused.length > 0 && html`<dt>Refused</dt><dd>${refused.map(([k, v]) => `${k.replaceAll('_', ' ')} ${num(/** @type {number} */ (v))}`).join(', ')}</dd>`}
      </dl>
    </section>`
}
