/**
 * The node's latest warnings and errors, newest first, as it logged them.
 */
import { html } from '../lib/html.js'

/** @param {{ log: ReadonlyArray<{ at: string, level: string, message: string, fields: Record<string, string> }> }} props */
export function RecentLog ({ log }) {
  if (log.length === 0) return html`<p class="muted">No warnings or errors since the node started.</p>`
  return html`
    <ol class="log" reversed>
      ${[...log].reverse().map((l, i) => html`
        <li key=${i} class=${l.level}>
          <time>${l.at.slice(11, 19)}</time> <span class="level">${l.level}</span> ${l.message}
          ${Object.keys(l.fields).length > 0 && html` <small class="mono">${Object.entries(l.fields).map(([k, v]) => `${k}=${v}`).join(' ')}</small>`}
        </li>`)}
    </ol>`
}
