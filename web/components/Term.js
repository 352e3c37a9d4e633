/**
 * A triple's object as the dashboard shows it: a node is a link to its entity page, a literal
 * shows its text with its kind (number, date-time, language, JSON) beside it.
 */
import { html } from '../lib/html.js'
import { term } from '../lib/format.js'
import { href } from '../lib/route.js'

/** @param {{ value: unknown }} props */
export function Term ({ value }) {
  const t = term(value)
  if (t.kind === 'node') return html`<a class="node" href=${href('entity', t.text)}>${t.text}</a>`
  return html`<span class=${`literal ${t.kind}`}>${t.text}${t.kind !== 'string' && html` <small class="kind">${t.kind}</small>`}</span>`
}

/** A subject or predicate: a link to its entity page. @param {{ iri: string }} props */
export const NodeLink = ({ iri }) => html`<a class="node" href=${href('entity', iri)}>${iri}</a>`
