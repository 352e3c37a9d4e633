/**
 * Episodes (records of past sessions, merged by union: never deleted by a merge, and the API has
 * no delete): newest first with paging, filtered by id prefix; add one, or edit one's data, after
 * a confirmation that says the change syncs to every machine.
 */
import { useState } from 'preact/hooks'
import { html } from '../lib/html.js'
import { api, query } from '../lib/api.js'
import { jsonText, num, shortId } from '../lib/format.js'
import { href } from '../lib/route.js'
import { useQuery } from '../lib/useQuery.js'
import { ask } from '../components/Confirm.js'
import { JsonEditor } from '../components/JsonEditor.js'
import { failed, notice } from '../components/Notices.js'
import { Pager } from '../components/Pager.js'

const LIMIT = 25

/** @param {{ params: URLSearchParams }} props */
export function EpisodesView ({ params }) {
  const prefix = params.get('prefix') ?? ''
  const offset = Number(params.get('offset') ?? '0') || 0
  const q = { prefix, limit: LIMIT, offset }
  const list = useQuery(() => api('GET', `/api/v1/episodes${query(q)}`), JSON.stringify(q))
  const [editing, setEditing] = useState(/** @type {string | undefined} */ (undefined))

  /** @param {string | undefined} id @param {unknown} data */
  const put = async (id, data) => {
    if (!await ask({ title: id === undefined ? 'Add this episode?' : `Save episode ${id}?`, message: jsonText(data, 400), action: id === undefined ? 'Add episode' : 'Save episode' })) return
    try {
      const ep = await api('POST', '/api/v1/episodes', id === undefined ? { data } : { id, data })
      setEditing(undefined)
      notice(`Episode ${ep.id} saved; it syncs to every machine.`)
      list.reload()
    } catch (e) { failed(e) }
  }

  const data = list.data
  return html`
    <div class="episodes-view">
      <form class="filters" key=${prefix} aria-label="filter episodes" onSubmit=${(/** @type {Event} */ e) => {
        e.preventDefault()
        location.hash = href('episodes', '', { prefix: String(new FormData(/** @type {HTMLFormElement} */ (e.currentTarget)).get('prefix') ?? '') })
      }}>
        <input name="prefix" placeholder="id prefix" aria-label="id prefix" defaultValue=${prefix} />
        <button type="submit" class="primary">Filter</button>
      </form>
      <details class="add">
        <summary>Add an episode</summary>
        <${JsonEditor} label="new episode" initial=${{ agent: '', summary: '' }} submitLabel="Add episode" objectOnly=${true} onSubmit=${(/** @type {unknown} */ v) => put(undefined, v)} />
      </details>
      ${list.error !== undefined && html`<p class="problem" role="alert">${list.error.message} (${list.error.code})</p>`}
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
