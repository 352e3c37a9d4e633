/**
 * What the chaos reproductions (test/chaos/*.test.ts) share: why they cannot run on this machine
 * (said once on stderr), and a cluster made before a file's tests and destroyed after them,
 * whatever happened, its daemons' logs in a temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { cannotRun } from '../netns/Lab.ts'
import { Cluster, faketimeLib, type ClusterNode, type ClusterOptions } from './Cluster.ts'

/** Why the chaos tests cannot run here (not root, no network namespaces or nftables, no libfaketime), or undefined. */
export function chaosSkip (file: string): string | undefined {
  const skip = cannotRun(true) ?? (faketimeLib() === undefined ? 'libfaketime is not installed (apt-get install libfaketime)' : undefined)
  if (skip !== undefined) process.stderr.write(`${file} does not run here: ${skip}\n`)
  return skip
}

export interface ClusterFixture {
  /** The cluster (made before the tests). */
  readonly cluster: () => Cluster
  /** The directory of the daemons' logs (`<name>.log`). */
  readonly logDir: () => string
  readonly node: (name: string) => ClusterNode
  readonly tripleOn: (x: ClusterNode, id: string) => Promise<boolean>
  /** A note's value on a node (undefined: absent or deleted). */
  readonly noteValue: (x: ClusterNode, key: string) => Promise<unknown>
}

/** Registers before/after hooks (call it inside a describe block): a cluster, all started unless `start` is false. */
export function clusterFixture (prefix: string, opts: Omit<ClusterOptions, 'logDir'>, start = true): ClusterFixture {
  let made: Cluster | undefined
  let logs: string | undefined
  before(async () => {
    logs = mkdtempSync(join(tmpdir(), `engram-${prefix}-`))
    made = new Cluster({ ...opts, logDir: logs })
    if (start) await made.startAll()
  })
  after(async () => {
    await made?.destroy()
    if (logs !== undefined) rmSync(logs, { recursive: true, force: true })
  })
  const cluster = (): Cluster => {
    if (made === undefined) throw new Error('the cluster is made before the tests run')
    return made
  }
  return {
    cluster,
    logDir: () => {
      if (logs === undefined) throw new Error('the cluster is made before the tests run')
      return logs
    },
    node: name => cluster().node(name),
    tripleOn: async (x, id) => await cluster().hasTriple(x, id),
    noteValue: async (x, key) => await cluster().noteValue(x, key)
  }
}
