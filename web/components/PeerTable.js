/**
 * Every peer machine, one row each: state, mode (native P2P or polled REST), path, how far
 * behind the peer's feed this node is (records and seconds), last sync, bytes, and — when the last attempt
 * failed — the error, what to do about it, and the node's log line that reported it.
 */
import { html } from '../lib/html.js'
import { ago, bytes, duration, num, shortId } from '../lib/format.js'
import { adviceFor } from '../lib/advice.js'
import { logLineFor } from '../lib/peers.js'

/** @param {import('../lib/peers.js').Lag} lag */
const lagText = (lag) => (lag === null ? '–' : lag.records === 0 ? 'in step' : `${lag.records === null ? 'behind' : `${num(lag.records)} records,`} ${duration(lag.seconds)}`)

/**
 * @param {{ rows: import('../lib/peers.js').PeerRow[], log: any[], now: number }} props
 */
export function PeerTable ({ rows, log, now }) {
  if (rows.length === 0) {
    return html`<p class="muted empty">No peers yet. Pair one with <code>engram sync pair NAME URL</code>, or list it in p2p.manualPeers.</p>`
  }
  return html`
    <table class="peers">
      <thead><tr>
        <th>Peer</th><th>State</th><th>Mode</th><th>Path</th>
        <th title="records of the peer not yet here">Behind here</th>
        <th>Last sync</th><th>Sent</th><th>Received</th>
      </tr></thead>
      <tbody>
        ${rows.map(r => html`
          <tr key=${r.key} data-peer=${r.nodeId ?? r.name} class=${`state-${r.state.replace(' ', '-')}`}>
            <td><span class="name" title=${r.nodeId ?? ''}>${r.name === r.nodeId ? shortId(r.name) : r.name}</span>
              ${r.name !== r.nodeId && r.nodeId !== null && html`<br/><small class="mono">${shortId(r.nodeId)}</small>`}</td>
            <td><span class=${`badge ${r.state.replace(' ', '-')}`} data-field="state">${r.state}</span></td>
            <td>${r.mode}</td>
            <td>${r.path}</td>
            <td>${lagText(r.lagIn)}</td>
            <td title=${r.lastSync ?? ''}>${ago(r.lastSync, now)}</td>
            <td>${r.sent === null ? '–' : bytes(r.sent)}</td>
            <td>${r.received === null ? '–' : bytes(r.received)}</td>
          </tr>
          ${r.error !== null && html`
            <tr key=${`${r.key}-error`} class="peer-error">
              <td colspan="8">
                <strong>${r.error.message}</strong>${r.error.code !== undefined && html` <code>${r.error.code}</code>`}
                <p class="advice">${adviceFor(r.error)}</p>
                ${(() => {
                  const line = logLineFor(r, log)
                  return line !== undefined && html`<pre class="logline">${line.at} ${line.level} ${line.message}${Object.entries(line.fields).map(([k, v]) => ` ${k}=${v}`).join('')}</pre>`
                })()}
              </td>
            </tr>`}`)}
      </tbody>
    </table>`
}
