/**
 * `engram tls init` (a CA) and `engram tls issue NAME` (a peer key and certificate signed by
 * it, bound to a node id): the certificates of sync TLS, without openssl (src/tls/).
 */
import { X509Certificate } from 'node:crypto'
import { mkdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadConfig } from '../../config/load.ts'
import { ABSENT } from '../../core/errors.ts'
import { ensureDataDir } from '../../node/paths.ts'
import { CA_YEARS, PEER_DAYS, checkName, createCa, issuePeer } from '../../tls/certificates.ts'
import { CA_CERT_FILE, CA_KEY_FILE, defaultTlsDir, writeNewFile } from '../../tls/files.ts'
import { COMMON_OPTIONS, intOption, str } from '../args.ts'
import type { Command } from '../command.ts'
import { EXIT, USAGE } from '../exit.ts'
import { printJson, type CliIo } from '../io.ts'

const DIR_HELP = `  --dir DIR          where the CA lives (default: $XDG_CONFIG_HOME/engram/tls,
                     else ~/.config/engram/tls)`

function tlsDir (values: Record<string, unknown>, io: CliIo): string {
  const d = typeof values.dir === 'string' ? values.dir : undefined
  return d !== undefined ? resolve(io.cwd, d) : defaultTlsDir(io.env)
}

export const tlsInitCommand: Command = {
  name: 'tls init',
  summary: 'create the certificate authority (CA) of your nodes',
  help: `Usage: engram tls init [--dir DIR] [--json]

Creates a certificate authority for sync TLS: ca.crt (the CA certificate, for every machine)
and ca.key (its private key, mode 0600: keep it on this machine only; whoever holds it can
issue certificates your nodes accept). ECDSA P-256, valid ${CA_YEARS} years. Existing files are never
overwritten. Then issue each machine a certificate with engram tls issue.

Options:
${DIR_HELP}
  --json             print {dir, caCert, caKey, notAfter}
  -h, --help         this help

Examples:
  engram tls init
  engram tls init --dir ./engram-tls

More: docs/TLS.md.
`,
  options: { ...COMMON_OPTIONS, dir: { type: 'string' }, json: { type: 'boolean' } },
  positionals: { min: 0, max: 0 },
  async run ({ values }, io) {
    const dir = tlsDir(values, io)
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    const ca = await createCa()
    const caKey = join(dir, CA_KEY_FILE)
    const caCert = join(dir, CA_CERT_FILE)
    writeNewFile(caKey, ca.keyPem, 0o600)
    writeNewFile(caCert, ca.certPem, 0o644)
    const notAfter = new X509Certificate(ca.certPem).validToDate
    if (values.json === true) {
      printJson(io, { dir, caCert, caKey, notAfter: notAfter.toISOString() })
      return EXIT.ok
    }
    io.out(`created a CA in ${dir}
  ${caCert}  the CA certificate: copy it to every machine (tls.ca, ENGRAM_SYNC_TLS_CA)
  ${caKey}  its key: keep it here only; whoever holds it can issue certificates your nodes accept
Next, for each machine: engram tls issue NAME --node-id <its node id> --host <its address>
`)
    return EXIT.ok
  }
}

export const tlsIssueCommand: Command = {
  name: 'tls issue',
  summary: 'issue a machine its key and certificate, signed by the CA',
  help: `Usage: engram tls issue NAME [--node-id ID] [--host H]… [--days N] [--dir DIR]

Issues NAME.key (mode 0600) and NAME.crt in the CA's directory: an ECDSA P-256 key and a
certificate signed by the CA for TLS servers and clients, valid ${PEER_DAYS} days, for the names
localhost, 127.0.0.1 and ::1 and every --host, and bound to one node id (URI SAN
engram:node:<id>): peers refuse it from any other node. The node id defaults to this machine's
node (the identity in the data directory; created if there is none yet); for another machine,
give its id (engram status shows it there).

Prints the environment for that machine on stdout (the notes go to stderr), so on the machine
itself:  eval "$(engram tls issue laptop --host laptop.local)"

Options:
  --node-id ID       the node the certificate is for (default: this machine's node)
  --host H           a host name or IP address peers use to reach the node; repeatable
  --days N           validity in days (default ${PEER_DAYS})
${DIR_HELP}
  --data-dir DIR     the data directory whose node id is used (default: the configured one)
  --config FILE      configuration file (for the data directory)
  --json             print {name, nodeId, cert, key, ca, notAfter, env}
  -h, --help         this help

Examples:
  engram tls issue laptop --host 10.0.0.4 --host laptop.local
  engram tls issue desktop --node-id 12D3KooWAbc… --host 10.0.0.5

More: docs/TLS.md.
`,
  options: {
    ...COMMON_OPTIONS,
    'node-id': { type: 'string' },
    host: { type: 'string', multiple: true },
    days: { type: 'string' },
    dir: { type: 'string' },
    'data-dir': { type: 'string' },
    config: { type: 'string' },
    json: { type: 'boolean' }
  },
  positionals: { min: 1, max: 1 },
  async run ({ values, positionals }, io) {
    const name = checkName(positionals[0]!)
    const dir = tlsDir(values, io)
    const days = intOption(values, 'days', 'tls issue')
    if (days !== undefined && (days < 1 || days > 3650)) throw USAGE('--days must be from 1 to 3650', 'tls issue')
    const given = str(values, 'node-id')
    // the node identity's code (libp2p's keys) is loaded only by the command that needs it
    const checked = given !== undefined ? (await import('../../node/identity.ts')).parseNodeId(given, '--node-id') : undefined
    const ca = readCa(dir)
    const nodeId = checked ?? await localNodeId(values, io)
    const hosts = (values.host as string[] | undefined) ?? []
    const issued = await issuePeer({
      ca, name, nodeId, hosts,
      ...(days !== undefined ? { notAfter: new Date(Date.now() + days * 86_400_000) } : {})
    })
    const key = join(dir, `${name}.key`)
    const cert = join(dir, `${name}.crt`)
    writeNewFile(key, issued.keyPem, 0o600)
    writeNewFile(cert, issued.certPem, 0o644)
    const caCert = join(dir, CA_CERT_FILE)
    const env = {
      ENGRAM_SYNC_TLS_CERT: cert,
      ENGRAM_SYNC_TLS_KEY: key,
      ENGRAM_SYNC_TLS_CA: caCert,
      ENGRAM_SYNC_REQUIRE_CLIENT_CERT: 'true'
    }
    const notAfter = new X509Certificate(issued.certPem).validToDate.toISOString()
    if (values.json === true) {
      printJson(io, { name, nodeId, cert, key, ca: caCert, hosts: ['localhost', '127.0.0.1', '::1', ...hosts], notAfter, env })
      return EXIT.ok
    }
    io.err(`issued ${cert} and ${key} for node ${nodeId}, valid until ${notAfter}
hosts: localhost, 127.0.0.1, ::1${hosts.map(h => `, ${h}`).join('')}
On that machine (with ${CA_CERT_FILE}, ${name}.crt and ${name}.key copied there, never ${CA_KEY_FILE}), set:
`)
    io.out(Object.entries(env).map(([k, v]) => `export ${k}=${shellQuote(v)}`).join('\n') + '\n')
    return EXIT.ok
  }
}

function readCa (dir: string): { certPem: string, keyPem: string } {
  try {
    return { certPem: readFileSync(join(dir, CA_CERT_FILE), 'utf8'), keyPem: readFileSync(join(dir, CA_KEY_FILE), 'utf8') }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw ABSENT(`no CA in ${dir} (${CA_CERT_FILE} and ${CA_KEY_FILE}): create one with engram tls init --dir ${dir}, or give its directory with --dir`, { dir })
    }
    throw e
  }
}

/** This machine's node id: the identity in the configured data directory (created if absent). */
async function localNodeId (values: Record<string, unknown>, io: CliIo): Promise<string> {
  const dataDir = typeof values['data-dir'] === 'string' ? values['data-dir'] : undefined
  const { config } = loadConfig({ file: typeof values.config === 'string' ? values.config : undefined, env: io.env, flags: dataDir !== undefined ? { dataDir } : {}, cwd: io.cwd })
  ensureDataDir(config.dataDir)
  const { loadOrCreateIdentity } = await import('../../node/identity.ts')
  const identity = await loadOrCreateIdentity(config.dataDir)
  if (identity.created) io.err(`created the node identity of ${config.dataDir} (node ${identity.nodeId})\n`)
  return identity.nodeId
}

const shellQuote = (s: string): string => /^[A-Za-z0-9_./:@%+=,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
