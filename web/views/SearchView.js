/**
 * Search over every kind of record (GET /api/v1/search; docs/SEARCH.md): the query from the
 * header's search box, ranked results with the matching words marked, triples grouped by
 * entity, each result linking to where it can be read and changed. The results follow the node
 * live (a record synced from another machine is found when it arrives); while the full-text index
 * is catching up (`engram reindex`, or records a catch-up from a peer brought), the count says
 * that some records are not found yet.
 */
import { html } from '../lib/html.js'
import { api, query } from '../lib/api.js'
import { jsonText, num } from '../lib/format.js'
import { href } from '../lib/route.js'
import { useQuery } from '../lib/useQuery.js'
import { Problem } from '../components/Problem.js'
import { Term } from '../components/Term.js'

const LIMIT = 25

/**
 * A snippet's text with its highlights ([start, end) offsets) marked, after the field it is from
 * (`bare`: without it, where the snippet stands in for the field).
 * @param {{ snippet?: { field: string, text: string, highlights: Array<[number, number]> }, bare?: boolean }} props
 */
function Snippet ({ snippet, bare = false }) {
  if (snippet === undefined) return null
  const parts = []
  let at = 0
  for (const [start, end] of snippet.highlights) {
    if (start > at) parts.push(snippet.text.slice(at, start))
    parts.push(html`<mark>${snippet.text.slice(start, end)}</mark>`)
    at = end
  }
  parts.push(snippet.text.slice(at))
  return bare ? html`<span class="snippet bare">${parts}</span>` : html`<span class="snippet"><small class="field">${snippet.field}</small> ${parts}</span>`
}

/** @param {{ r: any }} props */
function Result ({ r }) {
  switch (r.type) {
    case 'entity': return html`
      <li class="result entity">
        <a class="node" href=${href('entity', r.subject)}>${r.subject}</a>
        <ul>${r.triples.map((/** @type {any} */ t) => html`<li key=${t.id}>${t.predicate} ${t.snippet?.field === 'object'
          ? html`<${Snippet} snippet=${t.snippet} bare />`
          : html`<${Term} value=${t.object} /> <${Snippet} snippet=${t.snippet} />`}</li>`)}</ul>
      </li>`
    case 'note': return html`
      <li class="result note"><a href=${href('notes', '', { prefix: r.note.key })}>note ${r.note.key}</a> <${Snippet} snippet=${r.snippet} /></li>`
    case 'episode': return html`
      <li class="result episode"><a href=${href('episodes', '', { prefix: r.episode.id })}>episode ${r.episode.id}</a> <${Snippet} snippet=${r.snippet} /></li>`
    case 'trace': return html`
      <li class="result trace"><a href=${href('traces', '', { runId: r.trace.runId })}>trace of ${r.trace.runId}</a> <${Snippet} snippet=${r.snippet} /></li>`
    default: return html`<li class="result"><code>${jsonText(r)}</code></li>`
  }
}

/** @param {{ params: URLSearchParams }} props */
export function SearchView ({ params }) {
  const q = params.get('q') ?? ''
  const res = useQuery(() => (q === '' ? Promise.resolve(undefined) : api('GET', `/api/v1/search${query({ q, limit: LIMIT })}`)), q)
  return html`
    <div class="search-view">
      <${Problem} error=${res.error} />
      ${q === '' ? html`<p class="muted">Search every record: words, "phrases", prefix*, OR, -word.</p>`
        : res.error !== undefined ? null
        : res.data === undefined ? html`<p class="loading">Searching…</p>`
        : html`
          <p class="count" data-field="results">${num(res.data.results.length)} result${res.data.results.length === 1 ? '' : 's'} for <strong>${res.data.query}</strong>
            ${res.data.matched === 'any' && html`<small> (some hold only some of the words)</small>`}
            ${res.data.index?.partial === true && html`<small> (the index is catching up: some records are not found yet)</small>`}</p>
          <ol class="results">${res.data.results.map((/** @type {any} */ r, /** @type {number} */ i) => html`<${Result} key=${i} r=${r} />`)}</ol>`}
    </div>`
}
