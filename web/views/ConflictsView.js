/**
 * Conflicts the keep-both strategy listed (docs/SYNC.md, *Conflicts*): both values side by side,
 * and one click to keep either — the choice is written here as a new write and syncs to every
 * machine, where it settles the same conflict.
 */
import { html } from '../lib/html.js'
import { api } from '../lib/api.js'
import { jsonText, num, shortId, taggedText } from '../lib/format.js'
import { useLive } from '../lib/live.js'
import { useQuery } from '../lib/useQuery.js'
import { SYNCS } from '../components/Confirm.js'
import { failed, notice } from '../components/Notices.js'

/** A conflict's value as text: a note's value, a triple's object. @param {string} kind @param {any} v */
const valueOf = (kind, v) => (kind === 'note' ? jsonText(JSON.stringify(v?.value, null, 2), 2000) : `${v?.subject} ${v?.predicate} ${taggedText(v?.object)}`)
/** When and where a side was written. @param {any} v @param {string | undefined} self this node's id */
const stampOf = (v, self) => (v?.hlc === undefined
  ? ''
  : `written ${new Date(v.hlc.wall).toISOString().replace('T', ' ').slice(0, 19)} on ${v.hlc.node === self ? 'this node' : shortId(v.hlc.node)}`)

/**
 * What a side is: for a note, `kept` is the value that stayed current and `other` the one that
 * lost; for a triple, `kept` is this node's and `other` the peer's (docs/SYNC.md).
 * @param {any} c @param {'kept' | 'other'} side
 */
const sideTitle = (c, side) => (c.kind === 'note'
  ? (side === 'kept' ? 'Current value' : 'Value that lost')
  : (side === 'kept' ? 'This node\'s triple' : `${c.peer}'s triple`))

export function ConflictsView () {
  const list = useQuery(() => api('GET', '/api/v1/conflicts'), 'conflicts')
  const self = useLive().snapshot?.node?.nodeId

  /** @param {any} c @param {'kept' | 'other'} keep */
  const resolve = async (c, keep) => {
    try {
      await api('POST', `/api/v1/conflicts/${c.id}/resolve`, { keep })
      notice(`Kept the ${sideTitle(c, keep).toLowerCase()} of ${c.key}; the choice syncs to every machine.`)
      list.reload()
    } catch (e) { failed(e) }
  }

  if (list.error !== undefined) {
    return html`<p class="problem" role="alert">${list.error.code === 'UNAVAILABLE' ? 'Sync does not run on this node, so there are no conflicts.' : `${list.error.message} (${list.error.code})`}</p>`
  }
  const data = list.data
  if (data === undefined) return html`<p class="loading">Loading…</p>`
  if (data.total === 0) return html`<p class="muted empty">No conflicts. With sync.conflictStrategy keep-both, two values written on two machines at once are listed here.</p>`
  return html`
    <div class="conflicts-view">
      <p class="count">${num(data.total)} conflict${data.total === 1 ? '' : 's'}. ${SYNCS}</p>
      ${data.conflicts.map((/** @type {any} */ c) => html`
        <article class="conflict" key=${c.id} data-id=${c.id}>
          <header><span class="badge">${c.kind}</span> <strong class="mono">${c.key}</strong>
            <small>from ${c.peer}, ${c.detectedAt.replace('T', ' ').slice(0, 19)}</small></header>
          <div class="sides">
            ${(/** @type {const} */ (['kept', 'other'])).map(side => html`
              <section class=${`side ${side}`} aria-label=${sideTitle(c, side)}>
                <h3>${sideTitle(c, side)}</h3>
                <pre>${valueOf(c.kind, c[side])}</pre>
                <small>${stampOf(c[side], self)}</small>
                <button type="button" class="primary" onClick=${() => resolve(c, side)}>Keep this</button>
              </section>`)}
          </div>
        </article>`)}
    </div>`
}
