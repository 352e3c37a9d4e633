/**
 * The engram of before signed records, for tests of mixed versions: the source of a commit
 * without signatures, taken from the git history into a temporary directory (once per machine:
 * it is kept and reused), run from its TypeScript sources with this checkout's node_modules.
 * Two such versions matter: the last one whose native handshake is version 1 alone, and the last
 * one without signatures, whose handshake is version 2 (the PAKE). A test that needs one fails
 * with a clear message when the git history is not there (a shallow clone).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Commits whose nodes neither sign nor check signatures, by the native handshake they speak. */
export const PRE_SIGNING_COMMITS = {
  /** Handshake version 1 only (keyed proofs). */
  handshakeV1: '90f7d575dee73e4a6948e1251e2f203dbd7b6218',
  /**
   * The last commit without signatures: handshake versions 1 and 2 (the PAKE), with the work
   * across time (knowledge vectors, held records, clock voids; store schema version 3).
   */
  handshakeV2: 'd4624032d8979507ce62c7d169a459c1204e66fc'
} as const

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MODULES = join(ROOT, 'node_modules')

/**
 * Points a kept extraction's node_modules at this checkout's: the checkout that extracted it
 * first may be gone (another clone or worktree since removed), leaving a link to nothing.
 */
function linkModules (dir: string): void {
  const link = join(dir, 'node_modules')
  let target: string | undefined
  try { target = readlinkSync(link) } catch { target = undefined }
  if (target === MODULES) return
  const fresh = `${link}.${process.pid}`
  rmSync(fresh, { force: true })
  symlinkSync(MODULES, fresh)
  renameSync(fresh, link)
}

/** The CLI entry of a pre-signing version (its src/cli/main.ts), extracted on first use. */
export function oldVersionCli (version: keyof typeof PRE_SIGNING_COMMITS): string {
  const commit = PRE_SIGNING_COMMITS[version]
  const dir = join(tmpdir(), `engram-${commit.slice(0, 12)}`)
  const cli = join(dir, 'src', 'cli', 'main.ts')
  if (existsSync(cli)) {
    linkModules(dir)
    return cli
  }
  const staging = mkdtempSync(join(tmpdir(), 'engram-old-'))
  try {
    const r = spawnSync('sh', ['-c', `git -C "${ROOT}" archive --format=tar ${commit} src package.json | tar -x -C "${staging}"`], { encoding: 'utf8' })
    if (r.status !== 0 || !existsSync(join(staging, 'src', 'cli', 'main.ts'))) {
      throw new Error(`cannot take engram ${commit} from the git history (a full clone is needed for the mixed-version tests): ${r.stderr}`)
    }
    symlinkSync(MODULES, join(staging, 'node_modules'))
    try {
      renameSync(staging, dir)
    } catch (e) {
      // Another test extracted it at the same time: use that one.
      if (!existsSync(cli)) throw e
    }
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
  return cli
}
