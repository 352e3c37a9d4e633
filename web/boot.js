/**
 * The first module the page runs, before the views have loaded: takes the API token out of the
 * URL, if `engram ui` put one there, and opens the live status stream, so the node's first
 * snapshot is on its way while the rest of the page is still loading (app.js then renders).
 */
import { startLive } from './lib/live.js'
import { takeTokenFromUrl } from './lib/token.js'

takeTokenFromUrl()
startLive()
