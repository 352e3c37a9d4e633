/** `engram ui`: opens the running node's dashboard in the browser (docs/UI.md). */
import { CLIENT_OPTIONS, CLIENT_OPTIONS_HELP } from '../args.ts'
import type { Command } from '../command.ts'
import { ApiClient } from '../../client/ApiClient.ts'
import { resolveTarget } from '../connect.ts'
import { EXIT } from '../exit.ts'
import { printJson } from '../io.ts'
import { openBrowser } from '../openBrowser.ts'
import { dashboardLink } from '../dashboardLink.ts'

export const uiCommand: Command = {
  name: 'ui',
  summary: 'open the dashboard of the running node in the browser',
  help: `Usage: engram ui [--no-open]

Opens the dashboard the running node serves at its API's address (http://127.0.0.1:19090/ by
default): sync at a glance, live, and memory to browse, search, edit and resolve. The page is
served to programs on this machine only. It is opened with $BROWSER when set, else the system's
browser; without a display (or with --no-open) the URL is printed for you to open.
The URL carries the node's API token in its fragment (#token=...: never sent over the network;
the page takes it out of the address bar). The browser is handed <dataDir>/dashboard.html, which
leads there, so the token never appears in a command line other users could read.

Options:
  --no-open          print the URL, open nothing
${CLIENT_OPTIONS_HELP}

Examples:
  engram ui
  engram ui --no-open
  engram ui --data-dir /tmp/engram-b
  BROWSER=firefox engram ui
`,
  options: { ...CLIENT_OPTIONS, 'no-open': { type: 'boolean' } },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const target = resolveTarget(values, io)
    // The node must answer: a dashboard of nothing helps no one (exit 3 says how to start it).
    await new ApiClient(target.url, { tls: target.tls, token: target.token }).health()
    const link = dashboardLink(target.url, target.token, target.dataDir)
    const url = link.url
    const result = values['no-open'] === true ? { opened: false, reason: '--no-open' } : await openBrowser(link.open, io.env)
    if (values.json === true) {
      printJson(io, { url, ...result })
      return EXIT.ok
    }
    io.out(`${url}\n`)
    if (result.opened) io.err('opened the dashboard in the browser\n')
    else if (result.reason !== '--no-open') io.err(`open the URL above in a browser (${result.reason ?? 'no browser'})\n`)
    return EXIT.ok
  }
}
