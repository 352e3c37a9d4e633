/**
 * The mesh benchmark's cluster (bench/meshCluster.ts) starts every daemon in a data dir of its
 * own: a dir that exists (another run's: its records and its peers, long gone) is refused before
 * any daemon starts. Two runs once shared their dirs, so the second began with the first's records
 * (every wait met at once) and dialled the first's ports (failures counted against it).
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { MeshCluster } from '../../bench/meshCluster.ts'

describe('mesh benchmark cluster', () => {
  it('refuses a data dir that exists, before any daemon starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-mesh-cluster-'))
    try {
      mkdirSync(join(dir, 'mesh-1-0'))
      const outcome = await MeshCluster.start(1, dir, {}, 60_000).then(
        async cluster => { await cluster.stop(); return 'started' },
        (e: NodeJS.ErrnoException) => e.code)
      assert.equal(outcome, 'EEXIST')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('makes the dir it is given when it does not exist yet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engram-mesh-cluster-'))
    try {
      const cluster = await MeshCluster.start(1, join(dir, 'mesh_1_routes'), {}, 60_000)
      try {
        const [stats] = await cluster.stats()
        assert.equal(stats!.records, 0)
      } finally {
        await cluster.stop()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
