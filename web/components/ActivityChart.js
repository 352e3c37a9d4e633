/**
 * Writes on this node and changes received from peers, per second, over the node's activity
 * window (five minutes), as a small SVG chart. The right edge is now: while any second of the
 * window had activity the chart moves once a second; once the window is all quiet it stops
 * (nothing runs in an idle page).
 */
import { useEffect, useState } from 'preact/hooks'
import { html } from '../lib/html.js'
import { num } from '../lib/format.js'

const W = 600
const H = 120

/**
 * @param {{ points: Map<number, [number, number, number]>, windowSeconds: number, skewMs: number }} props
 */
export function ActivityChart ({ points, windowSeconds, skewMs }) {
  const [, tick] = useState(0)
  // The node's clock may differ from the browser's: the chart runs on the node's time.
  const nowSecond = Math.floor((Date.now() + skewMs) / 1000)
  const start = nowSecond - windowSeconds + 1
  const visible = [...points.values()].filter(p => p[0] >= start).sort((a, b) => a[0] - b[0])
  const active = visible.length > 0
  useEffect(() => {
    if (!active) return
    const t = setInterval(() => tick(n => n + 1), 1000)
    return () => clearInterval(t)
  }, [active])

  const max = Math.max(1, ...visible.map(p => Math.max(p[1], p[2])))
  const x = (/** @type {number} */ s) => ((s - start) / windowSeconds) * W
  const y = (/** @type {number} */ v) => H - (v / max) * (H - 8)
  /** @param {1 | 2} i */
  const line = (i) => {
    let d = `M0,${H}`
    let prev = start - 1
    for (const p of visible) {
      if (p[0] > prev + 1) d += ` L${x(prev + 1)},${H} L${x(p[0])},${H}`
      d += ` L${x(p[0])},${y(p[i])} L${x(p[0] + 1)},${y(p[i])}`
      prev = p[0]
    }
    return `${d} L${x(Math.min(prev + 1, nowSecond + 1))},${H} L${W},${H}`
  }
  const totalW = visible.reduce((n, p) => n + p[1], 0)
  const totalR = visible.reduce((n, p) => n + p[2], 0)
  return html`
    <figure class="chart">
      <svg viewBox=${`0 0 ${W} ${H}`} preserveAspectRatio="none" role="img"
        aria-label=${`records per second over the last ${windowSeconds / 60} minutes: ${num(totalW)} written here, ${num(totalR)} received`}>
        <path class="received" d=${line(2)} />
        <path class="writes" d=${line(1)} />
      </svg>
      <figcaption>
        <span class="key writes">written here</span> ${num(totalW)}
        <span class="key received">received</span> ${num(totalR)}
        <span class="axis">peak ${num(max)}/s · last ${windowSeconds / 60} min</span>
      </figcaption>
    </figure>`
}
