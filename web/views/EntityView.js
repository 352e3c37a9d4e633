/**
 * One entity (a subject or node such as `kg:Alice`): what it says about itself and who points
 * at it, read in one consistent query batch. For the knowledge graph the MCP tools keep, the
 * entity's type (`kg:entityType`) and its observations (`kg:observation`, in the order they were
 * written) come first, as the tools show them (docs/MCP.md); then its other triples, its
 * relations out and its relations in. Observations can be added and deleted here.
 */
import { html } from '../lib/html.js'
import { api } from '../lib/api.js'
import { num, tripleText } from '../lib/format.js'
import { useQuery } from '../lib/useQuery.js'
import { confirmThen } from '../components/Confirm.js'
import { Problem } from '../components/Problem.js'
import { NodeLink, Term } from '../components/Term.js'

const ENTITY_TYPE = 'kg:entityType'
const OBSERVATION = 'kg:observation'
const LIMIT = 1000

/** @param {any} a @param {any} b */
const byStamp = (a, b) => (a.hlc < b.hlc ? -1 : a.hlc > b.hlc ? 1 : 0)
/** @param {unknown} o */
const isNode = (o) => o !== null && typeof o === 'object' && typeof (/** @type {any} */ (o)).node === 'string'

/** @param {{ iri: string }} props */
export function EntityView ({ iri }) {
  const res = useQuery(() => api('POST', '/api/v1/query/batch', {
    queries: [{ subject: iri, limit: LIMIT }, { object: { node: iri }, limit: LIMIT }]
  }), iri)

  /** @param {any} t */
  const remove = async (t) => {
    if (await confirmThen({ title: 'Delete this triple?', message: tripleText(t), action: 'Delete triple', danger: true },
      () => api('DELETE', `/api/v1/triples/${t.id}`), 'Deleted; the deletion syncs to every machine.')) res.reload()
  }
  /** @param {Event} e */
  const observe = async (e) => {
    e.preventDefault()
    const form = /** @type {HTMLFormElement} */ (e.currentTarget)
    const text = String(new FormData(form).get('observation') ?? '').trim()
    if (text === '') return
    if (!await confirmThen({ title: 'Add this observation?', message: `${iri}: ${text}`, action: 'Add observation' },
      () => api('POST', '/api/v1/triples', { subject: iri, predicate: OBSERVATION, object: text }), 'Observation added; it syncs to every machine.')) return
    form.reset()
    res.reload()
  }

  if (res.error !== undefined) return html`<${Problem} error=${res.error} />`
  if (res.data === undefined) return html`<p class="loading">Loading ${iri}…</p>`
  const [out, incoming] = res.data.results
  const own = [...out.matches].sort(byStamp)
  const types = own.filter(t => t.predicate === ENTITY_TYPE)
  const observations = own.filter(t => t.predicate === OBSERVATION)
  const relations = own.filter(t => t.predicate !== ENTITY_TYPE && t.predicate !== OBSERVATION && isNode(t.object))
  const attributes = own.filter(t => t.predicate !== ENTITY_TYPE && t.predicate !== OBSERVATION && !isNode(t.object))
  /** @param {any[]} list @param {(t: any) => any} cells */
  const rows = (list, cells) => list.map(t => html`<tr key=${t.id}>${cells(t)}<td class="actions"><button type="button" class="danger" onClick=${() => remove(t)}>Delete</button></td></tr>`)
  return html`
    <article class="entity-view">
      <h2 class="mono">${iri}</h2>
      <p>${types.length === 0 ? html`<span class="muted">no entity type</span>` : types.map(t => html`<span class="badge" key=${t.id}>${typeof t.object === 'string' ? t.object : JSON.stringify(t.object)}</span> `)}
        <small class="muted"> ${num(own.length)} triples out, ${num(incoming.total)} in</small></p>
      <section aria-label="observations">
        <h3>Observations</h3>
        ${observations.length === 0 ? html`<p class="muted">None.</p>` : html`<table class="observations"><tbody>${rows(observations, t => html`<td><${Term} value=${t.object} /></td>`)}</tbody></table>`}
        <form class="inline" aria-label="add an observation" onSubmit=${observe}>
          <input name="observation" placeholder="a new observation" aria-label="observation" />
          <button type="submit" class="primary">Add observation</button>
        </form>
      </section>
      <section aria-label="attributes">
        <h3>Attributes</h3>
        ${attributes.length === 0 ? html`<p class="muted">None.</p>` : html`<table><tbody>${rows(attributes, t => html`<td>${t.predicate}</td><td><${Term} value=${t.object} /></td>`)}</tbody></table>`}
      </section>
      <section aria-label="relations out">
        <h3>Relations out</h3>
        ${relations.length === 0 ? html`<p class="muted">None.</p>` : html`<table><tbody>${rows(relations, t => html`<td>${t.predicate}</td><td><${Term} value=${t.object} /></td>`)}</tbody></table>`}
      </section>
      <section aria-label="relations in">
        <h3>Relations in</h3>
        ${incoming.matches.length === 0 ? html`<p class="muted">None.</p>` : html`<table><tbody>${rows(incoming.matches, t => html`<td><${NodeLink} iri=${t.subject} /></td><td>${t.predicate}</td>`)}</tbody></table>`}
      </section>
    </article>`
}
