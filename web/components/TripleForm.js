/**
 * The fields of a triple — subject, predicate, and an object with its kind — for adding one or
 * editing one. `onSubmit` gets `{subject, predicate, object}` with the object in the JSON form
 * the API takes; a value that cannot be one (a number that is not, JSON that does not parse)
 * is said beside the form and not sent.
 */
import { useState } from 'preact/hooks'
import { html } from '../lib/html.js'
import { editableOf, OBJECT_KINDS, objectOf } from '../lib/terms.js'

/**
 * @typedef {{ subject: string, predicate: string, object: unknown }} TripleInput
 * @param {{ initial?: TripleInput, submitLabel: string, onSubmit: (t: TripleInput) => void, onCancel?: () => void, label: string }} props
 */
export function TripleForm ({ initial, submitLabel, onSubmit, onCancel, label }) {
  const start = initial !== undefined ? editableOf(initial.object) : { kind: 'string', text: '', lang: '' }
  const [subject, setSubject] = useState(initial?.subject ?? '')
  const [predicate, setPredicate] = useState(initial?.predicate ?? '')
  const [kind, setKind] = useState(start.kind)
  const [text, setText] = useState(start.text)
  const [lang, setLang] = useState(start.lang)
  const [problem, setProblem] = useState('')
  /** @param {Event} e */
  const submit = (e) => {
    e.preventDefault()
    try {
      if (subject.trim() === '' || predicate.trim() === '') throw new Error('a triple needs a subject and a predicate')
      setProblem('')
      onSubmit({ subject: subject.trim(), predicate: predicate.trim(), object: objectOf(kind, text, lang) })
    } catch (err) {
      setProblem(err instanceof Error ? err.message : String(err))
    }
  }
  /** @param {(v: string) => void} set */
  const bind = (set) => (/** @type {Event} */ e) => set(/** @type {HTMLInputElement} */ (e.currentTarget).value)
  return html`
    <form class="triple-form" aria-label=${label} onSubmit=${submit}>
      <input name="subject" placeholder="subject, e.g. user:alice" aria-label="subject" value=${subject} onInput=${bind(setSubject)} />
      <input name="predicate" placeholder="predicate, e.g. prefers:editor" aria-label="predicate" value=${predicate} onInput=${bind(setPredicate)} />
      <select name="kind" aria-label="object kind" value=${kind} onChange=${bind(setKind)}>
        ${OBJECT_KINDS.map(k => html`<option value=${k}>${k}</option>`)}
      </select>
      <input name="object" placeholder="object" aria-label="object" value=${text} onInput=${bind(setText)} />
      ${kind === 'lang' && html`<input name="lang" class="lang" placeholder="fr" aria-label="language" value=${lang} onInput=${bind(setLang)} />`}
      <button type="submit" class="primary">${submitLabel}</button>
      ${onCancel !== undefined && html`<button type="button" onClick=${onCancel}>Cancel</button>`}
      ${problem !== '' && html`<span class="problem" role="alert">${problem}</span>`}
    </form>`
}
