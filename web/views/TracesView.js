/**
 * Execution traces (append-only: never changed or deleted, on any machine): by run, oldest
 * first, with paging.
 */
import { html } from '../lib/html.js'
import { api, query } from '../lib/api.js'
import { jsonText, num, shortId } from '../lib/format.js'
import { href, offsetOf } from '../lib/route.js'
import { useQuery } from '../lib/useQuery.js'
import { FilterForm } from '../components/FilterForm.js'
import { Problem } from '../components/Problem.js'
import { Pager } from '../components/Pager.js'

const LIMIT = 100

/** @param {{ params: URLSearchParams }} props */
export function TracesView ({ params }) {
  const runId = params.get('runId') ?? ''
  const offset = offsetOf(params)
  const q = { runId, limit: LIMIT, offset }
  const list = useQuery(() => api('GET', `/api/v1/traces${query(q)}`), JSON.stringify(q))
  const data = list.data
  return html`
    <div class="traces-view">
      <${FilterForm} view="traces" name="runId" value=${runId} placeholder="run id" label="filter traces" />
      <p class="muted">Traces are an append-only log: they are never changed or deleted.</p>
      <${Problem} error=${list.error} />
      ${data === undefined ? html`<p class="loading">Loading…</p>` : html`
        <p class="count">${num(data.total)} entr${data.total === 1 ? 'y' : 'ies'}</p>
        <table class="traces">
          <thead><tr><th>Run</th><th>Type</th><th>Data</th><th>Written</th></tr></thead>
          <tbody>
            ${data.traces.map((/** @type {any} */ t) => html`
              <tr key=${t.id}>
                <td><a href=${href('traces', '', { runId: t.runId })}>${t.runId}</a></td>
                <td>${t.type}</td>
                <td><code>${jsonText(t.data)}</code></td>
                <td title=${t.hlc}>${t.created_at.replace('T', ' ').slice(0, 19)} <small class="mono">${shortId(t.origin)}</small></td>
              </tr>`)}
          </tbody>
        </table>
        <${Pager} total=${data.total} limit=${LIMIT} offset=${offset} onOffset=${(/** @type {number} */ o) => { location.hash = href('traces', '', { runId, offset: o }) }} />`}
    </div>`
}
