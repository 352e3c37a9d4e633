/**
 * A catch-up in flight (or just finished): a progress bar with the count of records received,
 * the total expected, the rate and the time left.
 */
import { html } from '../lib/html.js'
import { duration, num } from '../lib/format.js'

/** @param {{ name: string, catchUp: import('../lib/peers.js').CatchUp }} props */
export function CatchUp ({ name, catchUp: c }) {
  // the total and the share done are unknown while the peer does not say where its feed ends
  const total = c.total === null ? null : Math.max(c.total, c.records)
  const pct = c.done ? 100 : c.fraction !== null ? Math.min(100, Math.floor(c.fraction * 100)) : total !== null && total > 0 ? Math.min(100, Math.floor((c.records / total) * 100)) : null
  return html`
    <div class="catchup" data-peer=${name} data-done=${c.done ? 'true' : 'false'}>
      <label>
        <span class="who">${c.done ? 'Caught up with' : 'Catching up with'} ${name}</span>
        <progress max="100" value=${pct ?? undefined} aria-label=${`catch-up with ${name}`}>${pct ?? '?'} %</progress>
        <span class="pct">${pct === null ? '' : `${pct} %`}</span>
      </label>
      <span class="figures">
        ${num(c.records)}${total !== null ? ` of ${num(total)}` : ''} records · ${num(c.rate)}/s
        ${c.done ? '' : c.etaSeconds !== null ? ` · ${duration(c.etaSeconds)} left` : ''}
      </span>
    </div>`
}
