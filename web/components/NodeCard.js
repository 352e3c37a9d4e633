/**
 * This node at a glance: its id, how it syncs and why, what its store holds, how big it is.
 */
import { html } from '../lib/html.js'
import { ago, bytes, num } from '../lib/format.js'

/** "1 note", "2 notes". @param {number} n @param {string} what */
const count = (n, what) => `${num(n)} ${what}${n === 1 ? '' : 's'}`

/** @param {{ snapshot: any, now: number }} props */
export function NodeCard ({ snapshot, now }) {
  const node = snapshot.node ?? {}
  const sync = snapshot.sync
  const stats = node.store?.stats
  const mode = sync === null ? 'none' : sync?.mode ?? '?'
  return html`
    <section class="card node" aria-label="this node">
      <h2>This node</h2>
      <dl>
        <dt>Node id</dt><dd class="mono" data-field="node-id">${node.nodeId ?? '?'}</dd>
        <dt>Sync</dt>
        <dd><span class=${`mode ${mode}`} data-field="mode">${mode}</span> <small>${sync === null ? 'sync is not running on this node' : sync?.reason ?? sync?.error ?? ''}</small></dd>
        <dt>Store</dt>
        <dd>
          ${node.store?.status === 'ok' ? '' : html`<strong class="bad">${node.store?.status ?? node.error ?? 'unavailable'} </strong>`}
          ${stats === undefined
            ? node.store?.detail ?? ''
            : html`<span data-field="counts">${count(stats.triples, 'triple')}, ${count(stats.notes, 'note')}, ${count(stats.episodes, 'episode')}, ${count(stats.traces, 'trace')}</span>
              <small> · ${num(stats.tripleTombstones + stats.noteTombstones)} tombstones · feed at ${num(stats.lastSeq)}</small>`}
        </dd>
        <dt>Size</dt><dd data-field="size">${bytes(node.store?.sizeBytes)} <small class="mono">${node.store?.path ?? ''}</small></dd>
        <dt>Version</dt><dd>${node.version ?? '?'} <small>started ${ago(node.startedAt, now)}</small></dd>
      </dl>
    </section>`
}
