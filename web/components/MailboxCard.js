/**
 * The relays' mailboxes as this node uses them (docs/DISCOVERY.md, "Mailbox"): sealed pages it
 * deposited for members that are offline, and pages it pulled, applied or refused, with their
 * bytes. Shown only while the node uses a mailbox.
 */
import { html } from '../lib/html.js'
import { bytes, num } from '../lib/format.js'

/** @param {{ mailbox: any }} props */
export function MailboxCard ({ mailbox: m }) {
  return html`
    <section class="card mailbox" aria-label="mailbox">
      <h2>Mailbox</h2>
      <dl>
        <dt>Deposited</dt><dd data-field="mailbox-deposited">${num(m.deposited)} pages, ${bytes(m.depositedBytes)}</dd>
        ${m.notStored > 0 && html`<dt>Not stored</dt><dd data-field="mailbox-not-stored">${num(m.notStored)} pages, larger than the mailbox takes (p2p.mailbox.maxBytes on the relay)</dd>`}
        <dt>Pulled</dt><dd data-field="mailbox-pulled">${num(m.pulled)} pages, ${bytes(m.pulledBytes)}</dd>
        <dt>Applied</dt><dd>${num(m.applied)} records</dd>
        ${m.voided > 0 && html`<dt>Voided</dt><dd data-field="mailbox-voided">${num(m.voided)} records stamped before their writer repaired its clock (dropped: the writer re-stamped them)</dd>`}
        ${m.refused > 0 && html`<dt>Refused</dt><dd data-field="mailbox-refused">${num(m.refused)} pages (see the warnings below)</dd>`}
      </dl>
    </section>`
}
