/**
 * Yjs as a benchmark peer (bench/peers/protocol.ts), for the side-by-side run of bench/yjs.ts:
 * y-websocket's own server (`y-websocket/bin/utils` setupWSConnection on a `ws` server) holding
 * the document, or a y-websocket client (WebsocketProvider) that copies it.
 *
 *   node bench/peers/yjs.ts server
 *   node bench/peers/yjs.ts client STATE_FILE [URL]
 *
 * The records are the same triples as engram's (bench/store.ts benchInput), as [subject,
 * predicate, object] entries of one Y.Array: Yjs's most compact form (one run of items from one
 * client, no keys). Yjs keeps its document in memory only; the client saves it to STATE_FILE
 * when it stops and loads it when it starts, so a restarted client resumes from its state
 * vector as a restarted engram node resumes from its cursor. With URL it connects at once;
 * `bytesIn` is the WebSocket payload bytes the client received.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { IncomingMessage } from 'node:http'
import WebSocket, { WebSocketServer } from 'ws'
import { benchInput } from '../store.ts'
import { processFigures, servePeer, until, type Command } from './protocol.ts'

type Row = [string, string, unknown]
const rows = (from: number, n: number): Row[] => Array.from({ length: n }, (_, j) => {
  const x = benchInput(from + j)
  return [x.subject, x.predicate, x.object]
})

const [role, stateFile, url] = process.argv.slice(2) as ['server' | 'client', string | undefined, string | undefined]

if (role === 'server') {
  // y-websocket's server is CommonJS, with the CommonJS build of yjs: one copy of yjs here
  const require = createRequire(import.meta.url)
  const Y = require('yjs') as typeof import('yjs')
  const utils = require('y-websocket/bin/utils') as {
    setupWSConnection: (conn: WebSocket, req: IncomingMessage, opts: { docName: string }) => void
    getYDoc: (name: string) => import('yjs').Doc
  }
  const t0 = performance.now()
  const doc = utils.getYDoc('bench')
  const arr = doc.getArray<Row>('records')
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  wss.on('connection', (conn, req) => { utils.setupWSConnection(conn, req, { docName: 'bench' }) })
  await new Promise<void>(resolve => wss.on('listening', resolve))
  const port = (wss.address() as { port: number }).port
  const write = (from: number, n: number, batch: number): void => {
    for (let i = 0; i < n; i += batch) doc.transact(() => { arr.push(rows(from + i, Math.min(batch, n - i))) })
  }
  void Y
  servePeer(async (cmd: Command) => {
    const c0 = performance.now()
    if (cmd.op === 'fill') write(cmd.from, cmd.n, 10_000)
    else if (cmd.op === 'write') write(cmd.from, cmd.n, cmd.n)
    else if (cmd.op === 'stop') { wss.close(); setImmediate(() => process.exit(0)) }
    return { ms: performance.now() - c0, records: arr.length, bytesIn: 0, ...processFigures() }
  }, { addr: `ws://127.0.0.1:${port}`, startMs: performance.now() - t0, sinceSpawnMs: performance.now() })
} else {
  const Y = await import('yjs')
  const { WebsocketProvider } = await import('y-websocket')
  const t0 = performance.now()
  let bytesIn = 0
  /** ws's WebSocket, counting the payload bytes it receives. */
  class CountingWebSocket extends WebSocket {
    constructor (address: string, protocols?: string | string[]) {
      super(address, protocols)
      this.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
        bytesIn += Array.isArray(data) ? data.reduce((s, b) => s + b.byteLength, 0) : data.byteLength
      })
    }
  }
  const doc = new Y.Doc()
  if (stateFile !== undefined && existsSync(stateFile)) Y.applyUpdate(doc, readFileSync(stateFile))
  const arr = doc.getArray<Row>('records')
  let provider: InstanceType<typeof WebsocketProvider> | undefined
  const connect = (addr: string): void => {
    provider = new WebsocketProvider(addr, 'bench', doc, { WebSocketPolyfill: CountingWebSocket as unknown as typeof globalThis.WebSocket, disableBc: true })
  }
  if (url !== undefined) connect(url)
  servePeer(async (cmd: Command) => {
    const c0 = performance.now()
    switch (cmd.op) {
      case 'connect': connect(cmd.addr); break
      case 'wait': await until(`${cmd.n} records`, cmd.ms ?? 1_200_000, () => arr.length >= cmd.n, f => { arr.observe(f); return () => { arr.unobserve(f) } }); break
      case 'fill': case 'write': doc.transact(() => { arr.push(rows(cmd.from, cmd.n)) }); break
      case 'stats': break
      case 'stop':
        provider?.destroy()
        if (stateFile !== undefined) writeFileSync(stateFile, Y.encodeStateAsUpdate(doc))
        setImmediate(() => process.exit(0))
        break
    }
    return { ms: performance.now() - c0, records: arr.length, bytesIn, ...processFigures() }
  }, { addr: '', startMs: performance.now() - t0, sinceSpawnMs: performance.now() })
}
