/**
 * A load that failed, said where the data would be: the node's message and its stable code.
 */
import { html } from '../lib/html.js'

/** @param {{ error: any }} props */
export const Problem = ({ error }) => (error === undefined ? null : html`<p class="problem" role="alert">${error.message} (${error.code})</p>`)
