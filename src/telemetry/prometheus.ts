/**
 * The Prometheus text exposition format (version 0.0.4), written from metric families. Pure.
 *
 *   # HELP engram_writes_total Records written on this node, by kind.
 *   # TYPE engram_writes_total counter
 *   engram_writes_total{kind="triple"} 1204
 *
 * Names and label names are checked against the format's grammar (a bad one is a bug here, so
 * it throws); label values and help text are escaped as the format requires (`\\`, `\"`, `\n`).
 * Values are written as JavaScript numbers, with `NaN`, `+Inf` and `-Inf` spelled as the format
 * spells them.
 */

export type MetricType = 'counter' | 'gauge' | 'summary' | 'histogram' | 'untyped'

export interface Sample {
  readonly labels?: Readonly<Record<string, string>>
  readonly value: number
  /** Appended to the family name: `_sum`, `_count`, `_bucket` for summaries and histograms. */
  readonly suffix?: string
}

export interface MetricFamily {
  readonly name: string
  readonly help: string
  readonly type: MetricType
  readonly samples: readonly Sample[]
}

/** The content type of the format, for the response header. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

export function formatValue (v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  return String(v)
}

const escapeHelp = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
const escapeLabel = (s: string): string => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')

function labelText (labels: Readonly<Record<string, string>> | undefined): string {
  if (labels === undefined) return ''
  const parts: string[] = []
  for (const [k, v] of Object.entries(labels)) {
    if (!LABEL_NAME.test(k) || k.startsWith('__')) throw new Error(`not a Prometheus label name: ${JSON.stringify(k)}`)
    parts.push(`${k}="${escapeLabel(v)}"`)
  }
  return parts.length === 0 ? '' : `{${parts.join(',')}}`
}

/** The families as one exposition text (each family once, in the order given). */
export function encodeFamilies (families: readonly MetricFamily[]): string {
  const seen = new Set<string>()
  let out = ''
  for (const f of families) {
    if (!METRIC_NAME.test(f.name)) throw new Error(`not a Prometheus metric name: ${JSON.stringify(f.name)}`)
    if (seen.has(f.name)) throw new Error(`metric family ${f.name} listed twice`)
    seen.add(f.name)
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`
    for (const s of f.samples) out += `${f.name}${s.suffix ?? ''}${labelText(s.labels)} ${formatValue(s.value)}\n`
  }
  return out
}
