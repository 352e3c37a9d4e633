/**
 * The page's header: the views, a search box over every record (views/SearchView.js), the node
 * this page belongs to, whether the live stream is connected, and the number of conflicts waiting.
 */
import { html } from '../lib/html.js'
import { useLive } from '../lib/live.js'
import { shortId } from '../lib/format.js'
import { href } from '../lib/route.js'

const VIEWS = [['sync', 'Sync'], ['memory', 'Memory'], ['notes', 'Notes'], ['episodes', 'Episodes'], ['traces', 'Traces'], ['conflicts', 'Conflicts']]

const CONNECTION = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  closed: 'refused: reload the page',
  unauthorized: 'needs the API token: open it with engram ui'
}

/** The page's icon (the build names it by its content in the page's <link rel="icon">). */
const ICON = document.querySelector('link[rel="icon"]')?.getAttribute('href') ?? ''

/** @param {Event} e */
function search (e) {
  e.preventDefault()
  const q = String(new FormData(/** @type {HTMLFormElement} */ (e.currentTarget)).get('q') ?? '').trim()
  if (q !== '') location.hash = href('search', '', { q })
}

/** @param {{ view: string, q: string }} props */
export function Nav ({ view, q }) {
  const live = useLive()
  const s = live.snapshot
  const conflicts = typeof s?.sync?.conflicts === 'number' ? s.sync.conflicts : 0
  return html`
    <header class="top">
      <h1><img src=${ICON} alt="" width="24" height="24" /> engram</h1>
      <nav aria-label="views">
        ${VIEWS.map(([v, label]) => html`
          <a key=${v} href=${href(v)} aria-current=${view === v || (view === 'entity' && v === 'memory') ? 'page' : undefined}>
            ${label}${v === 'conflicts' && conflicts > 0 && html` <span class="count-badge" data-field="conflicts">${conflicts}</span>`}
          </a>`)}
      </nav>
      <form role="search" class="search" key=${q} onSubmit=${search}>
        <input type="search" name="q" placeholder="search memory" aria-label="search memory" defaultValue=${q} />
      </form>
      <span class="who" title=${s?.node?.nodeId ?? ''}>node <span class="mono">${shortId(s?.node?.nodeId)}</span></span>
      <span class=${`connection ${live.connection}`} data-field="connection" title=${live.detail}>${CONNECTION[live.connection]}</span>
    </header>`
}
