/**
 * The Prometheus text writer: the layout of a family, escaping of help text and label values,
 * the spelling of special values, and names the format does not allow refused.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeFamilies, formatValue } from '../../src/telemetry/prometheus.ts'

describe('encodeFamilies', () => {
  it('writes HELP, TYPE and one line per sample, suffixes and labels included', () => {
    const text = encodeFamilies([
      { name: 'engram_writes_total', type: 'counter', help: 'Writes.', samples: [{ labels: { kind: 'triple' }, value: 3 }, { labels: { kind: 'note' }, value: 0 }] },
      { name: 'x_seconds', type: 'summary', help: 'A summary.', samples: [{ labels: { quantile: '0.5' }, value: 0.25 }, { suffix: '_sum', value: 1.5 }, { suffix: '_count', value: 4 }] },
      { name: 'empty', type: 'gauge', help: 'No samples yet.', samples: [] }
    ])
    assert.equal(text, [
      '# HELP engram_writes_total Writes.', '# TYPE engram_writes_total counter',
      'engram_writes_total{kind="triple"} 3', 'engram_writes_total{kind="note"} 0',
      '# HELP x_seconds A summary.', '# TYPE x_seconds summary',
      'x_seconds{quantile="0.5"} 0.25', 'x_seconds_sum 1.5', 'x_seconds_count 4',
      '# HELP empty No samples yet.', '# TYPE empty gauge', ''
    ].join('\n'))
  })

  it('escapes backslashes and newlines in help, and quotes too in label values', () => {
    const text = encodeFamilies([{ name: 'g', type: 'gauge', help: 'a\\b\nc', samples: [{ labels: { peer: 'say "hi"\\\nbye' }, value: 1 }] }])
    assert.equal(text, '# HELP g a\\\\b\\nc\n# TYPE g gauge\ng{peer="say \\"hi\\"\\\\\\nbye"} 1\n')
  })

  it('spells NaN and infinities as the format does', () => {
    assert.deepEqual([NaN, Infinity, -Infinity, 1e21, -0.5].map(formatValue), ['NaN', '+Inf', '-Inf', '1e+21', '-0.5'])
  })

  it('refuses names the format does not allow, and a family listed twice', () => {
    const f = (name: string, label = 'ok'): void => { encodeFamilies([{ name, type: 'gauge', help: '', samples: [{ labels: { [label]: 'v' }, value: 1 }] }]) }
    assert.throws(() => f('9lives'), /metric name/)
    assert.throws(() => f('has-dash'), /metric name/)
    assert.throws(() => f('ok', 'bad-label'), /label name/)
    assert.throws(() => f('ok', '__reserved'), /label name/)
    assert.throws(() => encodeFamilies([{ name: 'a', type: 'gauge', help: '', samples: [] }, { name: 'a', type: 'gauge', help: '', samples: [] }]), /twice/)
  })
})
