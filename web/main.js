/**
 * The page's one module: `npm run build` (scripts/build-web.ts) bundles it, with everything it
 * imports and the libraries, into the single file the node serves. boot.js runs first (the
 * token taken out of the URL, the live stream opened), then app.js renders the page.
 */
import './boot.js'
import './app.js'
