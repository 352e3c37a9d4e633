/**
 * Opening a URL in the user's browser, for `engram ui`: the command in `$BROWSER` when set (as
 * xdg-open and most tools honour it), else the system's opener (`open` on macOS, `start` on
 * Windows, `xdg-open` elsewhere, when a display is there). The browser runs on its own: this
 * waits only until the opener has started (or failed to), never for the browser to close.
 */
import { spawn } from 'node:child_process'
import type { Env } from '../util/xdg.ts'

export interface Opened {
  readonly opened: boolean
  /** Why not, when it was not opened (for a message). */
  readonly reason?: string
}

/** The command that opens a URL here, or the reason there is none. */
export function browserCommand (env: Env, platform: NodeJS.Platform = process.platform): { cmd: string, args: string[] } | { reason: string } {
  const browser = env.BROWSER?.trim()
  if (browser !== undefined && browser !== '') {
    const [cmd, ...args] = browser.split(/\s+/)
    return { cmd: cmd!, args }
  }
  if (platform === 'darwin') return { cmd: 'open', args: [] }
  if (platform === 'win32') return { cmd: 'cmd', args: ['/c', 'start', '""'] }
  if ((env.DISPLAY ?? '') === '' && (env.WAYLAND_DISPLAY ?? '') === '') return { reason: 'no display here (DISPLAY and WAYLAND_DISPLAY are unset)' }
  return { cmd: 'xdg-open', args: [] }
}

export function openBrowser (url: string, env: Env, platform: NodeJS.Platform = process.platform): Promise<Opened> {
  const how = browserCommand(env, platform)
  if ('reason' in how) return Promise.resolve({ opened: false, reason: how.reason })
  return new Promise(resolve => {
    const child = spawn(how.cmd, [...how.args, url], { detached: true, stdio: 'ignore', env: env as NodeJS.ProcessEnv })
    child.once('error', e => resolve({ opened: false, reason: `${how.cmd} failed: ${e.message}` }))
    child.once('spawn', () => {
      child.unref()
      resolve({ opened: true })
    })
  })
}
