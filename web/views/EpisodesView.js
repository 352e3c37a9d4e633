/**
 * Episodes (records of past sessions, merged by union: never deleted by a merge, and the API has
 * no delete): newest first with paging, filtered by id prefix; add one, or edit one's data, after
 * a confirmation that says the change syncs to every machine.
 */
import { useState } from 'preact/hooks'
import { html } from '../lib/html.js'
import { api, query } from '../lib/api.js'
import { jsonText, num, shortId } from '../lib/format.js'
import { href, offsetOf } from '../lib/route.js'
import { useQuery } from '../lib/useQuery.js'
import { confirmThen } from '../components/Confirm.js'
import { JsonEditor } from '../components/JsonEditor.js'
import { FilterForm } from '../components/FilterForm.js'
import { Problem } from '../components/Problem.js'
import { Pager } from '../components/Pager.js'

const LIMIT = 25

/** @param {{ params: URLSearchParams }} props */
export function EpisodesView ({ params }) {
  const prefix = params.get('prefix') ?? ''
  const offset = offsetOf(params)
  const q = { prefix, limit: LIMIT, offset }
  const list = useQuery(() => api('GET', `/api/v1/episodes${query(q)}`), JSON.stringify(q))
  const [editing, setEditing] = useState(/** @type {string | undefined} */ (undefined))

  /** @param {string | undefined} id @param {unknown} data */
  const put = async (id, data) => {
    if (!await confirmThen({ title: id === undefined ? 'Add this episode?' : `Save episode ${id}?`, message: jsonText(data, 400), action: id === undefined ? 'Add episode' : 'Save episode' },
      () => api('POST', '/api/v1/episodes', id === undefined ? { data } : { id, data }), (/** @type {{ id: string }} */ ep) => `Episode ${ep.id} saved; it syncs to every machine.`)) return
    setEditing(undefined)
    list.reload()
  }

  const data = list.data
  return html`
    <div class="episodes-view">
      <${FilterForm} view="episodes" name="prefix" value=${prefix} placeholder="id prefix" label="filter episodes" />
      <details class="add">
        <summary>Add an episode</summary>
        <${JsonEditor} label="new episode" initial=${{ agent: '', summary: '' }} submitLabel="Add episode" objectOnly=${true} onSubmit=${(/** @type {unknown} */ v) => put(undefined, v)} />
      </details>
      <${Problem} error=${list.error} />
      ${data === undefined ? html`<p class="loading">Loading…</p>` : html`
        <p class="count">${num(data.total)} episode${data.total === 1 ? '' : 's'}</p>
        <ul class="episodes">
          ${data.episodes.map((/** @type {any} */ ep) => html`
            <li key=${ep.id} data-id=${ep.id}>
              <header><span class="mono">${ep.id}</span> <small>${ep.updated_at.replace('T', ' ').slice(0, 19)} · ${shortId(ep.origin)}</small>
                <button type="button" onClick=${() => setEditing(ep.id)}>Edit</button></header>
              ${editing === ep.id
                ? html`<${JsonEditor} label=${`edit ${ep.id}`} initial=${ep.data} objectOnly=${true} submitLabel="Save" onSubmit=${(/** @type {unknown} */ v) => put(ep.id, v)} onCancel=${() => setEditing(undefined)} />`
                : html`<pre>${JSON.stringify(ep.data, null, 2)}</pre>`}
            </li>`)}
        </ul>
        <${Pager} total=${data.total} limit=${LIMIT} offset=${offset} onOffset=${(/** @type {number} */ o) => { location.hash = href('episodes', '', { prefix, offset: o }) }} />`}
    </div>`
}
