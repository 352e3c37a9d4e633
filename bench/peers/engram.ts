/**
 * An engram node as a benchmark peer (bench/peers/protocol.ts), run the way `engram start` runs
 * one: in a process with the daemon's V8 flags (src/cli/launch.ts DAEMON_V8_FLAGS: the benches
 * give them on the command line, as the executable's `#!` line does; without them the process is
 * replaced as src/cli/main.ts does), with the executable's compile cache (src/cli/compileCache.ts),
 * then the node (bench/peers/engramNode.ts).
 *
 *   node bench/peers/engram.ts DATA_DIR P2P_PORT [CONFIG_JSON]
 *
 * CONFIG_JSON: more configuration over the defaults, e.g. {"p2p.eagerRoutes":true}.
 */
import { enableCompileCache } from '../../src/cli/compileCache.ts'
import { execWithDaemonFlags } from '../../src/cli/launch.ts'

execWithDaemonFlags()
enableCompileCache()
await import('./engramNode.ts')
