/** docs/CONFIGURATION.md is generated from the schema and must be up to date. */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { renderConfigDoc } from '../../src/config/doc.ts'
import { envNameOf } from '../../src/config/envNames.ts'
import { CONFIG_KEYS } from '../../src/config/schema.ts'

const DOC = new URL('../../docs/CONFIGURATION.md', import.meta.url)

describe('docs/CONFIGURATION.md', () => {
  it('is the current rendering of the schema (regenerate with: node scripts/config-doc.ts)', () => {
    assert.equal(readFileSync(DOC, 'utf8'), renderConfigDoc())
  })

  it('documents every key with its environment variable', () => {
    const doc = renderConfigDoc()
    for (const k of CONFIG_KEYS) {
      assert.ok(doc.includes(`| \`${k}\` |`), `row for ${k}`)
      assert.ok(doc.includes(`\`${envNameOf(k)}\``), `variable of ${k}`)
    }
  })
})
