/**
 * Triples: filter by subject, predicate, object and namespace (the filters are in the URL, so a
 * view can be bookmarked), page through the matches, add, edit and delete — each change after a
 * confirmation that says it syncs to every machine. A namespace can be deleted whole: the
 * confirmation says first how many triples that removes. The list follows the node live.
 */
import { useState } from 'preact/hooks'
import { html } from '../lib/html.js'
import { api, query } from '../lib/api.js'
import { num, shortId, tripleText } from '../lib/format.js'
import { href, offsetOf } from '../lib/route.js'
import { objectOf, objectQuery } from '../lib/terms.js'
import { useQuery } from '../lib/useQuery.js'
import { confirmThen } from '../components/Confirm.js'
import { failed, notice } from '../components/Notices.js'
import { Problem } from '../components/Problem.js'
import { Pager } from '../components/Pager.js'
import { NodeLink, Term } from '../components/Term.js'
import { TripleForm } from '../components/TripleForm.js'

const LIMIT = 50

/** @param {{ params: URLSearchParams }} props */
export function MemoryView ({ params }) {
  const filter = {
    subject: params.get('subject') ?? '',
    predicate: params.get('predicate') ?? '',
    object: params.get('object') ?? '',
    namespace: params.get('namespace') ?? ''
  }
  const offset = offsetOf(params)
  const q = { ...filter, limit: LIMIT, offset }
  const list = useQuery(() => api('GET', `/api/v1/triples${query(q)}`), JSON.stringify(q))
  const [editing, setEditing] = useState(/** @type {string | undefined} */ (undefined))

  /** @param {Record<string, string | number>} next */
  const go = (next) => { location.hash = href('memory', '', { ...filter, offset: 0, ...next }) }

  /** @param {import('../components/TripleForm.js').TripleInput} t */
  const add = async (t) => {
    if (await confirmThen({ title: 'Add this triple?', message: tripleText(t), action: 'Add triple' },
      () => api('POST', '/api/v1/triples', t), 'Triple added; it syncs to every machine.')) list.reload()
  }
  /** @param {any} old @param {import('../components/TripleForm.js').TripleInput} t */
  const save = async (old, t) => {
    if (!await confirmThen({ title: 'Save this edit?', message: `${tripleText(old)}  →  ${tripleText(t)}`, action: 'Save edit' },
      () => api('POST', `/api/v1/triples/${old.id}/replace`, t), 'Triple edited; the edit syncs to every machine.')) return
    setEditing(undefined)
    list.reload()
  }
  /** @param {any} t */
  const remove = async (t) => {
    if (await confirmThen({ title: 'Delete this triple?', message: tripleText(t), action: 'Delete triple', danger: true },
      () => api('DELETE', `/api/v1/triples/${t.id}`), 'Triple deleted; the deletion syncs to every machine.')) list.reload()
  }
  const removeNamespace = async () => {
    const ns = filter.namespace
    let total
    try {
      total = (await api('GET', `/api/v1/triples${query({ namespace: ns, limit: 1 })}`)).total
    } catch (e) { failed(e); return }
    if (total === 0) { notice(`Namespace ${ns} has no triples.`); return }
    const question = { title: `Delete namespace ${ns}?`, message: `This deletes ${num(total)} triple${total === 1 ? '' : 's'} whose subject starts with "${ns}:".`, action: `Delete ${num(total)} triples`, danger: true }
    if (await confirmThen(question, () => api('DELETE', `/api/v1/triples${query({ namespace: ns })}`),
      (/** @type {{ deleted: number }} */ r) => `Deleted ${num(r.deleted)} triples of namespace ${ns}; the deletion syncs to every machine.`)) list.reload()
  }

  /** @param {Event} e */
  const search = (e) => {
    e.preventDefault()
    const f = new FormData(/** @type {HTMLFormElement} */ (e.currentTarget))
    const kind = String(f.get('kind') ?? 'string')
    const text = String(f.get('object') ?? '')
    let object = ''
    try {
      object = text === '' ? '' : objectQuery(objectOf(kind, text))
    } catch (err) { notice(`object: ${err instanceof Error ? err.message : String(err)}`, 'error'); return }
    go({ subject: String(f.get('subject') ?? ''), predicate: String(f.get('predicate') ?? ''), namespace: String(f.get('namespace') ?? ''), object })
  }

  const data = list.data
  return html`
    <div class="memory-view">
      <form class="filters" key=${JSON.stringify(filter)} aria-label="filter triples" onSubmit=${search}>
        <input name="subject" placeholder="subject" aria-label="subject filter" defaultValue=${filter.subject} />
        <input name="predicate" placeholder="predicate" aria-label="predicate filter" defaultValue=${filter.predicate} />
        <select name="kind" aria-label="object filter kind"><option>string</option><option>node</option><option>number</option><option>boolean</option><option>datetime</option><option>json</option></select>
        <input name="object" placeholder="object" aria-label="object filter" defaultValue=${filter.object.startsWith('{') ? '' : filter.object} />
        <input name="namespace" placeholder="namespace" aria-label="namespace filter" defaultValue=${filter.namespace} />
        <button type="submit" class="primary">Filter</button>
        <a href=${href('memory')} class="button">Clear</a>
        ${filter.namespace !== '' && html`<button type="button" class="danger" onClick=${removeNamespace}>Delete namespace ${filter.namespace}…</button>`}
      </form>
      ${filter.object.startsWith('{') && html`<p class="muted">object = <code>${filter.object}</code></p>`}
      <${TripleForm} label="add a triple" submitLabel="Add" onSubmit=${add} />
      <${Problem} error=${list.error} />
      ${data === undefined
        ? html`<p class="loading">Loading…</p>`
        : html`
          <p class="count" data-field="total">${num(data.total)} triple${data.total === 1 ? '' : 's'}</p>
          <table class="triples">
            <thead><tr><th>Subject</th><th>Predicate</th><th>Object</th><th>Written</th><th></th></tr></thead>
            <tbody>
              ${data.triples.map((/** @type {any} */ t) => editing === t.id
                ? html`<tr key=${t.id}><td colspan="5"><${TripleForm} label="edit triple" initial=${t} submitLabel="Save" onSubmit=${(/** @type {any} */ n) => save(t, n)} onCancel=${() => setEditing(undefined)} /></td></tr>`
                : html`
                  <tr key=${t.id} data-id=${t.id}>
                    <td><${NodeLink} iri=${t.subject} /></td>
                    <td>${t.predicate}</td>
                    <td><${Term} value=${t.object} /></td>
                    <td title=${`${t.hlc} by ${t.origin}`}>${t.created_at.replace('T', ' ').slice(0, 19)} <small class="mono">${shortId(t.origin)}</small></td>
                    <td class="actions">
                      <button type="button" onClick=${() => setEditing(t.id)}>Edit</button>
                      <button type="button" class="danger" onClick=${() => remove(t)}>Delete</button>
                    </td>
                  </tr>`)}
            </tbody>
          </table>
          <${Pager} total=${data.total} limit=${LIMIT} offset=${offset} onOffset=${(/** @type {number} */ o) => go({ ...filter, offset: o })} />`}
    </div>`
}
