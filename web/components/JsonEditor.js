/**
 * A JSON value to edit as text: the text must parse before it is submitted (what is wrong is
 * said beside it).
 */
import { useState } from 'preact/hooks'
import { html } from '../lib/html.js'

/**
 * @param {{ label: string, initial: unknown, submitLabel: string, onSubmit: (v: unknown) => void, onCancel?: () => void, objectOnly?: boolean }} props
 */
export function JsonEditor ({ label, initial, submitLabel, onSubmit, onCancel, objectOnly }) {
  const [text, setText] = useState(initial === undefined ? '' : JSON.stringify(initial, null, 2))
  const [problem, setProblem] = useState('')
  /** @param {Event} e */
  const submit = (e) => {
    e.preventDefault()
    let v
    try { v = JSON.parse(text) } catch (err) { setProblem(`not valid JSON: ${err instanceof Error ? err.message : String(err)}`); return }
    if (objectOnly === true && (v === null || typeof v !== 'object' || Array.isArray(v))) { setProblem('must be a JSON object, such as {"summary": "…"}'); return }
    setProblem('')
    onSubmit(v)
  }
  return html`
    <form class="json-editor" aria-label=${label} onSubmit=${submit}>
      <textarea aria-label=${`${label} value`} rows="6" value=${text} onInput=${(/** @type {Event} */ e) => setText(/** @type {HTMLTextAreaElement} */ (e.currentTarget).value)}></textarea>
      <div class="buttons">
        <button type="submit" class="primary">${submitLabel}</button>
        ${onCancel !== undefined && html`<button type="button" onClick=${onCancel}>Cancel</button>`}
        ${problem !== '' && html`<span class="problem" role="alert">${problem}</span>`}
      </div>
    </form>`
}
