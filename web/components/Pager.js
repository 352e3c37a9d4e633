/**
 * Paging of a list the node answers with `{total, limit, offset}`: which rows are shown, and
 * buttons to the previous and next page.
 */
import { html } from '../lib/html.js'
import { num } from '../lib/format.js'

/**
 * @param {{ total: number, limit: number, offset: number, onOffset: (offset: number) => void }} props
 */
export function Pager ({ total, limit, offset, onOffset }) {
  if (total === 0) return null
  const last = Math.min(offset + limit, total)
  return html`
    <nav class="pager" aria-label="pages">
      <button type="button" disabled=${offset === 0} onClick=${() => onOffset(Math.max(0, offset - limit))}>← Previous</button>
      <span class="range">${num(offset + 1)}–${num(last)} of ${num(total)}</span>
      <button type="button" disabled=${last >= total} onClick=${() => onOffset(offset + limit)}>Next →</button>
    </nav>`
}
