/**
 * docs/CONFIGURATION.md, rendered from the schema. scripts/config-doc.ts writes it; a test
 * checks that the committed file equals this rendering, so the doc cannot fall behind the code.
 */
import { envNameOf } from './envNames.ts'
import { CONFIG_KEYS, SCHEMA, type ConfigKey } from './schema.ts'
import { allowedText } from './values.ts'

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function defaultText (key: ConfigKey): string {
  const spec = SCHEMA[key]
  if (spec.docDefault !== undefined) return spec.docDefault
  if (spec.default === undefined) return 'unset'
  return '`' + JSON.stringify(spec.default) + '`'
}

function sectionOf (key: ConfigKey): string {
  const i = key.indexOf('.')
  return i < 0 ? key : key.slice(0, i)
}

const SECTION_TITLES: Record<string, string> = {
  api: 'api: the REST API',
  dataDir: 'dataDir: where the node keeps its files',
  log: 'log',
  hlc: 'hlc: the hybrid logical clock',
  store: 'store',
  p2p: 'p2p: native sync (QUIC gossip)',
  sync: 'sync: sync engines, conflicts, tombstones, passphrase and static peers',
  discovery: 'discovery: finding peers',
  tls: 'tls: mutual TLS for sync'
}

export function renderConfigDoc (): string {
  const sections: string[] = []
  for (const key of CONFIG_KEYS) {
    const s = sectionOf(key)
    if (!sections.includes(s)) sections.push(s)
  }
  const tables = sections.map(section => {
    const rows = CONFIG_KEYS.filter(k => sectionOf(k) === section).map(key => {
      const spec = SCHEMA[key]
      const vars = ['`' + envNameOf(key) + '`', ...(spec.flag !== undefined ? ['`' + spec.flag + '`'] : [])].join('<br>')
      const allowed = spec.type === 'enum' ? (spec.values ?? []).map(v => '`' + v + '`').join(', ') : cell(allowedText(spec))
      return `| \`${key}\` | ${defaultText(key)} | ${allowed} | ${vars} | ${cell(spec.description)}${spec.secret === true ? ' *Secret: never printed.*' : ''} |`
    })
    return `## ${SECTION_TITLES[section] ?? section}

| Key | Default | Allowed | Environment / flag | Meaning |
|---|---|---|---|---|
${rows.join('\n')}
`
  })
  return `# Configuration

<!-- Generated from src/config/schema.ts by \`node scripts/config-doc.ts\`; do not edit by hand.
     test/config/doc.test.ts fails when this file is out of date. -->

engram starts with no configuration at all. Every setting below has a default, and can be set
in a JSON5 file, in an environment variable, or (for a few) by a flag of \`engram start\`.

## Where values come from

Precedence, lowest first: **default < file < environment < flags**. \`engram config print\` shows
the effective value of every key and where it came from (\`default\`, \`file:<path>\`,
\`env:<VARIABLE>\`, \`flag:--x\`); it needs no running daemon.

- **File**: the one named by \`--config FILE\`, else by \`ENGRAM_CONFIG\`, else
  \`$XDG_CONFIG_HOME/engram/config.json5\` (\`~/.config/engram/config.json5\`) when it exists.
  It is [JSON5](https://json5.org) with one object per section; relative paths in it are relative
  to the file's directory:

  \`\`\`json5
  {
    api: { port: 19090 },
    p2p: { enabled: true, seed: "pxq43I5-VkpQyUxNktffx2LzWJXAU6S1", manualPeers: ["10.0.0.5:19091"] },
    sync: { intervalSeconds: 60, conflictStrategy: "last-writer-wins" },
  }
  \`\`\`

- **Environment**: \`ENGRAM_\` followed by the key path in upper snake case
  (\`sync.intervalSeconds\` → \`ENGRAM_SYNC_INTERVAL_SECONDS\`), except where the tables say
  otherwise. Booleans are \`true\`, \`false\`, \`1\` or \`0\`; lists are comma-separated
  (\`ENGRAM_SYNC_PEERS=192.168.1.10:19091,192.168.1.11:19091\`); an empty value unsets an optional key.
  \`ENGRAM_CONFIG\` (the file) and \`ENGRAM_URL\` (the daemon the CLI talks to) are the only other
  \`ENGRAM_*\` variables, besides three test hooks read by \`engram start\` (never set them otherwise):
  \`ENGRAM_TEST_CLOCK_OFFSET_MS\`, milliseconds added to the daemon's wall clock (tests use it to run
  a node whose clock is off), \`ENGRAM_TEST_P2P_GOSSIP_ONLY=1\`, native P2P sync by gossip rounds
  alone, without cursor streams or live push (tests use it to measure the anti-entropy backstop), and
  \`ENGRAM_TEST_P2P_FAILED_HANDSHAKES\`, how many failed P2P handshakes one address may make at once
  (default 10; tests that fail many on purpose from one address raise it).
- **Flags** of \`engram start\` and \`engram config print\`: \`--data-dir\`, \`--port\`, \`--host\`,
  \`--log-level\`.

## Changing the configuration of a running node

The daemon watches its configuration file (the one it read, or the default location). When the
file changes it is read again with the same environment and flags: the \`sync.*\` settings that
can change at run time take effect at once (\`sync.intervalSeconds\`, \`sync.autoSync\`,
\`sync.conflictStrategy\`, \`sync.maxTriplesPerSync\`, \`sync.syncTimeoutMs\`,
\`sync.nativeP2pPreferred\`, \`sync.singleValuedPredicates\`, \`sync.passphrase\`,
\`sync.retryBaseMs\`), each change is logged, and with \`sync.autoSync\` a sync starts. Other keys
are logged as needing a restart. A file that does not parse or does not validate is logged and
ignored: the node keeps the configuration it has.

## Errors

An unknown key (in the file or as an \`ENGRAM_*\` variable), a value of the wrong type or out of
range stops \`engram start\` (exit code 78) with one line naming the key, the value, its source and
what is allowed, and the nearest known key when the name looks misspelt:

\`\`\`
engram: config sync.intervalSeconds = "5" (from env:ENGRAM_SYNC_INTERVAL_SECONDS): must be an integer from 10 to 86400 (CONFIG_INVALID)
engram: config p2p.enable = true (from file:/home/me/.config/engram/config.json5): unknown key; did you mean p2p.enabled? (CONFIG_INVALID)
\`\`\`

Some keys depend on each other; these are checked when a node starts: \`p2p.enabled\` needs
\`p2p.seed\`, \`tls.cert\`, \`tls.key\` and \`tls.ca\` go together, and \`tls.requireClientCert\` needs
them. With TLS on the REST API serves HTTPS and peer URLs are \`https://\`; see [TLS.md](TLS.md).

${tables.join('\n')}`
}
