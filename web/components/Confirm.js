/**
 * Confirmations before a change: `ask({title, message, action})` opens a modal dialog and
 * resolves with true (the action button) or false (Cancel, Escape); `confirmThen` asks, then
 * makes the change and says what came of it. Every change the dashboard makes is written on this
 * node and then synced to every other machine, so every confirmation says so (`SYNCS`).
 * `<ConfirmHost/>`, rendered once by the app, shows the dialog.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { html } from '../lib/html.js'
import { failed, notice } from './Notices.js'

export const SYNCS = 'The change is written on this node and syncs to every machine it syncs with.'

/**
 * @typedef {{ title: string, message: string, action: string, danger?: boolean }} Question
 * @typedef {Question & { resolve: (yes: boolean) => void }} Pending
 */

/** @type {((p: Pending | undefined) => void) | undefined} */
let show

/** @param {Question} q @returns {Promise<boolean>} */
export function ask (q) {
  return new Promise(resolve => {
    if (show === undefined) { resolve(false); return }
    show({ ...q, resolve })
  })
}

/**
 * A change, confirmed: asks `q`; once confirmed, runs `write` and says `done` (or the node's
 * refusal). Resolves with true once the change is written.
 * @param {Question} q
 * @param {() => Promise<unknown>} write
 * @param {string | ((result: any) => string)} done
 */
export async function confirmThen (q, write, done) {
  if (!await ask(q)) return false
  try {
    const result = await write()
    notice(typeof done === 'function' ? done(result) : done)
    return true
  } catch (e) {
    failed(e)
    return false
  }
}

export function ConfirmHost () {
  const [pending, setPending] = useState(/** @type {Pending | undefined} */ (undefined))
  const dialog = useRef(/** @type {HTMLDialogElement | null} */ (null))
  useEffect(() => {
    show = setPending
    return () => { show = undefined }
  }, [])
  useEffect(() => {
    const d = dialog.current
    if (d === null) return
    if (pending !== undefined && !d.open) d.showModal()
    if (pending === undefined && d.open) d.close()
  }, [pending])
  /** @param {boolean} yes */
  const answer = (yes) => {
    pending?.resolve(yes)
    setPending(undefined)
  }
  return html`
    <dialog ref=${dialog} class="confirm" aria-labelledby="confirm-title" onCancel=${(/** @type {Event} */ e) => { e.preventDefault(); answer(false) }}>
      ${pending !== undefined && html`
        <h2 id="confirm-title">${pending.title}</h2>
        <p class="confirm-message">${pending.message}</p>
        <p class="syncs">${SYNCS}</p>
        <div class="buttons">
          <button type="button" onClick=${() => answer(false)}>Cancel</button>
          <button type="button" class=${pending.danger === true ? 'danger' : 'primary'} onClick=${() => answer(true)}>${pending.action}</button>
        </div>`}
    </dialog>`
}
