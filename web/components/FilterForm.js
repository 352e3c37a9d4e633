/**
 * A one-field filter of a list view (a key prefix, a run id): submitting it puts the value in
 * the URL (so the view can be bookmarked) and goes back to the first page.
 */
import { html } from '../lib/html.js'
import { href } from '../lib/route.js'

/**
 * @param {{ view: string, name: string, value: string, placeholder: string, label: string }} props
 */
export function FilterForm ({ view, name, value, placeholder, label }) {
  /** @param {Event} e */
  const submit = (e) => {
    e.preventDefault()
    const v = new FormData(/** @type {HTMLFormElement} */ (e.currentTarget)).get(name)
    location.hash = href(view, '', { [name]: String(v ?? '') })
  }
  return html`
    <form class="filters" key=${value} aria-label=${label} onSubmit=${submit}>
      <input name=${name} placeholder=${placeholder} aria-label=${placeholder} defaultValue=${value} />
      <button type="submit" class="primary">Filter</button>
    </form>`
}
