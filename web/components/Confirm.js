/**
 * Confirmations before a change: `ask({title, message, action})` opens a modal dialog and
 * resolves with true (the action button) or false (Cancel, Escape). Every change the dashboard
 * makes is written on this node and then synced to every other machine, so every confirmation
 * says so (`SYNCS`). `<ConfirmHost/>`, rendered once by the app, shows the dialog.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { html } from '../lib/html.js'

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
