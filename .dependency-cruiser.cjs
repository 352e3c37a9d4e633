/**
 * The layer rules of docs/ARCHITECTURE.md ("Dependency rules"), checked on every `npm test`
 * (`npm run depcheck`). Each rule names the layer it guards; a violation prints the rule's
 * comment, the importing file and the imported one. Change a rule only together with
 * ARCHITECTURE.md.
 */
const IO_MODULES = '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|tls|dns|dns/promises|child_process|cluster|worker_threads|sqlite|timers|timers/promises)$'
const NETWORK_LIBRARIES = '^(@libp2p/|libp2p$|@chainsafe/|@multiformats/|fastify|bonjour-service|@modelcontextprotocol/|node_modules/(@libp2p|libp2p|@chainsafe|@multiformats|fastify|bonjour-service|@modelcontextprotocol))'
const ABOVE_SYNC = '^src/(api|cli|mcp|client|node)/'

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'No import cycle between files (ARCHITECTURE.md: layers depend only downwards).',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true }
    },
    {
      name: 'core-is-pure',
      comment: 'core/ imports nothing but core/ and pure libraries: no other layer, no I/O.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' }
    },
    {
      name: 'core-no-io',
      comment: 'core/ does no I/O: no file system, network, timers or processes.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core'], path: IO_MODULES }
    },
    {
      name: 'protocol-is-pure',
      comment: 'protocol/ (the wire pieces) imports only core/, protocol/ and the Store interface: no transport, store adapter, engine, sync or API.',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { path: '^src/', pathNot: ['^src/(core|protocol)/', '^src/store/Store\\.ts$'] }
    },
    {
      name: 'protocol-no-io',
      comment: 'protocol/ reads and writes values and bytes, never sockets, HTTP, files or timers.',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { dependencyTypes: ['core'], path: IO_MODULES }
    },
    {
      name: 'replication-is-carrier-free',
      comment: 'replication/ (the rules of replicating one peer\'s feed) uses core/, protocol/, the Store and Engine interfaces and config types: no carrier, transport, store adapter or API.',
      severity: 'error',
      from: { path: '^src/replication/' },
      to: { path: '^src/', pathNot: ['^src/(core|protocol|replication|engine)/', '^src/store/Store\\.ts$', '^src/config/schema\\.ts$'] }
    },
    {
      name: 'replication-no-io',
      comment: 'replication/ never touches sockets, HTTP, files or timers.',
      severity: 'error',
      from: { path: '^src/replication/' },
      to: { dependencyTypes: ['core'], path: IO_MODULES }
    },
    {
      name: 'text-is-pure',
      comment: 'text/ (the rules of full-text search: tokens, documents, the query language, ranking, snippets) imports only core/ and itself.',
      severity: 'error',
      from: { path: '^src/text/' },
      to: { path: '^src/', pathNot: '^src/(core|text)/' }
    },
    {
      name: 'text-no-io',
      comment: 'text/ is pure functions: no file system, network, timers or processes.',
      severity: 'error',
      from: { path: '^src/text/' },
      to: { dependencyTypes: ['core'], path: IO_MODULES }
    },
    {
      name: 'pure-rooms-no-network-libraries',
      comment: 'core/, protocol/, replication/, text/ and peers/ use no network, HTTP or discovery library.',
      severity: 'error',
      from: { path: '^src/(core|protocol|replication|text|peers)/' },
      to: { path: NETWORK_LIBRARIES }
    },
    {
      name: 'peers-is-a-registry',
      comment: 'peers/ (the peer registry) keeps peer lists over the Store interface with core/ rules: no carrier, discovery, transport, store adapter or API.',
      severity: 'error',
      from: { path: '^src/peers/' },
      to: { path: '^src/', pathNot: ['^src/(core|peers)/', '^src/store/Store\\.ts$'] }
    },
    {
      name: 'peers-no-io',
      comment: 'peers/ never touches sockets, HTTP, files or timers itself (the store keeps its lists).',
      severity: 'error',
      from: { path: '^src/peers/' },
      to: { dependencyTypes: ['core'], path: IO_MODULES }
    },
    {
      name: 'engine-knows-the-store-interface',
      comment: 'engine/ uses the Store interface, never a store adapter, and nothing above it.',
      severity: 'error',
      from: { path: '^src/engine/' },
      to: { path: '^src/', pathNot: ['^src/(core|engine|util)/', '^src/store/Store\\.ts$'] }
    },
    {
      name: 'store-below-engine',
      comment: 'store/ imports only core/, util/, the text rules (text/) and itself.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/', pathNot: '^src/(core|store|text|util)/' }
    },
    {
      name: 'search-knows-the-store-interface',
      comment: 'search/ uses the Store interface (with its search types, textSearch.ts) and the text rules: no store adapter, engine, sync, API or composition root (node/ wires it).',
      severity: 'error',
      from: { path: '^src/search/' },
      to: { path: '^src/', pathNot: ['^src/(core|search|text|util)/', '^src/store/(Store|textSearch)\\.ts$'] }
    },
    {
      name: 'transport-is-generic',
      comment: 'transport/ carries frames: it knows nothing of records, sync or the API.',
      severity: 'error',
      from: { path: '^src/transport/' },
      to: { path: '^src/', pathNot: '^src/(core|transport|util)/' }
    },
    {
      name: 'carriers-use-the-shared-rules',
      comment: 'sync/ (the carriers) sits below the API, the clients and the composition root.',
      severity: 'error',
      from: { path: '^src/(sync|discovery|peers|tls|config|util)/' },
      to: { path: ABOVE_SYNC }
    },
    {
      name: 'carriers-are-separate',
      comment: 'the polled and the native carrier do not import each other; what they share lives in replication/ or protocol/.',
      severity: 'error',
      from: { path: '^src/sync/(polled|native|mailbox)/' },
      to: { path: '^src/sync/', pathNot: ['^src/sync/$1/'] }
    },
    {
      name: 'sync-knows-interfaces',
      comment: 'sync/ knows the Store and Transport interfaces, never an adapter (only node/ names them).',
      severity: 'error',
      from: { path: '^src/(sync|replication|protocol|discovery|api|engine)/' },
      to: { path: '^src/(store/(sqlite|memory)|transport/(libp2p|memory))/' }
    },
    {
      name: 'nothing-imports-the-top',
      comment: 'nothing imports api/, cli/, mcp/ or node/ from below; clients (client/, mcp/) may import only the REST contract of api/ (dto.ts, contract.ts).',
      severity: 'error',
      from: { path: '^src/(client|mcp)/' },
      to: { path: '^src/(cli|node)/|^src/api/(?!dto\\.ts$|contract\\.ts$)' }
    },
    {
      name: 'api-below-cli',
      comment: 'api/ is built by node/ and called by clients over HTTP: it imports no client, CLI or composition root.',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: '^src/(cli|mcp|client|node)/' }
    },
    {
      name: 'node-below-cli',
      comment: 'node/ (the composition root) is built by cli/ and embedders: it imports no CLI, MCP server or client.',
      severity: 'error',
      from: { path: '^src/node/' },
      to: { path: '^src/(cli|mcp|client)/' }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
    reporterOptions: { text: { highlightFocused: true } }
  }
}
