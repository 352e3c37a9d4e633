/**
 * What happened after an action, at the top of the page: `notice(text)` for a success,
 * `notice(text, 'error')` for a failure (the node's message and code). A notice goes away after
 * a while or when closed. `<NoticeHost/>`, rendered once by the app, shows them.
 */
import { useEffect, useState } from 'preact/hooks'
import { html } from '../lib/html.js'

/** @typedef {{ id: number, text: string, kind: 'ok' | 'error' }} Notice */

/** @type {((n: Notice) => void) | undefined} */
let push
let nextId = 1

/** @param {string} text @param {'ok' | 'error'} [kind] */
export function notice (text, kind = 'ok') {
  push?.({ id: nextId++, text, kind })
}

/** A failure as a notice: the node's message and its code. @param {unknown} e */
export function failed (e) {
  const err = /** @type {{ message?: string, code?: string }} */ (e)
  notice(`${err.message ?? String(e)}${err.code !== undefined ? ` (${err.code})` : ''}`, 'error')
}

export function NoticeHost () {
  const [list, setList] = useState(/** @type {Notice[]} */ ([]))
  useEffect(() => {
    push = (n) => {
      setList(l => [...l.slice(-4), n])
      setTimeout(() => setList(l => l.filter(x => x.id !== n.id)), n.kind === 'error' ? 15000 : 6000)
    }
    return () => { push = undefined }
  }, [])
  return html`
    <div class="notices" role="status" aria-live="polite">
      ${list.map(n => html`
        <div key=${n.id} class=${`notice ${n.kind}`}>
          <span>${n.text}</span>
          <button type="button" aria-label="close" onClick=${() => setList(l => l.filter(x => x.id !== n.id))}>×</button>
        </div>`)}
    </div>`
}
