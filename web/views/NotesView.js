/**
 * Notes (key → JSON value, last writer wins): list by key prefix with paging, add, edit and
 * delete, each after a confirmation that says the change syncs to every machine.
 */
import { useState } from 'preact/hooks'
import { html } from '../lib/html.js'
import { api, query, seg } from '../lib/api.js'
import { jsonText, num, shortId } from '../lib/format.js'
import { href, offsetOf } from '../lib/route.js'
import { useQuery } from '../lib/useQuery.js'
import { confirmThen } from '../components/Confirm.js'
import { JsonEditor } from '../components/JsonEditor.js'
import { notice } from '../components/Notices.js'
import { FilterForm } from '../components/FilterForm.js'
import { Problem } from '../components/Problem.js'
import { Pager } from '../components/Pager.js'

const LIMIT = 50

/** @param {{ params: URLSearchParams }} props */
export function NotesView ({ params }) {
  const prefix = params.get('prefix') ?? ''
  const offset = offsetOf(params)
  const q = { prefix, limit: LIMIT, offset }
  const list = useQuery(() => api('GET', `/api/v1/notes${query(q)}`), JSON.stringify(q))
  const [editing, setEditing] = useState(/** @type {string | undefined} */ (undefined))
  const [newKey, setNewKey] = useState('')

  /** @param {string} key @param {unknown} value @param {boolean} isNew */
  const put = async (key, value, isNew) => {
    if (!await confirmThen({ title: isNew ? `Add note ${key}?` : `Save note ${key}?`, message: jsonText(value, 400), action: isNew ? 'Add note' : 'Save note' },
      () => api('PUT', `/api/v1/notes/${seg(key)}`, { value }), `Note ${key} saved; it syncs to every machine.`)) return
    setEditing(undefined)
    setNewKey('')
    list.reload()
  }
  /** @param {string} key */
  const remove = async (key) => {
    if (await confirmThen({ title: `Delete note ${key}?`, message: 'The note is deleted here and on every machine.', action: 'Delete note', danger: true },
      () => api('DELETE', `/api/v1/notes/${seg(key)}`), `Note ${key} deleted; the deletion syncs to every machine.`)) list.reload()
  }

  const data = list.data
  return html`
    <div class="notes-view">
      <${FilterForm} view="notes" name="prefix" value=${prefix} placeholder="key prefix, e.g. project:" label="filter notes" />
      <details class="add">
        <summary>Add a note</summary>
        <input placeholder="key, e.g. project:engram/goal" aria-label="new note key" value=${newKey} onInput=${(/** @type {Event} */ e) => setNewKey(/** @type {HTMLInputElement} */ (e.currentTarget).value)} />
        <${JsonEditor} label="new note" initial=${undefined} submitLabel="Add note" onSubmit=${(/** @type {unknown} */ v) => {
          if (newKey.trim() === '') { notice('a note needs a key', 'error'); return }
          void put(newKey.trim(), v, true)
        }} />
      </details>
      <${Problem} error=${list.error} />
      ${data === undefined ? html`<p class="loading">Loading…</p>` : html`
        <p class="count">${num(data.total)} note${data.total === 1 ? '' : 's'}</p>
        <table class="notes">
          <thead><tr><th>Key</th><th>Value</th><th>Updated</th><th></th></tr></thead>
          <tbody>
            ${data.notes.map((/** @type {any} */ n) => html`
              <tr key=${n.key} data-key=${n.key}>
                <td class="mono">${n.key}</td>
                <td>${editing === n.key
                  ? html`<${JsonEditor} label=${`edit ${n.key}`} initial=${n.value} submitLabel="Save" onSubmit=${(/** @type {unknown} */ v) => put(n.key, v, false)} onCancel=${() => setEditing(undefined)} />`
                  : html`<code>${jsonText(n.value)}</code>`}</td>
                <td title=${`${n.hlc} by ${n.origin}`}>${n.updated_at.replace('T', ' ').slice(0, 19)} <small class="mono">${shortId(n.origin)}</small></td>
                <td class="actions">
                  <button type="button" onClick=${() => setEditing(n.key)}>Edit</button>
                  <button type="button" class="danger" onClick=${() => remove(n.key)}>Delete</button>
                </td>
              </tr>`)}
          </tbody>
        </table>
        <${Pager} total=${data.total} limit=${LIMIT} offset=${offset} onOffset=${(/** @type {number} */ o) => { location.hash = href('notes', '', { prefix, offset: o }) }} />`}
    </div>`
}
