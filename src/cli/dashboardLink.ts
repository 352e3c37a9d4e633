/**
 * The address `engram ui` opens. A daemon on this machine has an API token (needed under
 * `api.requireToken`); the page gets it in the URL's fragment, `/#token=<token>`, which a browser
 * never sends over the network, and moves it at once to the tab's sessionStorage and out of the
 * address bar (web/lib/token.js).
 *
 * That URL is never put on a command line, where every user of the machine can read it (any
 * process's arguments are public): the browser is given a file in the data directory instead,
 * `<dataDir>/dashboard.html` (mode 0600, like the token file), which sends it on to the URL.
 */
import { renameSync, writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { randomBytes } from 'node:crypto'
import { dataPaths } from '../node/paths.ts'

export interface DashboardLink {
  /** The dashboard's address, with the token in its fragment when there is one. */
  readonly url: string
  /** What to hand the browser: the URL itself, or a file URL of the page that leads to it. */
  readonly open: string
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`)

/** The link to the dashboard at `apiUrl`; with a token, writes the page that leads to it in `dataDir`. */
export function dashboardLink (apiUrl: string, token?: string, dataDir?: string): DashboardLink {
  const page = new URL('/', apiUrl).href
  if (token === undefined || dataDir === undefined) return { url: page, open: page }
  const url = `${page}#token=${encodeURIComponent(token)}`
  const file = dataPaths(dataDir).dashboardLink
  const u = escapeHtml(url)
  const html = '<!doctype html>\n<meta charset="utf-8">\n<meta name="referrer" content="no-referrer">\n' +
    `<meta http-equiv="refresh" content="0;url=${u}">\n<title>engram</title>\n` +
    `<p><a href="${u}">Open the engram dashboard</a></p>\n`
  // a new file of mode 0600 replaces the old one whole, whatever the old one's mode was
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
  writeFileSync(tmp, html, { mode: 0o600, flag: 'wx' })
  renameSync(tmp, file)
  return { url, open: pathToFileURL(file).href }
}
