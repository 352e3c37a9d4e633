import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'
import { bundledNode, supportedRuntime } from '../../src/cli/launch.ts'

describe('launcher', () => {
  it('knows which runtimes are supported', () => {
    assert.equal(supportedRuntime('20.20.2'), false)
    assert.equal(supportedRuntime('24.0.0'), true)
    assert.equal(supportedRuntime('25.1.0'), true)
    assert.equal(supportedRuntime(process.versions.node), true)
  })

  it('finds the Node 24 installed with the project', () => {
    const node = bundledNode()
    assert.ok(node !== undefined && existsSync(node), `expected node_modules/node/bin/node, got ${String(node)}`)
  })
})
