/**
 * The dashboard's entry point (after boot.js has opened the live status stream): renders the
 * header and the view the URL's hash names (lib/route.js). Each view is one file in views/; they read the
 * node through the same REST routes as the CLI (lib/api.js) and the live stream (lib/live.js).
 */
import { render } from 'preact'
import { html } from './lib/html.js'
import { useRoute } from './lib/route.js'
import { ConfirmHost } from './components/Confirm.js'
import { Nav } from './components/Nav.js'
import { NoticeHost } from './components/Notices.js'
import { ConflictsView } from './views/ConflictsView.js'
import { EntityView } from './views/EntityView.js'
import { EpisodesView } from './views/EpisodesView.js'
import { MemoryView } from './views/MemoryView.js'
import { NotesView } from './views/NotesView.js'
import { SearchView } from './views/SearchView.js'
import { SyncView } from './views/SyncView.js'
import { TracesView } from './views/TracesView.js'

function View () {
  const route = useRoute()
  switch (route.view) {
    case 'memory': return html`<${MemoryView} params=${route.params} />`
    case 'entity': return html`<${EntityView} key=${route.arg} iri=${route.arg} />`
    case 'notes': return html`<${NotesView} params=${route.params} />`
    case 'episodes': return html`<${EpisodesView} params=${route.params} />`
    case 'traces': return html`<${TracesView} params=${route.params} />`
    case 'conflicts': return html`<${ConflictsView} />`
    case 'search': return html`<${SearchView} params=${route.params} />`
    default: return html`<${SyncView} />`
  }
}

function App () {
  const route = useRoute()
  return html`
    <${Nav} view=${route.view} q=${route.view === 'search' ? route.params.get('q') ?? '' : ''} />
    <${NoticeHost} />
    <main id=${`view-${route.view}`}><${View} /></main>
    <${ConfirmHost} />`
}

const root = document.getElementById('app')
if (root !== null) {
  root.textContent = ''
  render(html`<${App} />`, root)
}
