/**
 * The engram of before signed records, for tests of mixed versions: the source of the last
 * commit without signatures, taken from the git history into a temporary directory (once per
 * machine: it is kept and reused), run from its TypeScript sources with this checkout's
 * node_modules. A test that needs it fails with a clear message when the git history is not
 * there (a shallow clone).
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The last commit whose nodes neither sign nor check signatures. */
export const PRE_SIGNING_COMMIT = '90f7d575dee73e4a6948e1251e2f203dbd7b6218'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** The CLI entry of the pre-signing version (its src/cli/main.ts), extracted on first use. */
export function oldVersionCli (): string {
  const dir = join(tmpdir(), `engram-${PRE_SIGNING_COMMIT.slice(0, 12)}`)
  const cli = join(dir, 'src', 'cli', 'main.ts')
  if (existsSync(cli)) return cli
  const staging = mkdtempSync(join(tmpdir(), 'engram-old-'))
  try {
    const r = spawnSync('sh', ['-c', `git -C "${ROOT}" archive --format=tar ${PRE_SIGNING_COMMIT} src package.json | tar -x -C "${staging}"`], { encoding: 'utf8' })
    if (r.status !== 0 || !existsSync(join(staging, 'src', 'cli', 'main.ts'))) {
      throw new Error(`cannot take engram ${PRE_SIGNING_COMMIT} from the git history (a full clone is needed for the mixed-version tests): ${r.stderr}`)
    }
    symlinkSync(join(ROOT, 'node_modules'), join(staging, 'node_modules'))
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
